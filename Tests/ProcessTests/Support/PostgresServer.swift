import ChildProcesses
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// A throwaway PostgreSQL server for one test: `initdb` into a temporary directory and a
/// server on a free loopback port, with trust authentication.
///
/// The server runs as a `ChildProcess` of the test rather than daemonized by `pg_ctl`, so
/// that it dies with the test: when the test process ends, however it ends, the server
/// gets SIGQUIT, PostgreSQL's immediate shutdown, which ends every session and frees its
/// shared memory. PgBouncer, when a test starts it, runs the same way.
///
/// PostgreSQL refuses to run as root, and CI runs as root: there, every server program
/// runs as the `postgres` user, who owns the directory.
final class PostgresServer: Sendable {
    let directory: URL
    let port: Int
    private let binaries: URL
    /// The server's main process, `nil` once stopped.
    private let postmaster = Mutex<ChildProcess?>(nil)
    /// PgBouncer, once ``startTransactionPooler()`` has started it.
    private let pooler = Mutex<ChildProcess?>(nil)

    /// The lock URL of the server's `postgres` database.
    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private var dataDirectory: String { directory.appendingPathComponent("data").path }

    private init(directory: URL, port: Int, binaries: URL) {
        self.directory = directory
        self.port = port
        self.binaries = binaries
    }

    /// Runs `body` with a started server, which is stopped and removed afterwards, however
    /// `body` ends.
    static func with<T>(_ body: (PostgresServer) async throws -> T) async throws -> T {
        let server = try await start()
        do {
            let result = try await body(server)
            await server.remove()
            return result
        } catch {
            await server.remove()
            throw error
        }
    }

    private static func start() async throws -> PostgresServer {
        let directory = URL(fileURLWithPath: "/tmp/bothost-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path)
        }
        let server = PostgresServer(directory: directory, port: freeLocalPort(), binaries: try binaryDirectory())
        let initdb = try server.spawn(
            server.tool("initdb"), ["-D", server.dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync"], log: "initdb.log")
        guard await initdb.exitCode() == 0 else { throw ServerError(description: "initdb failed: \(server.log("initdb.log"))") }
        try await server.startAgain()
        return server
    }

    /// Starts the server (again, after ``stop()``), on the same port and data, and waits
    /// until it answers.
    func startAgain() async throws {
        let server = try spawn(
            tool("postgres"),
            ["-D", dataDirectory, "-p", "\(port)", "-k", directory.path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            log: "server.log", deathSignal: "QUIT")
        postmaster.withLock { $0 = server }
        try await waitUntilAnswering(server, on: port, log: "server.log")
    }

    /// Stops the server the way an administrator restarting it would: a fast shutdown
    /// (SIGINT) ends every session at once, which frees every advisory lock.
    func stop() async throws {
        try await shutDown(SIGINT)
    }

    /// Stops PgBouncer and the server if they run, and removes their files.
    func remove() async {
        pooler.withLock { $0.take() }?.terminate()
        try? await shutDown(SIGQUIT)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends the server `signal` (PostgreSQL's shutdown modes are signals) and waits until
    /// it has exited.
    private func shutDown(_ signal: Int32) async throws {
        guard let server = postmaster.withLock({ $0.take() }) else { return }
        server.signal(signal)
        let status = await server.exitCode(timeout: .seconds(30))
        server.terminate()
        guard status == 0 else { throw ServerError(description: "the server exited with status \(status): \(log("server.log"))") }
    }

    /// Starts PgBouncer in front of the server in transaction pooling mode, the setup that
    /// breaks session locks; returns its lock URL.
    func startTransactionPooler() async throws -> String {
        let port = freeLocalPort()
        let configuration = directory.appendingPathComponent("pgbouncer.ini")
        try """
        [databases]
        postgres = host=127.0.0.1 port=\(self.port) dbname=postgres
        [pgbouncer]
        listen_addr = 127.0.0.1
        listen_port = \(port)
        unix_socket_dir =
        auth_type = trust
        auth_file = \(directory.appendingPathComponent("users.txt").path)
        pool_mode = transaction
        ignore_startup_parameters = extra_float_digits
        """.write(to: configuration, atomically: true, encoding: .utf8)
        try "\"postgres\" \"\"\n".write(to: directory.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        let bouncer = try spawn("/usr/sbin/pgbouncer", [configuration.path], log: "pgbouncer.log")
        pooler.withLock { $0 = bouncer }
        try await waitUntilAnswering(bouncer, on: port, log: "pgbouncer.log")
        return "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable"
    }

    /// Runs `sql` on a connection of its own (to the server, or to PgBouncer on `port`)
    /// and returns the first column of each row.
    func query(_ sql: String, port: Int? = nil) async throws -> [String] {
        let logger = Logger(label: "test.postgres") { _ in SwiftLogNoOpLogHandler() }
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: "127.0.0.1", port: port ?? self.port, username: "postgres", password: nil, database: "postgres",
                tls: .disable),
            id: 1, logger: logger)
        do {
            var values: [String] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                values.append(try row.decode(String.self))
            }
            try await connection.close()
            return values
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Ends the lock session of the `bothost` process `pid`, as an administrator would with
    /// `pg_terminate_backend`; returns how many sessions ended.
    func terminateSession(ofHost pid: Int32) async throws -> Int {
        try await query(
            "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE application_name LIKE 'bothost/\(pid)@%'"
        ).count
    }

    /// The path of the PostgreSQL program `name`.
    private func tool(_ name: String) -> String { binaries.appendingPathComponent(name).path }

    /// Starts the program at `path` in the server's directory, as the `postgres` user when
    /// we are root, with its output in the file `log` there.
    private func spawn(_ path: String, _ arguments: [String], log: String, deathSignal: String = "KILL") throws -> ChildProcess {
        try ChildProcess(
            path, arguments, in: directory.path, output: directory.appendingPathComponent(log).path,
            user: getuid() == 0 ? "postgres" : nil, deathSignal: deathSignal)
    }

    /// What the program writing the file `log` has said.
    private func log(_ log: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(log), encoding: .utf8)) ?? ""
    }

    /// Waits until `process` answers a query on `port`: at most 30 s, and not after it exited.
    private func waitUntilAnswering(_ process: ChildProcess, on port: Int, log: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await query("SELECT 'ready'", port: port)) == nil {
            guard process.isRunning, ContinuousClock.now < deadline else {
                throw ServerError(description: "nothing answers on port \(port): \(self.log(log))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        let description: String
    }

    /// Where `initdb` and `pg_ctl` are: on the `PATH`, else Debian's
    /// `/usr/lib/postgresql/<version>/bin`, newest first.
    private static func binaryDirectory() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/initdb") {
            return URL(fileURLWithPath: String(directory))
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) })
        where FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\(version)/bin/initdb") {
            return URL(fileURLWithPath: "/usr/lib/postgresql/\(version)/bin")
        }
        throw ServerError(description: "initdb is not installed: install PostgreSQL (scripts/test.sh does)")
    }
}
