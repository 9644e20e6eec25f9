import Hummingbird
import NIOCore

/// A call to the emulator, with its connection: a waiting long poll watches it for the
/// client going away (``InboundCloseWatcher``).
struct EmulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
