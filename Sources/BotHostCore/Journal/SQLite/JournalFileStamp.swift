import Glibc

/// The sizes and modification times (nanoseconds) of a journal's file and its `-wal`: two
/// equal stamps mean that no connection, of this process or another (`bothost
/// dead-letters`), committed a write in between.
///
/// The housekeeping of an idle bot asks its journal every 30 s whether dead letters
/// were handed back and how many entries it holds; comparing stamps answers that with two
/// `stat` calls, where a query would wake a thread (for a thousand bots, a few percent of a
/// core).
///
/// A missing `-wal` and an empty one hold the same: none of them a write. So they stamp
/// alike, and a connection that opens again after an idle close (creating an empty
/// `-wal`) changes no stamp.
struct JournalFileStamp: Equatable {
    private let file: FilePart
    private let wal: FilePart

    /// One file's part of the stamp; all zero for a file that is missing or empty.
    /// Plain fields, not an array, which allocated and grew at every stamp: ten thousand
    /// idle bots take about 670 stamps a second.
    private struct FilePart: Equatable {
        var size: Int64 = 0
        var seconds: Int64 = 0
        var nanoseconds: Int64 = 0

        init(path: String) {
            guard let info = FileStatus.of(path: path), info.st_size > 0 else { return }
            (size, seconds, nanoseconds) = (Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec))
        }
    }

    init(path: String) {
        file = FilePart(path: path)
        wal = FilePart(path: path + "-wal")
    }
}
