// A plugin works with Telegram's types in every method; importing the kit is enough.
@_exported import TelegramBotAPI
@_exported import Logging
