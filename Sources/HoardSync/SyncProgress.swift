import Foundation
import Synchronization

/// Progress of a long sync: on a terminal one line redrawn in place (packages and bytes), else
/// one plain line per package, so logs and CI output stay readable.
public final class SyncProgress: Sendable {
    private let interactive: Bool
    private let state = Mutex((done: 0, total: 0, bytes: Int64(0), totalBytes: Int64(0)))

    public init(interactive: Bool = isatty(STDERR_FILENO) == 1) {
        self.interactive = interactive
    }

    func add(packages: Int, bytes: Int64) {
        state.withLock {
            $0.total += packages
            $0.totalBytes += bytes
        }
    }

    /// One package finished (pushed, present or failed); `line` says what happened.
    func finished(_ line: String, bytes: Int64) {
        let snapshot = state.withLock { s -> (Int, Int, Int64, Int64) in
            s.done += 1
            s.bytes += bytes
            return (s.done, s.total, s.bytes, s.totalBytes)
        }
        if interactive {
            let text = "\r\u{1B}[K[\(snapshot.0)/\(snapshot.1) packages, \(SyncSummary.format(snapshot.2)) of \(SyncSummary.format(snapshot.3))] \(line)"
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            Self.out("[\(snapshot.0)/\(snapshot.1)] \(line)")
        }
    }

    /// A line outside the per-package progress (repodata, a subdir starting).
    func note(_ line: String) {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        Self.out(line)
    }

    /// Unbuffered, so lines appear as work finishes even when stdout is a pipe.
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Ends the redrawn line before the summary.
    func end() {
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
