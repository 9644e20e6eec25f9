import Testing

@testable import BotHostCore

@Suite struct AdminTokenTests {
    @Test func matchesOnlyItselfAndNeverShowsIt() {
        let token = AdminToken("s3cret-admin-token-0123")
        #expect(token.matches("s3cret-admin-token-0123"))
        for wrong in ["s3cret-admin-token-012", "s3cret-admin-token-01234", "", "S3cret-admin-token-0123"] {
            #expect(!token.matches(Substring(wrong)), "\(wrong)")
        }
        #expect(!"\(token)".contains("s3cret"))
        #expect(!String(reflecting: token).contains("s3cret"))
        #expect(token == AdminToken("s3cret-admin-token-0123"), "a reload sees an unchanged token as unchanged")
    }
}
