import Foundation
import NIOSSL
import PostgresNIO

/// Where the lock database is and how to log in to it, from the manifest's
/// `lock: { backend: postgres, url, password_file }`.
///
/// The URL follows libpq: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, with the
/// parameters `sslmode` (`disable`, `allow`, `prefer` (the default), `require`, `verify-ca`,
/// `verify-full`), `connect_timeout` (seconds) and `host` (a directory holding the server's
/// Unix socket). Other parameters are refused rather than ignored, so a typo cannot
/// silently weaken TLS. The password comes from the URL, else `password_file`, else
/// `PGPASSWORD`.
package struct LockDatabase: Sendable {
    /// `host:port/database`: what messages name. Never the URL, which may carry a password.
    package let endpoint: String
    let configuration: PostgresConnection.Configuration

    /// A URL that cannot name a lock database, or a password file that cannot be read; the
    /// message says which part is wrong.
    package struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        package let description: String
    }

    /// The parts of a lock database URL, checked; no password file is read.
    struct Address: Sendable {
        var user: String
        var password: String?
        var host: String
        var port: Int
        var database: String
        var socketDirectory: String?
        var sslMode: String
        var connectTimeout: Int?

        static let sslModes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
        static let parameters = ["sslmode", "connect_timeout", "host"]

        init(url: String) throws(Problem) {
            guard let components = URLComponents(string: url),
                ["postgres", "postgresql"].contains(components.scheme ?? "")
            else {
                throw Problem(description: "expected postgres://USER@HOST[:PORT]/DATABASE")
            }
            guard let user = components.user, !user.isEmpty else {
                throw Problem(description: "the URL names no user (postgres://USER@HOST/DATABASE)")
            }
            self.user = user
            self.password = components.password
            self.port = components.port ?? 5432
            let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            self.database = path.isEmpty ? user : path
            self.sslMode = "prefer"
            for item in components.queryItems ?? [] {
                let value = item.value ?? ""
                switch item.name {
                case "sslmode":
                    guard Self.sslModes.contains(value) else {
                        throw Problem(
                            description: "sslmode must be one of \(Self.sslModes.joined(separator: ", ")), found '\(value)'")
                    }
                    sslMode = value
                case "connect_timeout":
                    guard let seconds = Int(value), seconds > 0 else {
                        throw Problem(description: "connect_timeout must be a whole number of seconds, found '\(value)'")
                    }
                    connectTimeout = seconds
                case "host":
                    guard value.hasPrefix("/") else {
                        throw Problem(description: "the host parameter must be a socket directory, found '\(value)'")
                    }
                    socketDirectory = value
                default:
                    throw Problem(
                        description:
                            "unsupported URL parameter '\(item.name)' (supported: \(Self.parameters.joined(separator: ", ")))")
                }
            }
            let host = components.host ?? ""
            guard !host.isEmpty || socketDirectory != nil else {
                throw Problem(description: "the URL names no host (postgres://USER@HOST/DATABASE)")
            }
            self.host = host
        }
    }

    /// Checks `url` alone, as `validate` does: the password file is read when the host starts.
    static func check(url: String) throws(Problem) {
        _ = try Address(url: url)
    }

    /// - Parameter environment: where `PGPASSWORD` is looked up.
    package init(url: String, passwordFile: String?, environment: [String: String]) throws(Problem) {
        let address = try Address(url: url)
        var password = address.password
        if password == nil, let passwordFile { password = try Self.readPassword(passwordFile) }
        password = password ?? environment["PGPASSWORD"]
        var configuration: PostgresConnection.Configuration
        if let directory = address.socketDirectory {
            endpoint = "\(directory)/.s.PGSQL.\(address.port)/\(address.database)"
            configuration = PostgresConnection.Configuration(
                unixSocketPath: "\(directory)/.s.PGSQL.\(address.port)", username: address.user, password: password,
                database: address.database)
        } else {
            endpoint = "\(address.host):\(address.port)/\(address.database)"
            configuration = PostgresConnection.Configuration(
                host: address.host, port: address.port, username: address.user, password: password,
                database: address.database, tls: try Self.tls(mode: address.sslMode))
        }
        if let seconds = address.connectTimeout {
            configuration.options.connectTimeout = .seconds(Int64(seconds))
        }
        self.configuration = configuration
    }

    /// The first line of `path`: a password file holds the password alone, often with a
    /// trailing newline that is not part of it.
    private static func readPassword(_ path: String) throws(Problem) -> String {
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return String(text.prefix { $0 != "\n" && $0 != "\r" })
        } catch {
            throw Problem(description: "cannot read password_file \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// libpq's `sslmode`: `prefer` and `require` encrypt without checking the certificate,
    /// `verify-ca` checks it against the system's roots, `verify-full` the host name too.
    private static func tls(mode: String) throws(Problem) -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case "disable": return .disable
        case "verify-full": break
        case "verify-ca": tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw Problem(description: "TLS cannot be set up: \(error)")
        }
        return mode == "allow" || mode == "prefer" ? .prefer(context) : .require(context)
    }
}
