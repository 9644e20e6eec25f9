import AutoPoster
import BotHostCore
import Chaos
import DocsObserver
import Echo

await BotHost.main(plugins: [Echo.self, AutoPoster.self, DocsObserver.self, Chaos.self])
