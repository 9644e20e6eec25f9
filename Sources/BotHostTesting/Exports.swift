// What the harness reports the plugin sent.
@_exported import struct BotAPIEmulator.RecordedCall
@_exported import struct BotAPIEmulator.RecordedFile
@_exported import struct BotAPIEmulator.SentMessage
// A plugin's tests control time and read logs with these; importing the harness is enough.
@_exported import class TestSupport.LogCapture
@_exported import class TestSupport.ManualClock
