import Foundation
import Logging
import PostgresNIO

/// A throwaway PostgreSQL server for one test: `initdb` into a temporary directory and
/// `pg_ctl start` on a free loopback port, with trust authentication.
///
/// PostgreSQL refuses to run as root, and CI runs as root: there, every server command
/// runs as the `postgres` user, who owns the directory.
final class PostgresServer: Sendable {
    let directory: URL
    let port: Int
    private let binaries: URL

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
        let server = PostgresServer(directory: directory, port: try freePort(), binaries: try binaryDirectory())
        try await server.run("initdb", ["-D", server.dataDirectory, "-A", "trust", "-U", "postgres", "--no-sync"])
        try await server.startAgain()
        return server
    }

    /// Starts the server (again, after ``stop()``), on the same port and data.
    func startAgain() async throws {
        try await run(
            tool("pg_ctl"),
            [
                "-D", dataDirectory, "-l", directory.appendingPathComponent("server.log").path, "-w", "-o",
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
            ])
    }

    /// Stops the server the way an administrator restarting it would: `fast` ends every
    /// session at once, which frees every advisory lock.
    func stop() async throws {
        try await run(tool("pg_ctl"), ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
    }

    /// Stops the server if it runs and removes its files.
    func remove() async {
        if let pooler = try? String(contentsOf: directory.appendingPathComponent("pgbouncer.pid"), encoding: .utf8),
            let pid = Int32(pooler.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            kill(pid, SIGKILL)
        }
        try? await run(tool("pg_ctl"), ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts PgBouncer in front of the server in transaction pooling mode, the setup that
    /// breaks session locks; returns its lock URL.
    func startTransactionPooler() async throws -> String {
        let port = try Self.freePort()
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
            pidfile = \(directory.appendingPathComponent("pgbouncer.pid").path)
            logfile = \(directory.appendingPathComponent("pgbouncer.log").path)
            """.write(to: configuration, atomically: true, encoding: .utf8)
        try "\"postgres\" \"\"\n".write(to: directory.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        try await run("/usr/sbin/pgbouncer", ["-d", configuration.path])
        return "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable"
    }

    /// Runs `sql` on a connection of its own and returns the first column of each row.
    func query(_ sql: String) async throws -> [String] {
        let logger = Logger(label: "test.postgres") { _ in SwiftLogNoOpLogHandler() }
        let connection = try await PostgresConnection.connect(
            configuration: .init(host: "127.0.0.1", port: port, username: "postgres", password: nil, database: "postgres", tls: .disable),
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

    /// Runs the program at `path` to its end, as the `postgres` user when root.
    ///
    /// Spawned by hand rather than with `Process`: `pg_ctl start` leaves the server running
    /// with every descriptor it inherited, and `Process` learns of an exit through one of
    /// them, so it would wait for the server instead. Here the child gets no descriptor but
    /// its output file.
    /// The path of the PostgreSQL program `name`.
    private func tool(_ name: String) -> String { binaries.appendingPathComponent(name).path }

    private func run(_ path: String, _ arguments: [String]) async throws {
        let tool = URL(fileURLWithPath: path).lastPathComponent
        let command = getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", path] + arguments : [path] + arguments
        let output = directory.appendingPathComponent("\(tool).out").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        Self.closeFrom(&actions, 3)
        var pid: pid_t = 0
        let argv = command.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw ServerError(description: "cannot run \(tool): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 { try await Task.sleep(for: .milliseconds(20)) }
        guard status == 0 else {
            let log = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw ServerError(description: "\(tool) \(arguments.joined(separator: " ")) failed (status \(status)): \(log)")
        }
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which its headers hide from Swift.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 =
        unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"), to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)

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
        throw ServerError(description: "initdb is not installed: install PostgreSQL (.ci/run does)")
    }

    /// A loopback port nobody listens on now.
    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else { throw ServerError(description: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
