import PostgresNIO

extension JournalConnections {
    /// Runs `body`, which only reads, on a connection of its own; a failure is
    /// ``JournalError/unreadable(place:_:)`` unless it already is a ``JournalError``.
    nonisolated func reading<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(JournalError) -> T {
        do {
            return try await withConnection(body)
        } catch {
            throw journalError(error, JournalError.unreadable(place:_:))
        }
    }

    /// Runs `body` in a transaction on a connection of its own, committed when `body`
    /// returns; nothing of it is kept when it throws. A failure is `failure` with the
    /// problem, unless it already is a ``JournalError`` (``JournalError/fenced(place:)``,
    /// ``JournalError/unknownEntry(_:)``).
    nonisolated func transaction<T: Sendable>(
        failure: (_ place: String, _ problem: String) -> JournalError = JournalError.writeFailed(place:_:),
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(JournalError) -> T {
        do {
            return try await withConnection { [logger] connection in
                try await Self.transaction(on: connection, logger: logger) { try await body(connection) }
            }
        } catch {
            throw journalError(error, failure)
        }
    }

    /// `error` as a ``JournalError`` naming ``place``, in the server's words when it gave
    /// some: never the SQL, nor the URL (which may carry a password).
    private nonisolated func journalError(
        _ error: any Error, _ failure: (_ place: String, _ problem: String) -> JournalError
    ) -> JournalError {
        if let error = error as? JournalError { return error }
        return failure(place, LockSession.describe(error))
    }
}
