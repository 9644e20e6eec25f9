// A plugin's tests control time and read logs with these; importing the harness is enough.
@_exported import class TestSupport.LogCapture
@_exported import class TestSupport.ManualClock
