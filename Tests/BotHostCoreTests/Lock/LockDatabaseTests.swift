import Foundation
import PostgresNIO
import Testing

@testable import BotHostCore

/// `lock.url` and where the password comes from, without a server.
@Suite struct LockDatabaseTests {
    @Test func theURLNamesHostPortDatabaseAndUser() throws {
        let database = try LockDatabase(url: "postgres://bothost@db.internal:6543/locks", passwordFile: nil, environment: [:])

        #expect(database.endpoint == "db.internal:6543/locks")
        #expect(database.configuration.host == "db.internal")
        #expect(database.configuration.port == 6543)
        #expect(database.configuration.username == "bothost")
        #expect(database.configuration.database == "locks")
        #expect(database.configuration.password == nil)
        #expect(database.configuration.tls.isAllowed && !database.configuration.tls.isEnforced)
    }

    @Test func theDatabaseDefaultsToTheUserAndThePortTo5432() throws {
        let database = try LockDatabase(url: "postgresql://bothost@db", passwordFile: nil, environment: [:])

        #expect(database.endpoint == "db:5432/bothost")
    }

    @Test func thePasswordComesFromTheURLThenTheFileThenPGPASSWORD() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pg-password-\(UUID().uuidString)")
        try "from-file\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let environment = ["PGPASSWORD": "from-environment"]

        let fromURL = try LockDatabase(url: "postgres://u:from%2Durl@db/d", passwordFile: file.path, environment: environment)
        let fromFile = try LockDatabase(url: "postgres://u@db/d", passwordFile: file.path, environment: environment)
        let fromEnvironment = try LockDatabase(url: "postgres://u@db/d", passwordFile: nil, environment: environment)

        #expect(fromURL.configuration.password == "from-url")
        #expect(fromFile.configuration.password == "from-file")
        #expect(fromEnvironment.configuration.password == "from-environment")
    }

    @Test func aUnixSocketDirectoryIsAHost() throws {
        let database = try LockDatabase(url: "postgres://u@/d?host=/run/postgresql", passwordFile: nil, environment: [:])

        #expect(database.configuration.unixSocketPath == "/run/postgresql/.s.PGSQL.5432")
    }

    @Test func sslmodeDecidesWhetherTLSIsRequired() throws {
        let required = try LockDatabase(url: "postgres://u@db/d?sslmode=verify-full", passwordFile: nil, environment: [:])
        let disabled = try LockDatabase(url: "postgres://u@db/d?sslmode=disable", passwordFile: nil, environment: [:])

        #expect(required.configuration.tls.isEnforced)
        #expect(!disabled.configuration.tls.isAllowed)
    }

    @Test(arguments: [
        ("mysql://u@db/d", "expected postgres://USER@HOST[:PORT]/DATABASE"),
        ("postgres://db/d", "the URL names no user (postgres://USER@HOST/DATABASE)"),
        (
            "postgres://u@db/d?sslmode=sometimes",
            "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full, found 'sometimes'"
        ),
        ("postgres://u@db/d?connect_timeout=soon", "connect_timeout must be a whole number of seconds, found 'soon'"),
        ("postgres://u@db/d?pool=1", "unsupported URL parameter 'pool' (supported: sslmode, connect_timeout, host)"),
    ])
    func aBadURLSaysWhatIsWrong(url: String, message: String) {
        #expect(throws: LockDatabase.Problem(description: message)) {
            try LockDatabase.check(url: url)
        }
    }

    @Test func anUnreadablePasswordFileIsNamed() {
        #expect {
            try LockDatabase(url: "postgres://u@db/d", passwordFile: "/nonexistent/pg-password", environment: [:])
        } throws: { error in
            "\(error)".hasPrefix("cannot read password_file /nonexistent/pg-password")
        }
    }

    @Test func noMessageShowsThePassword() throws {
        let database = try LockDatabase(url: "postgres://u:SeCrEt@db/d?sslmode=disable", passwordFile: nil, environment: [:])

        #expect(!database.endpoint.contains("SeCrEt"))
        #expect(!"\(TokenLockError.database(endpoint: database.endpoint, problem: "cannot connect"))".contains("SeCrEt"))
    }
}
