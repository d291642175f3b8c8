// The exit statuses of every command, in one place (the README's table gives them to users).

/// What a command's exit status means.
enum ExitStatus {
    /// The gate failed: a cell failed its checks, a verdict was not as declared, or a baseline regressed.
    static let gateFailed: Int32 = 1
    /// Bad usage or bad input: an option, a row, a shard, a baseline or a worker's command line refused.
    static let badInput: Int32 = 2
    /// A file could not be written (the old one, if any, is left whole).
    static let cannotWrite: Int32 = 3
    /// An external worker never worked: it could not start, or answered no request.
    static let workerFailed: Int32 = 4
}
