/// Where a host runs its bots' plugin code, which follows from `isolation.mode`.
package enum HostRole: Sendable {
    /// In this process (`isolation: { mode: none }`, and the tests' in-process hosts).
    case standalone
    /// In worker processes that this host starts and supervises, while it keeps the
    /// locks, the admin server and the signals (`isolation: { mode: process }`).
    case supervisor(WorkerLauncher)
    /// In this process, a worker: the supervisor holds the locks and assigns the bots.
    case worker(DelegatedTokenLock)

    var launcher: WorkerLauncher? {
        if case .supervisor(let launcher) = self { return launcher }
        return nil
    }

    var delegatedLocks: DelegatedTokenLock? {
        if case .worker(let locks) = self { return locks }
        return nil
    }
}
