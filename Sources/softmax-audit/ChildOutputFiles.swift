// Files for a child process's standard output and error, in place of pipes: a chatty child cannot fill a
// pipe and stall, and a grandchild it leaves behind holds no pipe open.
import Foundation

struct ChildOutputFiles {
    let out: URL
    let err: URL

    /// Two fresh paths in the temporary directory, named for their purpose (`check`, `version`).
    init(_ purpose: String) {
        let directory = FileManager.default.temporaryDirectory
        out = directory.appendingPathComponent("softmax-audit-\(purpose)-\(UUID().uuidString).out")
        err = directory.appendingPathComponent("softmax-audit-\(purpose)-\(UUID().uuidString).err")
    }

    /// Removes both files (those that exist).
    func remove() {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: err)
    }
}
