"""Echo bots with python-telegram-bot 22: one Application per token, in one process.

    python ptb_echo.py BASE_URL TOKENS_FILE
"""
import asyncio
import signal
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)


async def main() -> None:
    base_url, tokens_file = sys.argv[1], sys.argv[2]
    tokens = [line.strip() for line in open(tokens_file) if line.strip()]
    applications = []
    for token in tokens:
        application = Application.builder().token(token).base_url(f"{base_url}/bot").build()
        application.add_handler(MessageHandler(filters.TEXT, echo))
        applications.append(application)
    for application in applications:
        await application.initialize()
        await application.start()
        await application.updater.start_polling(timeout=30)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for application in applications:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
