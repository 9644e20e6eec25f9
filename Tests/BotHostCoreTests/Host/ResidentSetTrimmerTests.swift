import Foundation
import Glibc
import Synchronization
import Testing

@testable import BotHostCore

/// The release of file pages drops the executable's code from the resident set, and takes
/// only the segments that hold nothing but the file's bytes.
@Suite struct ResidentSetTrimmerTests {
    static let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))

    @Test func theExecutablesCodeLeavesTheResidentSetAndRunsOn() throws {
        let code = try #require(Self.executableCode())
        // No look at how much is resident now: a release by another test (the trimmer that
        // hosts started in this process use) may come at any moment, only ever lowering it.
        Self.makeResident(code)

        ResidentSetTrimmer.releaseFilePages()

        // What runs meanwhile (this test, the other tests' threads) maps some back.
        let after = try #require(Self.residentKiB(of: code.lowerBound))
        #expect(after.resident < after.size / 2, "\(after.resident) KiB of \(after.size) KiB resident")
    }

    /// As a debugger's breakpoint: a page of code written, here with the byte it held.
    /// Released, it would come back from the file without what was written.
    @Test func aPrivateCopyOfAPageOfCodeIsKept() throws {
        let code = try #require(Self.executableCode())
        let page = (code.lowerBound + UInt(code.count / 2)) / Self.pageSize * Self.pageSize
        let pointer = try #require(UnsafeMutableRawPointer(bitPattern: page))
        try ResidentSetTrimmer.releasing.withLock { _ in
            try #require(mprotect(pointer, Int(Self.pageSize), PROT_READ | PROT_WRITE | PROT_EXEC) == 0)
            pointer.storeBytes(of: pointer.load(as: UInt8.self), as: UInt8.self)
            try #require(mprotect(pointer, Int(Self.pageSize), PROT_READ | PROT_EXEC) == 0)
        }
        #expect(Self.isPrivateCopy(page))

        ResidentSetTrimmer.releaseFilePages()

        #expect(Self.isPrivateCopy(page))
    }

    @Test func onlyWholePagesOfReadOnlySegmentsOutsideRELROAreReleasable() {
        let base: UInt = 0x5555_0000_0000
        let headers = [
            Self.header(PT_PHDR, flags: PF_R, at: 0x40, size: 0x2d8),
            // Read-only data, then code, each starting and ending within a page.
            Self.header(PT_LOAD, flags: PF_R, at: 0, size: 0x5_a5a0),
            Self.header(PT_LOAD, flags: PF_R | PF_X, at: 0x6_65a0, size: 0x30_0123),
            // The data the dynamic linker relocates (RELRO), then the rest of the data.
            Self.header(PT_LOAD, flags: PF_R | PF_W, at: 0x37_0000, size: 0x2_0000),
            Self.header(PT_GNU_RELRO, flags: PF_R, at: 0x37_0000, size: 0x1_8000),
            // Read-only, but the RELRO range reaches into it.
            Self.header(PT_LOAD, flags: PF_R, at: 0x38_0000, size: 0x1_0000),
            Self.header(PT_DYNAMIC, flags: PF_R | PF_W, at: 0x37_2000, size: 0x200),
        ]
        #expect(
            ResidentSetTrimmer.releasableRanges(of: headers, loadedAt: base, pageSize: 0x1000, hasTextRelocations: false) == [
                base..<(base + 0x5_a000), (base + 0x6_7000)..<(base + 0x36_6000),
            ])
        #expect(
            ResidentSetTrimmer.releasableRanges(of: headers, loadedAt: base, pageSize: 0x1000, hasTextRelocations: true)
                .isEmpty)
    }

    static func header(_ type: Int32, flags: Int32, at address: UInt64, size: UInt64) -> Elf64_Phdr {
        Elf64_Phdr(
            p_type: UInt32(type), p_flags: UInt32(flags), p_offset: address, p_vaddr: address, p_paddr: address,
            p_filesz: size, p_memsz: size, p_align: 0x1000)
    }

    /// Reads every page of `range`, which makes each resident.
    static func makeResident(_ range: Range<UInt>) {
        var sum: UInt8 = 0
        for offset in stride(from: 0, to: range.count, by: Int(pageSize)) {
            sum &+= UnsafeRawPointer(bitPattern: range.lowerBound)!.load(fromByteOffset: offset, as: UInt8.self)
        }
        withExtendedLifetime(sum) {}
    }

    /// Whether `/proc/self/pagemap` shows the page at `address` present and not the file's
    /// (bit 63 set, bit 61 clear), or swapped out (bit 62).
    static func isPrivateCopy(_ address: UInt) -> Bool {
        let descriptor = open("/proc/self/pagemap", O_RDONLY)
        defer { close(descriptor) }
        var entry: UInt64 = 0
        guard pread(descriptor, &entry, 8, off_t(address / pageSize) * 8) == 8 else { return false }
        return entry & (1 << 62) != 0 || (entry & (1 << 63) != 0 && entry & (1 << 61) == 0)
    }

    /// The executable's code: its first mapping that may execute, from `/proc/self/maps`.
    static func executableCode() -> Range<UInt>? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        for line in procFile("/proc/self/maps").split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5...].joined(separator: " ") == executable else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
            return bounds.count == 2 ? bounds[0]..<bounds[1] : nil
        }
        return nil
    }

    /// The `Size:` and `Rss:` of the mapping that starts at `start`, in KiB, from
    /// `/proc/self/smaps` (one entry: another test's `mprotect` may split the mapping).
    static func residentKiB(of start: UInt) -> (size: Int, resident: Int)? {
        let prefix = String(start, radix: 16) + "-"
        var inMapping = false
        var size: Int?
        for line in procFile("/proc/self/smaps").split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A mapping's first line: `start-end perms offset device inode [path]`.
            if fields.count >= 5, fields[0].contains("-") {
                inMapping = fields[0].hasPrefix(prefix)
            } else if inMapping, fields.first == "Size:", fields.count >= 2 {
                size = Int(fields[1])
            } else if inMapping, fields.first == "Rss:", fields.count >= 2, let size, let resident = Int(fields[1]) {
                return (size, resident)
            }
        }
        return nil
    }

    /// A file of /proc read to its end (it has no size for Foundation to read by).
    static func procFile(_ path: String) -> String {
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        return String(decoding: readBytes(from: descriptor, limit: 64 * 1024 * 1024), as: UTF8.self)
    }
}
