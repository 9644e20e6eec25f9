// What a plugin works with in every method, so that importing the kit is enough: the Bot
// API's client, models and errors, and the logger. Chosen symbols, not whole modules.
@_exported import struct Logging.Logger
@_exported import class TelegramBotAPI.BotAPIClient
@_exported import enum TelegramBotAPI.BotAPIError
@_exported import struct TelegramBotAPI.BotToken
@_exported import struct TelegramBotAPI.CallbackQuery
@_exported import struct TelegramBotAPI.Chat
@_exported import enum TelegramBotAPI.ChatID
@_exported import enum TelegramBotAPI.JSONValue
@_exported import struct TelegramBotAPI.Message
@_exported import struct TelegramBotAPI.Update
@_exported import struct TelegramBotAPI.User
@_exported import struct TelegramBotAPI.WebhookInfo
