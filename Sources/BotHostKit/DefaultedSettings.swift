/// A plugin's settings whose keys may each be left out of the manifest: a missing key
/// keeps the value that `init()` gives it.
///
/// Swift's synthesized `Decodable` requires every key, defaults or not. Conforming to
/// this protocol makes `var greeting = "Hello"` mean what it says: the host encodes
/// `Settings()` and lays the manifest's `settings:` over it before decoding, so the
/// manifest need name only what differs. Every stored property needs a default value
/// (Swift then writes `init()`); settings with required keys stay plain `Codable`.
///
/// ```swift
/// struct Settings: DefaultedSettings {
///     var greeting = "Hello"
///     var every = SettingDuration(.seconds(3600))
/// }
/// ```
public protocol DefaultedSettings: Codable, Sendable {
    init()
}
