"""Echo bots with aiogram 3, as its docs show: one Dispatcher polling every token.

    python aiogram_echo.py BASE_URL TOKENS_FILE
"""
import asyncio
import sys

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

dp = Dispatcher()


@dp.message()
async def echo(message: Message) -> None:
    if message.text:
        await message.answer(message.text)


async def main() -> None:
    base_url, tokens_file = sys.argv[1], sys.argv[2]
    tokens = [line.strip() for line in open(tokens_file) if line.strip()]
    server = TelegramAPIServer.from_base(base_url)
    # One session per bot, as `Bot(token)` makes by default: a shared session's
    # connection pool (100) would starve long polls past the 100th bot.
    bots = [Bot(token, session=AiohttpSession(api=server)) for token in tokens]
    await dp.start_polling(*bots, handle_signals=True, close_bot_session=True)


if __name__ == "__main__":
    asyncio.run(main())
