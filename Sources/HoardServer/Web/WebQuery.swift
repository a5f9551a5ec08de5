import Foundation
import HoardHTTP

/// What the page at `/` is asked to show, from its query string (`channel`, `label`, `subdir`,
/// `q`, `page`, `per`). Anything malformed falls back to a default rather than failing: the
/// page is for people, and every value is checked again against what hoard serves.
struct WebQuery: Sendable, Equatable {
    var channel: String?
    var label = ""
    var subdir: String?
    var search = ""
    var page = 1
    var perPage = WebQuery.defaultPerPage

    static let defaultPerPage = 50
    static let perPageRange = 10...500
    /// Far past any real listing (500,000 files at 10 a page is 50,000 pages), small enough
    /// that `(page - 1) * perPage` cannot overflow.
    static let maxPage = 1_000_000
    /// A search longer than any package name matches nothing; longer input is cut.
    static let maxSearch = 200

    init() {}

    /// Parses `a=b&c=d` (form encoding: `+` is a space, `%XX` a byte); the last value wins.
    init(query: String?) {
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = parts.first.flatMap(Self.decode), parts.count == 2, let value = Self.decode(parts[1]) else { continue }
            let trimmed = value.trimmingSpaces
            switch key {
            case "channel": channel = trimmed.isEmpty ? nil : trimmed
            case "label": label = trimmed
            case "subdir": subdir = trimmed.isEmpty ? nil : trimmed
            case "q": search = String(trimmed.prefix(Self.maxSearch))
            case "page": page = Int(trimmed).map { min(max($0, 1), Self.maxPage) } ?? 1
            case "per": perPage = Int(trimmed).map { min(max($0, Self.perPageRange.lowerBound), Self.perPageRange.upperBound) } ?? Self.defaultPerPage
            default: break
            }
        }
    }

    private static func decode(_ text: Substring) -> String? {
        PercentEncoding.decoded(text.replacingOccurrences(of: "+", with: " "))
    }

    var offset: Int { (page - 1) * perPage }

    /// The query string (with its `?`) that asks for this, omitting defaults.
    var href: String {
        var items: [(String, String)] = []
        if let channel { items.append(("channel", channel)) }
        if !label.isEmpty { items.append(("label", label)) }
        if let subdir { items.append(("subdir", subdir)) }
        if !search.isEmpty { items.append(("q", search)) }
        if page != 1 { items.append(("page", String(page))) }
        if perPage != Self.defaultPerPage { items.append(("per", String(perPage))) }
        guard !items.isEmpty else { return "/" }
        return "/?" + items.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }.joined(separator: "&")
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines.
    fileprivate var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
