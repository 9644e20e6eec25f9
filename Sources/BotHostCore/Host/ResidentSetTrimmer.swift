import Glibc
import Synchronization

/// Hands back to the kernel the resident memory that the process no longer uses, a while
/// after it was let go of: the C heap's free pages, and the pages of code and constants
/// that start-up read from the executable and its libraries.
///
/// glibc keeps what `free` returns for the next `malloc`, and gives pages back only from
/// the top of a heap. Caches freed in the middle of it (a thousand journals' page caches,
/// 86 KiB each, each allocated between other bots' memory) stay resident: measured with
/// 500 bots in a worker, 45 MiB of its 168 MiB was free memory held this way.
/// `malloc_trim` walks the heaps and releases every free page.
///
/// The kernel keeps every page of a mapped file that a process touched in its resident
/// set until memory runs short. Start-up (parsing the manifest and the arguments, opening
/// journals, starting plugins) touches about 35 MiB of the binary and the Swift and
/// Foundation libraries, of which an idle bot's polling uses 5 to 13 MiB; the rest stayed
/// resident in every process of the host: 190 MiB summed over the supervisor and two
/// workers of 1,000 idle polling bots, 119 MiB once released. The release drops those
/// pages from the process's page tables (`MADV_DONTNEED`) in its read-only file mappings;
/// they stay in the kernel's page cache, and the next use maps a page again without
/// reading the disk (a minor fault, about a microsecond).
///
/// A trim takes milliseconds (the file pages' release reads `/proc/self/smaps`, which is
/// megabytes long in a worker of thousands of bots, each journal a mapping), so requests
/// that come close together are gathered into one.
final class ResidentSetTrimmer: Sendable {
    /// One for the process: the heap and the mappings are the process's.
    static let shared = ResidentSetTrimmer(delay: .seconds(5))

    /// What a trim hands back.
    struct Parts: OptionSet, Sendable {
        let rawValue: UInt8
        /// The C heap's free pages: asked for when memory was let go of (a journal closed).
        static let heap = Parts(rawValue: 1)
        /// The file pages that start-up touched: asked for when start-up's work is done (a
        /// bot started, the supervisor placed its bots after a start or a reload).
        static let filePages = Parts(rawValue: 2)
    }

    /// How long a trim waits after the first request, gathering the requests that follow.
    private let delay: Duration
    /// The parts asked for since the last trim; `nil` when none is scheduled.
    private let scheduled = Mutex<Parts?>(nil)

    private init(delay: Duration) {
        self.delay = delay
    }

    /// Asks for a trim of `parts`: one runs ``delay`` after the first request since the
    /// last trim, with the parts of every request in between.
    func trimSoon(_ parts: Parts) {
        let first = scheduled.withLock { scheduled in
            defer { scheduled = (scheduled ?? []).union(parts) }
            return scheduled == nil
        }
        guard first else { return }
        // Owned by the trimmer: it ends after its one trim.
        Task { [self] in
            try? await Task.sleep(for: delay)
            let parts = scheduled.withLock { scheduled in
                defer { scheduled = nil }
                return scheduled ?? []
            }
            if parts.contains(.heap) { Self.trimHeap() }
            if parts.contains(.filePages) { Self.releaseFilePages() }
        }
    }

    private static func trimHeap() {
        // glibc's `malloc_trim`, which no Swift module declares; other C libraries lack it.
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }

    /// Drops from the page tables every page of the process's read-only file mappings that
    /// holds nothing of the process's own (``releasableMappings(in:)``).
    static func releaseFilePages() {
        // Read to its end: a file of /proc has no size, and Foundation's
        // `String(contentsOfFile:)` stops after its first read (the first 4 KiB).
        let descriptor = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        let smaps = readBytes(from: descriptor, limit: 256 * 1024 * 1024)
        close(descriptor)
        for range in releasableMappings(in: smaps) {
            // A mapping that cannot be released (locked, a device's) refuses with `EINVAL`
            // and stays as it is.
            _ = madvise(UnsafeMutableRawPointer(bitPattern: range.lowerBound), range.count, MADV_DONTNEED)
        }
    }

    /// The address ranges of the read-only file mappings with no anonymous pages, from the
    /// text of `/proc/self/smaps`.
    ///
    /// A mapping that was written before it was made read-only (the relocated constants of
    /// the dynamic linker's RELRO, a debugger's breakpoint) holds private copies that
    /// `MADV_DONTNEED` would replace with the file's contents: it is left out.
    ///
    /// Read byte by byte: a worker's smaps is about 800 bytes for each of its thousands of
    /// journals, and splitting it into strings took 200 ms.
    static func releasableMappings(in smaps: [UInt8]) -> [Range<UInt>] {
        var ranges: [Range<UInt>] = []
        var candidate: Range<UInt>?
        var lineStart = smaps.startIndex
        while lineStart < smaps.endIndex {
            let lineEnd = smaps[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? smaps.endIndex
            let line = smaps[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            // A mapping's first line, `start-end perms offset device inode [path]`, starts
            // with a lowercase hexadecimal digit; its fields' lines with a capital letter.
            if let first = line.first,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(first)
            {
                let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 5)
                guard fields.count >= 5, let range = addressRange(fields[0]) else {
                    candidate = nil
                    continue
                }
                let readOnly = !fields[1].contains(UInt8(ascii: "w"))
                let fileBacked = !fields[4].elementsEqual("0".utf8)
                candidate = readOnly && fileBacked ? range : nil
            } else if let range = candidate, line.starts(with: "Anonymous:".utf8) {
                candidate = nil
                let fields = line.split(separator: UInt8(ascii: " "))
                if fields.count >= 2, fields[1].elementsEqual("0".utf8) { ranges.append(range) }
            }
        }
        return ranges
    }

    /// `start-end` in hexadecimal, as smaps writes a mapping's addresses.
    private static func addressRange(_ field: ArraySlice<UInt8>) -> Range<UInt>? {
        let bounds = field.split(separator: UInt8(ascii: "-"))
        guard bounds.count == 2, let start = UInt(String(decoding: bounds[0], as: UTF8.self), radix: 16),
            let end = UInt(String(decoding: bounds[1], as: UTF8.self), radix: 16), start < end
        else { return nil }
        return start..<end
    }
}
