import BotHostKit
import Yams

extension Manifest {
    /// Manifests are hand-written lists of bots: anything larger is a wrong path, and is
    /// refused before a byte of it is parsed.
    package static let maxFileSize = 1 << 20

    /// Reads, resolves and validates the manifest at `path` (step 1 of `bothost run`).
    ///
    /// - Parameters:
    ///   - environment: where `token_env` variables and `XDG_RUNTIME_DIR` are looked up.
    ///   - plugins: the names of the registered plugins; any other `plugin:` is an error.
    ///   - secrets: whether a token that is not on this machine is an error.
    /// - Throws: every problem found, each pointing at its line and column; a file that
    ///   cannot be read or parsed as YAML yields a single problem.
    package static func load(
        path: String, environment: [String: String], plugins: Set<String>, secrets: SecretsPolicy = .required
    ) throws(ManifestError) -> Manifest {
        switch TextFile.contents(atPath: path, maxBytes: maxFileSize) {
        case .success(let text):
            return try parse(
                yaml: text, file: path, baseDirectory: directory(containing: path), environment: environment,
                plugins: plugins, secrets: secrets
            )
        case .failure(let error):
            throw ManifestError(problems: [ManifestProblem(wholeFile: path, message: "cannot read the manifest: \(error)")])
        }
    }

    /// Resolves and validates manifest text.
    ///
    /// - Parameters:
    ///   - file: the name that problems and locations carry.
    ///   - baseDirectory: what relative `token_file`, `lock.dir` and `lock.password_file`
    ///     paths are relative to: the manifest's directory.
    package static func parse(
        yaml: String, file: String, baseDirectory: String, environment: [String: String], plugins: Set<String>,
        secrets: SecretsPolicy = .required
    ) throws(ManifestError) -> Manifest {
        guard let root = try ManifestYAML.compose(yaml, file: file) else {
            throw ManifestError(problems: [ManifestProblem(wholeFile: file, message: "the manifest is empty")])
        }
        let reader = ManifestReader(file: file)
        let loader = ManifestLoader(
            reader: reader, baseDirectory: baseDirectory, environment: environment, plugins: plugins, secrets: secrets
        )
        guard var manifest = loader.manifest(from: root), reader.problems.isEmpty else {
            throw ManifestError(problems: reader.problems.sorted(by: ManifestProblem.inFileOrder))
        }
        manifest.text = yaml
        return manifest
    }

    /// `dir` for `dir/bots.yaml`, `.` for `bots.yaml`, `/` for `/bots.yaml`.
    static func directory(containing path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// Whether a manifest's secrets must be at hand. `bothost run` needs every token;
/// `bothost validate` and `bothost status` read a manifest on machines without them (a
/// CI runner, an operator's laptop), where a token that is not set is a note.
package enum SecretsPolicy: Sendable {
    case required
    case optional
}
