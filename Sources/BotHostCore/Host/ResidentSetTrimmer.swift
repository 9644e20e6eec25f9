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
/// resident in every process of the host: about 190 MiB of RSS summed over the supervisor
/// and two workers of 1,000 idle polling bots, about 125 MiB once released. The release
/// drops those pages from the process's page tables (`MADV_DONTNEED`); they stay in the
/// kernel's page cache (and in the memory a cgroup is charged with) until the kernel
/// needs the room, and a page used again is mapped back from there (a minor fault), or
/// read from the disk if the kernel has reclaimed it meanwhile.
///
/// A trim takes a few milliseconds, so requests that come close together are gathered
/// into one.
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

    /// Drops from the page tables the pages of the read-only segments (code, constants) of
    /// the executable and the libraries it loaded
    /// (``releasableRanges(of:loadedAt:pageSize:hasTextRelocations:)``) that map the file's
    /// own pages (``releaseFilePages(in:pagemap:pageSize:)``).
    ///
    /// The segments come from the dynamic linker (`dl_iterate_phdr`), and the release runs
    /// in its callback, which holds the linker's lock: no object listed can be unloaded
    /// (unmapped) meanwhile, so every range is still the segment it was read as. (A list
    /// of mappings read beforehand, as `/proc/self/smaps`, could name a range unmapped and
    /// reused for the heap by then.) An object may be listed while it is still being
    /// loaded; its read-only segments are not written then either.
    static func releaseFilePages() {
        releasing.withLock { _ in releaseLoadedFilePages() }
    }

    /// Held by a release: one runs at a time, and a test that writes a page of code holds
    /// it so that no release reads the page before the write and releases it after.
    static let releasing = Mutex(())

    private static func releaseLoadedFilePages() {
        #if _pointerBitWidth(_64)
        let pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard pagemap >= 0 else { return }
        defer { close(pagemap) }
        var context = LoadedObjects.Context(pagemap: pagemap, pageSize: UInt(sysconf(Int32(_SC_PAGESIZE))))
        _ = LoadedObjects.iterate(context: &context) { object, size, context in
            guard let object, let context, size >= MemoryLayout<LoadedObjects.Info>.size else { return 0 }
            let info = object.assumingMemoryBound(to: LoadedObjects.Info.self).pointee
            let settings = context.assumingMemoryBound(to: LoadedObjects.Context.self).pointee
            // The executable (no name) and libraries loaded from a file; not the vDSO.
            guard let name = info.name, name.pointee == 0 || name.pointee == UInt8(ascii: "/") else { return 0 }
            let headers = UnsafeBufferPointer(start: info.headers, count: Int(info.headerCount))
            let ranges = ResidentSetTrimmer.releasableRanges(
                of: headers, loadedAt: UInt(info.address), pageSize: settings.pageSize,
                hasTextRelocations: LoadedObjects.hasTextRelocations(headers, loadedAt: UInt(info.address)))
            for range in ranges {
                ResidentSetTrimmer.releaseFilePages(in: range, pagemap: settings.pagemap, pageSize: settings.pageSize)
            }
            return 0
        }
        #endif
    }

    /// Releases the pages of `range` (page-aligned) that are the file's, skipping each
    /// page that is a private copy, as `/proc/self/pagemap` tells: present but not a file
    /// page (a debugger's or uprobe's breakpoint, code copied into anonymous memory for
    /// huge pages), or swapped out. `MADV_DONTNEED` would replace those with the file's
    /// bytes, or zeros.
    static func releaseFilePages(in range: Range<UInt>, pagemap: Int32, pageSize: UInt) {
        // pagemap: 8 bytes a page; bit 63 present, 62 swapped, 61 a file page.
        let present: UInt64 = 1 << 63
        let swapped: UInt64 = 1 << 62
        let filePage: UInt64 = 1 << 61
        let batch = 512
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: batch) { entries in
            var run: UInt?
            func release(upTo end: UInt) {
                if let start = run, start < end {
                    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), Int(end - start), MADV_DONTNEED)
                }
                run = nil
            }
            var page = range.lowerBound / pageSize
            let endPage = range.upperBound / pageSize
            while page < endPage {
                let count = min(UInt(batch), endPage - page)
                let bytes = Int(count) * MemoryLayout<UInt64>.size
                guard pread(pagemap, entries.baseAddress, bytes, off_t(page) * off_t(MemoryLayout<UInt64>.size)) == bytes
                else { break }
                for index in 0..<Int(count) {
                    let entry = entries[index]
                    let address = (page + UInt(index)) * pageSize
                    let privateCopy = entry & swapped != 0 || (entry & present != 0 && entry & filePage == 0)
                    if privateCopy {
                        release(upTo: address)
                    } else if run == nil {
                        run = address
                    }
                }
                page += count
                // Each batch released as soon as it was read: a page that becomes a private
                // copy after its entry was read (a breakpoint set right then) would be lost,
                // and this keeps that moment short, though it cannot close it.
                release(upTo: page * pageSize)
            }
            release(upTo: page * pageSize)
        }
    }

    /// The whole pages of an object's segments that are loaded read-only and hold only
    /// the file's bytes: `PT_LOAD` segments without write permission, outside the
    /// `PT_GNU_RELRO` range (written by the dynamic linker before it was made read-only),
    /// up to their size in the file; none for an object with text relocations, whose code
    /// the dynamic linker wrote.
    static func releasableRanges(
        of headers: some Collection<Elf64_Phdr>, loadedAt base: UInt, pageSize: UInt, hasTextRelocations: Bool
    ) -> [Range<UInt>] {
        guard !hasTextRelocations else { return [] }
        let written = headers.filter { $0.p_type == UInt32(PT_GNU_RELRO) }.map { header in
            (base + UInt(header.p_vaddr))..<(base + UInt(header.p_vaddr + header.p_memsz))
        }
        return headers.compactMap { header in
            guard header.p_type == UInt32(PT_LOAD), header.p_flags & UInt32(PF_W) == 0 else { return nil }
            let segmentStart = base + UInt(header.p_vaddr)
            // Whole pages only: a page the segment shares with another is left alone.
            let start = (segmentStart + pageSize - 1) / pageSize * pageSize
            let end = (segmentStart + UInt(header.p_filesz)) / pageSize * pageSize
            guard start < end, !written.contains(where: { $0.overlaps(start..<end) }) else { return nil }
            return start..<end
        }
    }
}

