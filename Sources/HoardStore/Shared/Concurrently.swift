/// Work against the bucket made a few at a time (small reads, blobs re-hashed by `verify`): each
/// waits on round trips, so a listing's worth of them in sequence would add up, and all at once
/// would flood the backend.
enum Concurrently {
    /// `transform` applied to every element, at most `limit` at a time; results in input order.
    static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], limit: Int = 16, _ transform: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [Result] {
        guard elements.count > 1 else { return try await elements.asyncMap(transform) }
        return try await withThrowingTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: elements.count)
            var next = 0
            func start() {
                let index = next
                let element = elements[index]
                group.addTask { (index, try await transform(element)) }
                next += 1
            }
            while next < min(max(1, limit), elements.count) { start() }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < elements.count { start() }
            }
            return results.compactMap { $0 }
        }
    }
}

private extension Array where Element: Sendable {
    func asyncMap<Result>(_ transform: (Element) async throws -> Result) async throws -> [Result] {
        var results: [Result] = []
        results.reserveCapacity(count)
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
