// A plugin's test file needs only `import BotHostTesting`: the kit (and with it the whole
// Bot API and the settings types) comes along.
@_exported import BotHostKit

// What the harness reports the plugin sent.
@_exported import struct BotAPIEmulator.RecordedCall
@_exported import struct BotAPIEmulator.RecordedFile
@_exported import struct BotAPIEmulator.SentMessage
// A plugin's tests control time and read logs with these; importing the harness is enough.
@_exported import class TestSupport.LogCapture
@_exported import class TestSupport.ManualClock
