/// Runs a closure passed to a standard-library `rethrows` API (which erases error types) and
/// restores the typed error. The body must only throw `E`.
@inline(__always)
func withTypedError<R, E: Error>(_ type: E.Type, _ body: () throws -> R) throws(E) -> R {
    do {
        return try body()
    } catch let error as E {
        throw error
    } catch {
        preconditionFailure("unexpected error type \(Swift.type(of: error)): \(error)")
    }
}
