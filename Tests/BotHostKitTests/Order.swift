import Synchronization

/// What a test's callbacks saw, in the order they saw it, from whichever task.
final class Order: Sendable {
    private let names = Mutex<[String]>([])
    func append(_ name: String) { names.withLock { $0.append(name) } }
    var all: [String] { names.withLock { $0 } }
}
