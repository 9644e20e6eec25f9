import Foundation

/// `state_dir`, where the update journals live with the file lock backend.
extension ManifestLoader {
    /// `$STATE_DIRECTORY` (systemd's `StateDirectory=`), else `$XDG_STATE_HOME/bothost`,
    /// else `~/.local/state/bothost`.
    var defaultStateDirectory: String {
        Manifest.defaultStateDirectory(environment: environment)
    }
}

extension Manifest {
    package static func defaultStateDirectory(environment: [String: String]) -> String {
        // systemd may list several, separated by colons; the first is this service's own.
        // With `DynamicUser=yes` it is a symlink into /var/lib/private, made by systemd: the
        // directory it names is the one to check and use.
        if let stateDirectory = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !stateDirectory.isEmpty {
            return URL(fileURLWithPath: String(stateDirectory)).resolvingSymlinksInPath().path
        }
        if let stateHome = environment["XDG_STATE_HOME"], stateHome.hasPrefix("/") {
            return "\(stateHome)/bothost"
        }
        return "\(environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path)/.local/state/bothost"
    }
}
