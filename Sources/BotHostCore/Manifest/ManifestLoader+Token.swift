import Foundation
import TelegramBotAPI

/// A bot's token: exactly one of `token` (inline), `token_env` (an environment variable)
/// or `token_file` (a file, such as a mounted secret).
///
/// No message here contains the token, nor any part of it: a bad one is described by
/// `BotToken.ParseError`, which never quotes it, and by where it came from.
extension ManifestLoader {
    /// Token files hold one line; anything much larger is the wrong file.
    static let maxTokenFileSize = 64 << 10

    /// A bot's token and the node of the key it came from, for later messages about it.
    struct TokenReading {
        var token: BotToken
        var source: ManifestNode
        /// Why the token is not at hand (``SecretsPolicy/optional`` only): ``token`` is
        /// then ``BotToken/standIn``.
        var unavailable: ManifestProblem?
    }

    func token(of fields: ManifestFields<BotKey>) -> TokenReading? {
        let sources = BotKey.tokenSources.compactMap { key in fields[key].map { (key, $0) } }
        let choices = "token, token_env or token_file"
        guard let (key, source) = sources.first else {
            reader.report("missing token: set one of \(choices)", at: fields.mapping)
            return nil
        }
        guard sources.count == 1 else {
            for (_, extra) in sources.dropFirst() {
                reader.report("set only one of \(choices)", at: extra)
            }
            return nil
        }
        guard let text = reader.string(source) else { return nil }
        switch key {
        case .tokenEnv: return tokenFromEnvironment(variable: text, at: source)
        case .tokenFile: return tokenFromFile(path: text, at: source)
        default: return parseToken(text, from: nil, at: source)  // the inline `token`
        }
    }

    /// A secret that is not on this machine: a problem, or with ``SecretsPolicy/optional``
    /// a note and a stand-in.
    private func unavailable(_ message: String, at source: ManifestNode) -> TokenReading? {
        switch secrets {
        case .required:
            reader.report(message, at: source)
            return nil
        case .optional:
            let note = ManifestProblem(location: reader.location(of: source.node), path: source.path, message: message)
            return TokenReading(token: .standIn, source: source, unavailable: note)
        }
    }

    /// A variable's name is shown in messages: it names the secret, it is not the secret.
    /// A value that is not a variable name (a pasted token, say) is not shown.
    private func tokenFromEnvironment(variable: String, at source: ManifestNode) -> TokenReading? {
        let isName =
            (variable.first.map { !$0.isNumber } ?? false)
            && variable.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard isName else {
            reader.report("expected the name of an environment variable that holds the token", at: source)
            return nil
        }
        let named = Self.describe(variable: variable)
        guard let value = environment[variable] else { return unavailable("\(named) is not set", at: source) }
        return parseToken(value.trimmingCharacters(in: .whitespacesAndNewlines), from: named, at: source)
    }

    /// `environment variable SUPPORT_BOT_TOKEN`. Names are upper case by convention; a
    /// long name in mixed case may be a pasted token secret (those are some 35 random
    /// letters and digits), so it is shown only as short as ``SafeQuote`` allows.
    private static func describe(variable: String) -> String {
        let conventional = variable.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" }
        guard conventional || variable.count <= SafeQuote.maxLength else { return "the environment variable named here" }
        return "environment variable \(variable)"
    }

    /// Relative paths are relative to the manifest's directory; surrounding whitespace
    /// (the newline that editors and `echo` add) is not part of the token.
    private func tokenFromFile(path: String, at source: ManifestNode) -> TokenReading? {
        guard !path.isEmpty else {
            reader.report("expected the path of a file that holds the token", at: source)
            return nil
        }
        let resolved = resolvePath(path)
        switch TextFile.contents(atPath: resolved, maxBytes: Self.maxTokenFileSize) {
        case .success(let contents):
            let text = contents.trimmingCharacters(in: .whitespacesAndNewlines)
            return parseToken(text, from: "token file \(resolved)", at: source)
        case .failure(let error) where error == .missing || error == .permissionDenied:
            return unavailable("cannot read token file \(resolved): \(error)", at: source)
        case .failure(let error):
            reader.report("cannot read token file \(resolved): \(error)", at: source)
            return nil
        }
    }

    /// - Parameter origin: where the token came from, such as `token file ./x`; `nil` for
    ///   an inline token.
    private func parseToken(_ text: String, from origin: String?, at source: ManifestNode) -> TokenReading? {
        if text.isEmpty, let origin {
            reader.report("\(origin) is empty", at: source)
            return nil
        }
        do throws(BotToken.ParseError) {
            return TokenReading(token: try BotToken(text), source: source)
        } catch {
            reader.report(origin.map { "\($0) does not hold a valid token: \(error)" } ?? error.description, at: source)
            return nil
        }
    }
}

extension BotToken {
    /// What a bot whose token is not at hand carries while its manifest is only checked.
    static let standIn = try! BotToken("0:not-at-hand")
}
