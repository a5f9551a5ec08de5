import HoardStore
import Synchronization

/// One download into the store that any number of readers follow as it grows.
///
/// The fill runs in a task of its own: a reader that goes away does not stop it. Readers may read
/// the blob being written (through `Head.reader`, a tail reader) up to `written` bytes, except the
/// last byte, which becomes readable only once the whole blob is verified, so no reader can
/// complete a response with bytes that failed it.
/// (Making the blob durable and naming it comes after; readers need not wait for that.)
public final class Fill: Sendable {
    public let key: String

    /// What a reader needs before it can answer: the size (when upstream said) and a reader of
    /// the bytes as they are written (it stays readable once the blob is committed).
    public struct Head: Sendable {
        public let size: Int64?
        public let reader: any BlobReader
        public let expectedDigest: BlobDigest?
    }

    /// Where the fill stands; readers wait for it to change.
    public enum Progress: Sendable {
        case running(written: Int64)
        /// Every byte is written and verified; the commit is under way.
        case verified(size: Int64)
        case committed(BlobRecord)
        case failed(any Error)
    }

    private struct State {
        var head: Head?
        var written: Int64 = 0
        var outcome: Outcome?
        var version = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private enum Outcome {
        case verified(size: Int64)
        case committed(BlobRecord)
        case failed(any Error)
    }

    private let state = Mutex(State())

    init(key: String) { self.key = key }

    // MARK: For the filling task

    func started(_ head: Head) { update { $0.head = head } }
    func wrote(total: Int64) { update { $0.written = total } }
    func verified(size: Int64) { update { $0.outcome = .verified(size: size) } }
    func committed(_ record: BlobRecord) { update { $0.outcome = .committed(record) } }
    func failed(_ error: any Error) { update { $0.outcome = .failed(error) } }

    private func update(_ change: (inout State) -> Void) {
        let waiters = state.withLock { state in
            change(&state)
            state.version += 1
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    // MARK: For readers

    /// Waits for the response head, or throws the error that ended the fill before it.
    public func head() async throws -> Head {
        var seen = -1
        while true {
            let (head, outcome, version) = state.withLock { ($0.head, $0.outcome, $0.version) }
            if let head { return head }
            if case .failed(let error) = outcome { throw error }
            // The fill reports its head before any other outcome; should that ever not hold,
            // the reader gets an error rather than a crash of the whole server.
            if outcome != nil { throw FillError.endedWithoutHead(key: key) }
            await waitForChange(after: max(seen, version))
            seen = version
        }
    }

    /// The progress as it is now, and a version to pass to `waitForChange`.
    public func progress() -> (Progress, Int) {
        state.withLock { state in
            switch state.outcome {
            case .committed(let record): return (.committed(record), state.version)
            case .verified(let size): return (.verified(size: size), state.version)
            case .failed(let error): return (.failed(error), state.version)
            case nil: return (.running(written: state.written), state.version)
            }
        }
    }

    /// Returns once anything changed since `version`.
    public func waitForChange(after version: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.version > version { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// The outcome, once the fill has ended.
    public func result() async throws -> BlobRecord {
        while true {
            let (progress, version) = progress()
            switch progress {
            case .committed(let record): return record
            case .failed(let error): throw error
            case .running, .verified: await waitForChange(after: version)
            }
        }
    }
}

/// A fill that broke its own protocol (a bug, never upstream's doing).
public enum FillError: Error, Sendable, CustomStringConvertible {
    case endedWithoutHead(key: String)

    public var description: String {
        switch self {
        case .endedWithoutHead(let key): "the download of \(key) ended without a response head; try again"
        }
    }
}
