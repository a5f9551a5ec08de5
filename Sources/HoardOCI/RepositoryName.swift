/// A repository name (`<name>` in `/v2/<name>/...`), validated against the distribution-spec
/// grammar `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
public struct RepositoryName: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Many clients cap host + "/" + name at 255; capping the name alone is the registry's part.
    public static let maxLength = 255

    public let value: String

    public init(_ text: String) throws(RepositoryNameError) {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= Self.maxLength else { throw .tooLong(text, Self.maxLength) }
        if let problem = Self.grammarProblem(text) { throw .invalid(text, problem) }
        value = text
    }

    /// The `/`-separated path components.
    public var components: [Substring] { value.split(separator: "/", omittingEmptySubsequences: false) }

    /// Appends components (`conda-forge` + `linux-64/zlib`); the result is validated again.
    public func appending(_ path: String) throws(RepositoryNameError) -> RepositoryName {
        try RepositoryName(value + "/" + path)
    }

    public var description: String { value }
    public static func < (a: RepositoryName, b: RepositoryName) -> Bool { a.value < b.value }

    public static func isValid(_ text: String) -> Bool { (try? RepositoryName(text)) != nil }

    /// Hand-written matcher (no regex engine): returns why `text` fails, or nil when it matches.
    static func grammarProblem(_ text: String) -> String? {
        for component in text.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if let problem = componentProblem(Array(component)) { return problem }
        }
        return nil
    }

    private static func componentProblem(_ bytes: [UInt8]) -> String? {
        guard let first = bytes.first, let last = bytes.last else {
            return "empty path component (leading, trailing or double \"/\")"
        }
        guard OCIDigest.isLowerAlnum(first), OCIDigest.isLowerAlnum(last) else {
            return "each path component must start and end with a lowercase letter or digit"
        }
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if OCIDigest.isLowerAlnum(b) {
                i += 1
                continue
            }
            // A separator run between alphanumerics: ".", "_", "__" or one or more "-".
            var j = i
            while j < bytes.count, !OCIDigest.isLowerAlnum(bytes[j]) { j += 1 }
            let run = bytes[i..<j]
            let ok: Bool
            if run.allSatisfy({ $0 == UInt8(ascii: "-") }) {
                ok = true
            } else if run.elementsEqual([UInt8(ascii: ".")]) || run.elementsEqual([UInt8(ascii: "_")])
                || run.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
            {
                ok = true
            } else if run.contains(where: { !($0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")) }) {
                return "only lowercase letters, digits, \".\", \"_\", \"-\" and \"/\" are allowed"
            } else {
                ok = false
            }
            if !ok {
                let shown = String(decoding: run, as: UTF8.self)
                return "separator \"\(shown)\" is not allowed; use \".\", \"_\", \"__\" or dashes"
            }
            i = j
        }
        return nil
    }
}

public enum RepositoryNameError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(String, Int)
    case invalid(String, String)

    public var message: String {
        switch self {
        case .empty: "repository name is empty"
        case .tooLong(let s, let max): "repository name is \(s.utf8.count) characters long; the limit is \(max)"
        case .invalid(let s, let why): "invalid repository name \"\(s)\": \(why)"
        }
    }

    public var description: String { message }
    public var ociError: OCIError { OCIError(.nameInvalid, message) }
}

