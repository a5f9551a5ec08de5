import HoardHTTP
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The `Date` header, formatted at most once a second (as Hummingbird's own date cache does).
final class FastDate: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    /// Unix seconds, wall clock.
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    func header(at now: Double) -> String {
        let second = Int(now)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, HTTPDate.format(Int64(second))) }
            return cached.text
        }
    }
}
