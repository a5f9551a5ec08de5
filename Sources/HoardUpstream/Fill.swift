import HoardStore
import NIOCore
import Synchronization

/// One download into the store that any number of readers follow as it grows.
///
/// The fill runs in a task of its own: a reader that goes away does not stop it. Readers may read
/// the blob being written (through `Head.reader`, a tail reader) up to `written` bytes, except the
/// last byte, which becomes readable only once the whole blob is verified, so no reader can
/// complete a response with bytes that failed it.
/// (Making the blob durable and naming it comes after; readers need not wait for that.)
///
/// The buffers just written stay in a bounded window (`FillWindow`) for readers that have caught
/// up (`FillReader`), and readers are woken in large steps (`wakeStep`, or `wakeInterval` after
/// the last wake-up when bytes come slowly), not once per network read.
public final class Fill: Sendable {
    public let key: String

    /// Readers are woken once this many bytes arrived since the last wake-up...
    static let wakeStep: Int64 = 1 << 20
    /// ...or when this long passed since it (a slow upstream still streams).
    static let wakeInterval: Duration = .milliseconds(5)
    /// The most one fill keeps in memory for its readers: a few wake-up steps.
    static let windowLimit = 4 << 20

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
        var window: FillWindow
        var written: Int64 { window.end }
        var outcome: Outcome?
        var version = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        /// Where and when readers were last woken for new bytes.
        var wokenAt: Int64 = 0
        var wokenTime: ContinuousClock.Instant?
    }

    private enum Outcome {
        case verified(size: Int64)
        case committed(BlobRecord)
        case failed(any Error)
    }

    private let state: Mutex<State>

    init(key: String, memory: FillMemory) {
        self.key = key
        self.state = Mutex(State(window: FillWindow(limit: Self.windowLimit, memory: memory)))
    }

    deinit {
        state.withLock { _ = $0.window.releaseAll() }
    }

    // MARK: For the filling task

    func started(_ head: Head) { update { $0.head = head } }
    func verified(size: Int64) { update { $0.outcome = .verified(size: size) } }
    /// Readers that still need bytes read them from the store from now on.
    func committed(_ record: BlobRecord) {
        update { state in
            state.outcome = .committed(record)
            state.window.releaseAll()
        }
    }
    func failed(_ error: any Error) {
        update { state in
            state.outcome = .failed(error)
            state.window.releaseAll()
        }
    }

    /// `bytes` were just written to the store: keep them for readers, and wake the readers when
    /// enough came since the last time (the first bytes at once, for time to first byte).
    func wrote(_ bytes: ByteBuffer) {
        let now = ContinuousClock.now
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.window.append(bytes)
            let due = state.wokenTime.map { now - $0 >= Self.wakeInterval } ?? true
            guard due || state.written - state.wokenAt >= Self.wakeStep else { return [] }
            state.wokenAt = state.written
            state.wokenTime = now
            state.version += 1
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

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

    /// What a reader at `offset` may send now: what is readable (the last byte only once
    /// verified), held bytes from `offset` on (about `maximum` of them), where the window starts.
    struct View {
        let readable: Int64
        let complete: Bool
        let failure: (any Error)?
        let slices: [ByteBuffer]
        let windowStart: Int64
        let version: Int
    }

    func view(from offset: Int64, maximum: Int) -> View {
        state.withLock { state in
            var complete = true
            var failure: (any Error)?
            let readable: Int64
            switch state.outcome {
            case .committed(let record): readable = record.size
            case .verified(let size): readable = size
            case .failed(let error):
                failure = error
                readable = 0
            case nil:
                complete = false
                readable = max(0, state.written - 1)
            }
            return View(
                readable: readable, complete: complete, failure: failure,
                slices: state.window.slices(from: offset, to: readable, maximum: maximum),
                windowStart: state.window.start, version: state.version)
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
