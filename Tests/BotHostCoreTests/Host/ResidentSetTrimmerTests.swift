import Foundation
import Glibc
import Testing

@testable import BotHostCore

/// The release of file pages drops what a read-only file mapping has resident, and never
/// what the process wrote into a private mapping.
@Suite struct ResidentSetTrimmerTests {
    static let pageCount = 256
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    @Test func aReadOnlyFileMappingLeavesTheResidentSetAndReadsTheSame() async throws {
        try await withTemporaryDirectory { directory in
            let mapping = try Self.mapFile(in: directory, protection: PROT_READ)
            defer { munmap(mapping, Self.pageCount * Self.pageSize) }
            #expect(Self.checksum(mapping) == Self.fileChecksum)
            #expect(Self.residentKiB(of: mapping) == Self.pageCount * Self.pageSize / 1024)

            ResidentSetTrimmer.releaseFilePages()

            #expect(Self.residentKiB(of: mapping) == 0)
            #expect(Self.checksum(mapping) == Self.fileChecksum)
        }
    }

    /// As the dynamic linker's RELRO: written, then made read-only. Its private copies are
    /// what the process reads; releasing them would bring back the file's bytes.
    @Test func aMappingWrittenBeforeItWasMadeReadOnlyKeepsWhatWasWritten() async throws {
        try await withTemporaryDirectory { directory in
            let mapping = try Self.mapFile(in: directory, protection: PROT_READ | PROT_WRITE)
            defer { munmap(mapping, Self.pageCount * Self.pageSize) }
            for page in 0..<Self.pageCount { mapping.storeBytes(of: 0xAB, toByteOffset: page * Self.pageSize, as: UInt8.self) }
            let written = Self.checksum(mapping)
            #expect(written != Self.fileChecksum)
            #expect(mprotect(mapping, Self.pageCount * Self.pageSize, PROT_READ) == 0)

            ResidentSetTrimmer.releaseFilePages()

            #expect(Self.checksum(mapping) == written)
        }
    }

    @Test func onlyReadOnlyFileMappingsWithoutAnonymousPagesAreReleasable() {
        let smaps = """
            55d0c0a00000-55d0c1000000 r-xp 00200000 fe:00 1234                       /usr/bin/bothost
            Size:               6144 kB
            Anonymous:             0 kB
            VmFlags: rd ex mr mw me dw sd
            55d0c1000000-55d0c1200000 r--p 00800000 fe:00 1234                       /usr/bin/bothost
            Anonymous:           512 kB
            55d0c1200000-55d0c1210000 rw-p 00a00000 fe:00 1234                       /usr/bin/bothost
            Anonymous:            64 kB
            7f0000000000-7f0000021000 rw-p 00000000 00:00 0
            Anonymous:           132 kB
            7f0000100000-7f0000108000 rw-s 00000000 fe:00 99                         /state/bot.journal-shm
            Anonymous:             0 kB
            7f0000200000-7f0000300000 r--p 00000000 fe:00 77                         /usr/lib/libicudata.so (deleted)
            Rss:                 256 kB
            Anonymous:             0 kB
            7ffd00000000-7ffd00002000 r--p 00000000 00:00 0                          [vvar]
            Anonymous:             0 kB

            """
        #expect(
            ResidentSetTrimmer.releasableMappings(in: Array(smaps.utf8)) == [
                0x55d0_c0a0_0000..<0x55d0_c100_0000, 0x7f00_0020_0000..<0x7f00_0030_0000,
            ])
    }

    /// The sum of the file's bytes, one per page, as ``mapFile(in:protection:)`` writes them.
    static let fileChecksum = (0..<pageCount).reduce(0) { $0 + $1 % 251 }

    /// Maps a file of ``pageCount`` pages privately, each page starting with its number
    /// modulo 251.
    static func mapFile(in directory: String, protection: Int32) throws -> UnsafeMutableRawPointer {
        var bytes = [UInt8](repeating: 0, count: pageCount * pageSize)
        for page in 0..<pageCount { bytes[page * pageSize] = UInt8(page % 251) }
        let path = directory + "/mapped"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let mapping = mmap(nil, bytes.count, protection, MAP_PRIVATE, descriptor, 0)
        guard let mapping, mapping != MAP_FAILED else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        return mapping
    }

    /// Reads the first byte of every page, which makes each resident.
    static func checksum(_ mapping: UnsafeMutableRawPointer) -> Int {
        (0..<pageCount).reduce(0) { $0 + Int(mapping.load(fromByteOffset: $1 * pageSize, as: UInt8.self)) }
    }

    /// The `Rss:` of the mapping that starts at `mapping`, in KiB, from `/proc/self/smaps`.
    static func residentKiB(of mapping: UnsafeMutableRawPointer) -> Int? {
        let descriptor = open("/proc/self/smaps", O_RDONLY)
        defer { close(descriptor) }
        let start = String(UInt(bitPattern: mapping), radix: 16) + "-"
        var inMapping = false
        for line in String(decoding: readBytes(from: descriptor, limit: 64 * 1024 * 1024), as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // A mapping's first line: `start-end perms offset device inode [path]`.
            if fields.count >= 5, fields[0].contains("-") {
                inMapping = fields[0].hasPrefix(start)
            } else if inMapping, fields.first == "Rss:", fields.count >= 2 {
                return Int(fields[1])
            }
        }
        return nil
    }
}
