@_exported import TelegramBotAPI

// What a plugin works with in every method, so that importing the kit is enough: the Bot
// API (its client, every type and method of the spec, errors) and the logger. The Bot API
// is exported whole: a plugin may need any of its 359 types (keyboards, media, members),
// and a chosen list would fall behind the generated sources.
@_exported import struct Logging.Logger
