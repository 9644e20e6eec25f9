import Glibc

/// The journals of the file lock backend: one SQLite file per bot in `state_dir`, named
/// `<lock id>.journal` like the bot's lock file (never after the token).
package struct SQLiteJournalStorage: JournalStorage {
    package let directory: String

    /// Checks that `directory` is private to this user (mode 0700, owned by the user, not a
    /// symlink), creating it when missing. Throws ``JournalError/unusableDirectory(path:_:)``.
    package init(directory: String) throws(JournalError) {
        let privateDirectory = PrivateDirectory(path: directory)
        do {
            close(try privateDirectory.openVerified())
        } catch {
            switch error {
            case .unsafe(let path, let problem): throw .unusableDirectory(path: path, problem)
            case .systemCallFailed(let call, let path, let code):
                throw .unusableDirectory(path: path, "\(call): \(String(cString: strerror(code)))")
            }
        }
        self.directory = privateDirectory.path
    }

    package func path(of bot: LockID) -> String {
        PrivateDirectory(path: directory).filePath("\(bot.hex).journal")
    }

    package func journal(for lock: any HeldTokenLock) async throws(JournalError) -> any UpdateJournal {
        try SQLiteJournal(path: path(of: lock.id))
    }

    package func deadLetters(of bot: LockID) async throws(JournalError) -> (any DeadLetterStore)? {
        let path = path(of: bot)
        guard access(path, F_OK) == 0 else { return nil }
        return try SQLiteJournal(path: path)
    }
}
