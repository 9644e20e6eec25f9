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
    /// - Throws: every problem found, each pointing at its line and column; a file that
    ///   cannot be read or parsed as YAML yields a single problem.
    package static func load(
        path: String, environment: [String: String], plugins: Set<String>
    ) throws(ManifestError) -> Manifest {
        switch TextFile.contents(atPath: path, maxBytes: maxFileSize) {
        case .success(let text):
            return try parse(
                yaml: text, file: path, baseDirectory: directory(containing: path), environment: environment,
                plugins: plugins
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
        yaml: String, file: String, baseDirectory: String, environment: [String: String], plugins: Set<String>
    ) throws(ManifestError) -> Manifest {
        guard let root = try ManifestYAML.compose(yaml, file: file) else {
            throw ManifestError(problems: [ManifestProblem(wholeFile: file, message: "the manifest is empty")])
        }
        let reader = ManifestReader(file: file)
        let loader = ManifestLoader(
            reader: reader, baseDirectory: baseDirectory, environment: environment, plugins: plugins
        )
        guard var manifest = loader.manifest(from: root), reader.problems.isEmpty else {
            let inFileOrder = reader.problems.sorted {
                ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column)
            }
            throw ManifestError(problems: inFileOrder)
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
