import Testing

/// The process tests that run many bots or measure time: one of them at a time, so that
/// they do not starve each other on a small machine (each is serialized inside as well).
@Suite(.serialized) enum HeavyProcessTests {}

/// The tests that start PostgreSQL servers: one at a time, as each server and its
/// heartbeats need the CPU on time (a lock request answered after 1 s fences a session).
@Suite(.serialized) enum PostgresTests {}
