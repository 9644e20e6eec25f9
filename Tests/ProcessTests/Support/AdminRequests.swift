import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The control API's token in the tests' manifests; no log line may show it.
let adminSecret = "admin-7d0c2f94e1b8a6357c19"

/// Writes `admin.token` next to the manifests of `directory`; returns its name.
@discardableResult
func writeAdminToken(in directory: URL) throws -> String {
    try "\(adminSecret)\n".write(to: directory.appendingPathComponent("admin.token"), atomically: true, encoding: .utf8)
    return "admin.token"
}

/// `admin:` for a manifest: any free port, and the token of ``writeAdminToken(in:)``.
let adminWithToken = #"admin: { listen: "127.0.0.1:0", token_file: admin.token }"#

/// One request to the admin server: its status and body. `token` goes in
/// `Authorization: Bearer`.
func admin(_ method: String, _ url: String, token: String? = nil) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    request.timeoutInterval = 30
    if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// One bot of `GET /bots`.
struct ListedBot: Decodable {
    var name: String
    var state: String
    var failure: String?
    var paused: Bool
    var lock: String?
    var workerPID: Int32?
    var updatesPerSecond: Double
    var restarts: Int

    enum CodingKeys: String, CodingKey {
        case name, state, failure, paused, lock, restarts
        case workerPID = "worker_pid"
        case updatesPerSecond = "updates_per_second"
    }
}

/// The bots of `GET /bots`.
func listedBots(_ base: String) async throws -> [ListedBot] {
    struct List: Decodable { var bots: [ListedBot] }
    let (_, body) = try await admin("GET", "\(base)/bots")
    return try JSONDecoder().decode(List.self, from: Data(body.utf8)).bots
}

/// The state `GET /bots` shows for `name`, if it lists the bot.
func listedState(of name: String, at base: String) async -> String? {
    try? await listedBots(base).first { $0.name == name }?.state
}

/// Waits until `condition` holds (checked every 50 ms) or `timeout` passes; whether it held.
func eventually(timeout: Duration = .seconds(15), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return true
}
