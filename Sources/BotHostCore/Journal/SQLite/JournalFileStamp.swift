import Glibc

/// The sizes and modification times (nanoseconds) of a journal's file and its `-wal`: two
/// equal stamps mean that no connection, of this process or another (`bothost
/// dead-letters`), committed a write in between.
///
/// The housekeeping of an idle bot asks its journal every few seconds whether dead letters
/// were handed back and how many entries it holds; comparing stamps answers that with two
/// `stat` calls, where a query would wake a thread (for a thousand bots, a few percent of a
/// core).
///
/// A missing `-wal` and an empty one hold the same: none of them a write. So they stamp
/// alike, and a connection that opens again after an idle close (creating an empty
/// `-wal`) changes no stamp.
struct JournalFileStamp: Equatable {
    private var parts: [Int64] = []

    init(path: String) {
        for file in [path, path + "-wal"] {
            guard let info = FileStatus.of(path: file), info.st_size > 0 else {
                parts.append(0)
                continue
            }
            parts += [Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec)]
        }
    }
}
