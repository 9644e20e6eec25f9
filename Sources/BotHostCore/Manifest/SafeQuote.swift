/// Quotes a value from the manifest in a message only when it cannot be a secret.
///
/// Messages end up in terminals, CI logs and issue trackers. An operator who pastes a
/// token into the wrong key (`plugin:`, a key name, `on_locked:`) must not see it
/// printed back, so a value is quoted only when it is short and plain: a token always
/// has a ':' and its secret is some 35 characters long, so neither passes.
enum SafeQuote {
    static let maxLength = 30

    /// `'value'`, or `nil` when `text` might be secret.
    static func quoted(_ text: String) -> String? {
        guard (1...maxLength).contains(text.count), text.allSatisfy(isPlain) else { return nil }
        return "'\(text)'"
    }

    /// `" 'value'"` to append to a message, or `""` when `text` might be secret.
    static func suffix(_ text: String) -> String {
        quoted(text).map { " \($0)" } ?? ""
    }

    private static func isPlain(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || " ._-/+".contains(character))
    }
}
