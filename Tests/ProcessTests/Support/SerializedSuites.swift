import Testing

/// The process tests that measure time or pace (gaps, latencies, rates): one of them at a
/// time, so that they do not starve each other on a small machine (each is serialized
/// inside as well). `scripts/test.sh` runs them last, beside ``PostgresTests`` only.
@Suite(.serialized) enum HeavyProcessTests {}

/// Process tests that run many bots or many updates but measure no time: one at a time,
/// beside the other lanes.
@Suite(.serialized) enum LongProcessTests {}

/// Process tests of what operators do to a running host (the control API, `ctl`, dead
/// letters, damaged or refused journals): one at a time, beside the other lanes.
@Suite(.serialized) enum OperationsProcessTests {}

/// The tests that start PostgreSQL servers: one at a time, as each server and its
/// heartbeats need the CPU on time (a lock request answered after 1 s fences a session).
@Suite(.serialized) enum PostgresTests {}
