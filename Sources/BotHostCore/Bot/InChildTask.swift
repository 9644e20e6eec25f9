/// Runs `operation` in a child task and returns its result once that task has ended.
///
/// A task keeps the memory of its deepest moment until it ends: Swift's task allocator
/// hands no slab of async frames back before (measured: about 6 KiB for a `getMe` or
/// `getWebhookInfo` call with its retries). A bot's long-lived tasks wait for the bot's
/// whole life, so work that goes deep once, or once a minute, runs in here instead: the
/// child's frames go with it. The child is an `async let` that ends when this function
/// returns, so cancellation and task-local values reach it as they would the caller.
///
/// Never inlined: an `async let` keeps a buffer of 640 bytes in its function's async frame,
/// and inlined into a caller that waits for the bot's whole life, each call here made that
/// frame 640 bytes larger for good.
@inline(never)
func inChildTask<T: Sendable>(_ operation: @Sendable () async -> T) async -> T {
    async let result = operation()
    return await result
}