/// What Swift's Glibc module leaves out of `<link.h>` and `<sys/auxv.h>` (declared only
/// with `_GNU_SOURCE`): the loaded objects' program headers, as 64-bit glibc lays them out.
private enum LoadedObjects {
    /// The first fields of glibc's `struct dl_phdr_info`, in its layout.
    struct Info {
        var address: Elf64_Addr
        var name: UnsafePointer<UInt8>?
        var headers: UnsafePointer<Elf64_Phdr>?
        var headerCount: Elf64_Half
    }

    /// What ``ResidentSetTrimmer/releaseFilePages()`` hands its visit.
    struct Context {
        var pagemap: Int32
        var pageSize: UInt
    }

    typealias Visit = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32

    /// `dl_iterate_phdr(visit, context)`: `visit` sees every loaded object, under the
    /// dynamic linker's lock.
    static func iterate(context: inout Context, _ visit: Visit) -> Int32 {
        guard let symbol = dlsym(nil, "dl_iterate_phdr") else { return -1 }
        let iterate = unsafeBitCast(symbol, to: (@convention(c) (Visit, UnsafeMutableRawPointer?) -> Int32).self)
        return withUnsafeMutablePointer(to: &context) { iterate(visit, UnsafeMutableRawPointer($0)) }
    }

    /// Whether the object's dynamic section asks for text relocations (`DT_TEXTREL`, or
    /// `DF_TEXTREL` in `DT_FLAGS`).
    static func hasTextRelocations(_ headers: UnsafeBufferPointer<Elf64_Phdr>, loadedAt base: UInt) -> Bool {
        guard let dynamic = headers.first(where: { $0.p_type == UInt32(PT_DYNAMIC) }),
            var entry = UnsafePointer<Elf64_Dyn>(bitPattern: base + UInt(dynamic.p_vaddr))
        else { return false }
        while entry.pointee.d_tag != Int64(DT_NULL) {
            if entry.pointee.d_tag == Int64(DT_TEXTREL) { return true }
            if entry.pointee.d_tag == Int64(DT_FLAGS), entry.pointee.d_un.d_val & UInt64(DF_TEXTREL) != 0 { return true }
            entry += 1
        }
        return false
    }
}
