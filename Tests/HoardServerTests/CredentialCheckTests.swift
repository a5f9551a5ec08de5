import Testing

@testable import HoardServer

/// The verdict cache and the per-client limiter, with explicit instants (no waiting).
@Suite struct CredentialCheckTests {
    @Test func verdictsAreKeptForTheirLifetimeAndBounded() {
        let verdicts = CredentialVerdicts(lifetime: .seconds(60), capacity: 3)
        let t0 = ContinuousClock.now
        verdicts.record("good", valid: true, now: t0)
        verdicts.record("bad", valid: false, now: t0)
        #expect(verdicts.verdict("good", now: t0 + .seconds(59)) == true)
        #expect(verdicts.verdict("bad", now: t0 + .seconds(59)) == false)
        #expect(verdicts.verdict("unknown", now: t0) == nil)
        #expect(verdicts.verdict("bad", now: t0 + .seconds(61)) == nil)
        // A flood of distinct wrong credentials does not push out the good ones.
        for i in 0..<10 { verdicts.record("wrong-\(i)", valid: false, now: t0) }
        #expect(verdicts.verdict("good", now: t0 + .seconds(1)) == true)
        #expect(verdicts.verdict("wrong-9", now: t0 + .seconds(1)) == false)
    }

    @Test func failuresPerClientAreCountedPerMinute() {
        let limiter = AuthFailureLimiter(limit: 2, capacity: 2)
        let t0 = ContinuousClock.now
        #expect(limiter.retryAfter("10.0.0.1", now: t0) == nil)
        limiter.recordFailure("10.0.0.1", now: t0)
        #expect(limiter.retryAfter("10.0.0.1", now: t0) == nil)
        limiter.recordFailure("10.0.0.1", now: t0 + .seconds(10))
        #expect(limiter.retryAfter("10.0.0.1", now: t0 + .seconds(10)) == 50)
        #expect(limiter.retryAfter("10.0.0.2", now: t0 + .seconds(10)) == nil)
        // The window ends a minute after the first failure.
        #expect(limiter.retryAfter("10.0.0.1", now: t0 + .seconds(60)) == nil)
        // Memory stays bounded: more addresses than capacity never grow the table past it.
        for i in 0..<5 { limiter.recordFailure("10.1.0.\(i)", now: t0 + .seconds(70)) }
        #expect(limiter.trackedClients <= 2)
    }
}
