import Logging
import ServiceLifecycle

/// The manifest's lock backend and the journals that go with it, as a service of the
/// host's group: started before the fleet and stopped after it, so the backend (a
/// database connection) closes only once every bot has released its lock.
struct LockService: Service {
    let tokenLock: any TokenLock
    let journals: any JournalStorage

    /// The backend `manifest` names; throws `LockDatabase.Problem` for a lock database URL
    /// that cannot be used.
    init(for manifest: Manifest, environment: HostEnvironment) throws {
        switch manifest.lock {
        case .file(let directory):
            tokenLock = FileTokenLock(directory: directory)
        case .postgres(let url, let passwordFile):
            let database = try LockDatabase(url: url, passwordFile: passwordFile, environment: environment.variables)
            tokenLock = PostgresTokenLock(database: database, timing: environment.lockSessionTiming, logger: environment.logger)
        }
        journals = try SQLiteJournalStorage(directory: manifest.stateDirectory)
    }

    func run() async {
        try? await gracefulShutdown()
        await tokenLock.shutdown()
    }
}
