import Logging
import ServiceLifecycle

/// The manifest's lock backend and the journals that go with it, as a service of the
/// host's group: started before the fleet and stopped after it, so the backend (database
/// connections) closes only once every bot has closed its journal and released its lock.
struct LockService: Service {
    let tokenLock: any TokenLock
    let journals: any JournalStorage

    /// The backend `manifest` names; throws `LockDatabase.Problem` for a lock database URL
    /// that cannot be used, and ``JournalError`` for a `state_dir` that cannot hold the
    /// file backend's journals. In a worker process the supervisor holds the locks
    /// (`delegated`), and only the journals are the backend's.
    init(for manifest: Manifest, environment: HostEnvironment, delegatedTo delegated: DelegatedTokenLock? = nil) throws {
        switch manifest.lock {
        case .file(let directory):
            tokenLock = delegated ?? FileTokenLock(directory: directory)
            journals = try SQLiteJournalStorage(directory: manifest.stateDirectory)
        case .postgres(let url, let passwordFile):
            let database = try LockDatabase(url: url, passwordFile: passwordFile, environment: environment.variables)
            tokenLock =
                delegated
                ?? PostgresTokenLock(database: database, timing: environment.lockSessionTiming, logger: environment.logger)
            // In the lock database, so that a standby taking a bot over continues its journal.
            journals = PostgresJournalStorage(database: database, logger: environment.logger)
        }
    }

    func run() async {
        try? await gracefulShutdown()
        await journals.shutdown()
        await tokenLock.shutdown()
    }
}
