import BotHostCore
import Counter
import Greeter

// `my-bots run bots.yaml`, `my-bots validate bots.yaml`, ...: the whole bothost CLI,
// hosting this package's plugins.
await BotHost.main(plugins: [Greeter.self, Counter.self])
