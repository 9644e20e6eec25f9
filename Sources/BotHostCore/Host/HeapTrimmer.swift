import Glibc
import Synchronization

/// Hands the C heap's free pages back to the kernel, a while after memory was let go of.
///
/// glibc keeps what `free` returns for the next `malloc`, and gives pages back only from
/// the top of a heap. Caches freed in the middle of it (a thousand journals' page caches,
/// 86 KiB each, each allocated between other bots' memory) stay resident: measured with
/// 500 bots in a worker, 45 MiB of its 168 MiB was free memory held this way.
/// `malloc_trim` walks the heaps and releases every free page; it takes a few
/// milliseconds, so calls that come close together are gathered into one.
final class HeapTrimmer: Sendable {
    /// One for the process: the heap is the process's.
    static let shared = HeapTrimmer(delay: .seconds(5))

    /// How long a trim waits after the first request, gathering the requests that follow.
    private let delay: Duration
    private let scheduled = Mutex(false)

    private init(delay: Duration) {
        self.delay = delay
    }

    /// Asks for a trim: one runs ``delay`` after the first request since the last trim.
    func trimSoon() {
        let first = scheduled.withLock { scheduled in
            defer { scheduled = true }
            return !scheduled
        }
        guard first else { return }
        // Owned by the trimmer: it ends after its one trim.
        Task { [self] in
            try? await Task.sleep(for: delay)
            scheduled.withLock { $0 = false }
            Self.trimHeap()
        }
    }

    private static func trimHeap() {
        // glibc's `malloc_trim`, which no Swift module declares; other C libraries lack it.
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }
}
