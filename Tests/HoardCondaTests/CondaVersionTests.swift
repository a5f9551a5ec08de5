import Testing
@testable import HoardConda

/// Cases from conda's own documentation of `VersionOrder` and its test suite's facts.
@Suite struct CondaVersionTests {
    /// conda's `VersionOrder` docstring: each entry sorts after the previous one, `==` marks equals.
    static let documentedOrder: [(String, Bool)] = [
        ("0.4", false), ("0.4.0", true), ("0.4.1.rc", false), ("0.4.1.RC", true), ("0.4.1", false),
        ("0.5a1", false), ("0.5b3", false), ("0.5C1", false), ("0.5", false), ("0.9.6", false),
        ("0.960923", false), ("1.0", false), ("1.1dev1", false), ("1.1_", false), ("1.1a1", false),
        ("1.1.0dev1", false), ("1.1.dev1", true), ("1.1.a1", false), ("1.1.0rc1", false), ("1.1.0", false),
        ("1.1", true), ("1.1.0post1", false), ("1.1.post1", true), ("1.1post1", false), ("1996.07.12", false),
        ("1!0.4.1", false), ("1!3.1.1.6", false), ("2!0.4.1", false),
    ]

    @Test func documentedOrdering() throws {
        let versions = try Self.documentedOrder.map { (try CondaVersion($0.0), $0.1) }
        for k in 1..<versions.count {
            let (previous, _) = versions[k - 1]
            let (current, equal) = versions[k]
            if equal {
                #expect(previous == current, "\(previous) == \(current)")
                #expect(previous.hashValue == current.hashValue, "equal versions hash alike: \(previous), \(current)")
            } else {
                #expect(previous < current, "\(previous) < \(current)")
                #expect(!(current < previous))
            }
        }
        // Sorting a shuffled copy gives the documented order back (ties keep their class).
        let sorted = versions.map(\.0).reversed().sorted()
        for (a, b) in zip(sorted, versions.map(\.0)) { #expect(a == b) }
    }

    /// conda's openssl convention: letters after the number sort below it, a trailing `_` first.
    @Test func opensslConvention() throws {
        let order = ["1.0.1dev", "1.0.1_", "1.0.1a", "1.0.1b", "1.0.1c", "1.0.1d", "1.0.1r", "1.0.1rc", "1.0.1rc1",
                     "1.0.1rc2", "1.0.1s", "1.0.1", "1.0.1post.a", "1.0.1post.b", "1.0.1post.z", "1.0.1post.za", "1.0.2"]
        let versions = try order.map { try CondaVersion($0) }
        for k in 1..<versions.count { #expect(versions[k - 1] < versions[k], "\(versions[k - 1]) < \(versions[k])") }
    }

    @Test func numbersDoNotOverflowAndIgnoreLeadingZeros() throws {
        #expect(try CondaVersion("1.01") == CondaVersion("1.1"))
        #expect(try CondaVersion("99999999999999999999999") < CondaVersion("100000000000000000000000"))
        #expect(try CondaVersion("2024.10.1") > CondaVersion("2024.9.30"))
    }

    @Test func localVersionsAndDashes() throws {
        #expect(try CondaVersion("1.0+abc") < CondaVersion("1.0+abd"))
        #expect(try CondaVersion("1.0") < CondaVersion("1.0+1"))
        #expect(try CondaVersion("1.0-2") == CondaVersion("1.0_2"))
        #expect(try CondaVersion("1.0-2") == CondaVersion("1.0.2"))
    }

    @Test(arguments: ["", "1..2", "1.2.", ".1", "1!2!3", "a!1", "1+2+3", "1.2 3", "1.2#", "1.2-3_4", "+1"])
    func invalid(_ text: String) {
        #expect(throws: VersionSpecError.self) { try CondaVersion(text) }
    }

    @Test func prefixes() throws {
        let p = try CondaVersion("1.2")
        #expect(try CondaVersion("1.2").hasPrefix(p))
        #expect(try CondaVersion("1.2.0").hasPrefix(p))
        #expect(try CondaVersion("1.2.5rc1").hasPrefix(p))
        #expect(try !CondaVersion("1.20").hasPrefix(p))
        #expect(try !CondaVersion("1.3").hasPrefix(p))
        #expect(try !CondaVersion("1.2").hasPrefix(CondaVersion("1.2.0")))
        #expect(try CondaVersion("1.2rc1").hasPrefix(CondaVersion("1.2rc")))
        #expect(try !CondaVersion("2!1.2").hasPrefix(p))
    }
}

@Suite struct VersionSpecTests {
    @Test(arguments: [
        // (spec, version, matches), after conda's VersionSpec tests.
        ("1.7.1", "1.7.1", true), ("1.7.1", "1.7.1.0", true), ("1.7", "1.7.1", false),
        ("1.7*", "1.7.1", true), ("1.7.*", "1.7.1", true), ("1.7.*", "1.7", true), ("1.7.*", "1.70", false),
        ("*", "0.1", true), (">=1.7,<1.8", "1.7.1", true), (">=1.7,<1.8", "1.8", false), (">=1.7,<1.8", "1.8.0a1", true),
        ("<1.8", "1.8a1", true), (">1.7", "1.7.0", false), (">1.7", "1.7.post1", true), ("<=1.7", "1.7.0", true),
        ("!=1.7", "1.7.0", false), ("!=1.7", "1.7.1", true), ("!=1.7.*", "1.7.1", false), ("!=1.7.*", "1.8", true),
        ("==1.7", "1.7.0", true), ("==1.7.*", "1.7.3", true), ("=1.7", "1.7.3", true), ("=1.7", "1.8", false),
        ("~=1.2.3", "1.2.4", true), ("~=1.2.3", "1.2.2", false), ("~=1.2.3", "1.3", false), ("~=1.2", "1.9", true), ("~=1.2", "2.0", false),
        ("1.6.*|>1.7", "1.6.5", true), ("1.6.*|>1.7", "1.7", false), ("1.6.*|>1.7", "1.8", true),
        ("(>=1,<2)|(>=3,<4)", "3.5", true), ("(>=1,<2)|(>=3,<4)", "2.5", false), (">=1,<2|>=3,<4", "1.5", true),
        ("1.*.3", "1.2.3", true), ("1.*.3", "1.2.4", false), (">= 2 , < 3", "2.5", true), (">=1.2.*", "1.1", false),
    ])
    func matching(spec: String, version: String, expected: Bool) throws {
        #expect(try VersionSpec(parsing: spec).matches(CondaVersion(version)) == expected, "\(spec) vs \(version)")
    }

    @Test(arguments: ["", ">=", ">=1,", "(1.2", "1.2)", "~=1.*", ">=1.*.2", ">=1..2", "|1"])
    func invalid(_ text: String) {
        #expect(throws: VersionSpecError.self) { try VersionSpec(parsing: text) }
    }

    @Test func globs() {
        #expect(Glob.matches("*_0", "h4ab18f5_0"))
        #expect(!Glob.matches("*_0", "h4ab18f5_10"))
        #expect(Glob.matches("py3*", "py310h1234_0"))
        #expect(Glob.matches("*", ""))
        #expect(Glob.matches("a*b*c", "aXbYbZc"))
        #expect(!Glob.matches("abc", "abcd"))
    }
}

@Suite struct MatchSpecTests {
    struct Record: Sendable, CustomStringConvertible {
        let name: String, version: String, build: String, buildNumber: Int
        init(_ name: String, _ version: String, _ build: String = "h0_0", _ buildNumber: Int = 0) {
            self.name = name; self.version = version; self.build = build; self.buildNumber = buildNumber
        }
        var description: String { "\(name)-\(version)-\(build)" }
    }

    func check(_ spec: String, _ record: Record) throws -> Bool {
        try MatchSpec(spec).matches(name: record.name, version: CondaVersion(record.version), build: record.build, buildNumber: record.buildNumber)
    }

    @Test(arguments: [
        ("numpy", Record("numpy", "1.0"), true), ("numpy", Record("scipy", "1.0"), false),
        ("numpy >=2,<3", Record("numpy", "2.1.0"), true), ("numpy >=2,<3", Record("numpy", "3.0"), false),
        ("numpy >=2,<3", Record("numpy", "1.26.4"), false), ("numpy>=2,<3", Record("numpy", "2.0"), true),
        ("numpy >= 2 , < 3", Record("numpy", "2.0"), true),
        ("python 3.12.*", Record("python", "3.12.4"), true), ("python 3.12.*", Record("python", "3.13.0"), false),
        ("python 3.12.*", Record("python", "3.1.2"), false),
        ("openssl=3.*=*_0", Record("openssl", "3.0.13", "h4ab18f5_0"), true),
        ("openssl=3.*=*_0", Record("openssl", "3.0.13", "h4ab18f5_1"), false),
        ("openssl=3.*=*_0", Record("openssl", "1.1.1w", "hd590300_0"), false),
        ("numpy=1.11", Record("numpy", "1.11.18"), true), ("numpy=1.11", Record("numpy", "1.110"), false),
        ("numpy=1.11", Record("numpy", "1.12"), false), ("numpy==1.11", Record("numpy", "1.11.0"), true),
        ("numpy==1.11", Record("numpy", "1.11.1"), false),
        ("numpy=1.11.1|1.11.3", Record("numpy", "1.11.3"), true), ("numpy=1.11.1|1.11.3", Record("numpy", "1.11.2"), false),
        ("numpy=1.8=py27_0", Record("numpy", "1.8", "py27_0"), true), ("numpy=1.8=py27_0", Record("numpy", "1.8.1", "py27_0"), false),
        ("numpy 1.8 py27_0", Record("numpy", "1.8", "py27_0"), true), ("numpy 1.8 py27_0", Record("numpy", "1.8", "py27_1"), false),
        ("numpy * py3*", Record("numpy", "2.0", "py310h_0"), true),
        ("conda-forge::numpy>=1.8", Record("numpy", "1.9"), true),
        ("numpy[version='>=1.8,<2', build=py*]", Record("numpy", "1.9", "py39_0"), true),
        ("numpy[version='>=1.8,<2', build=py*]", Record("numpy", "1.9", "np39_0"), false),
        ("numpy[build_number='>=3']", Record("numpy", "1.9", "h_3", 3), true),
        ("numpy[build_number='>=3']", Record("numpy", "1.9", "h_2", 2), false),
        ("NumPy >=1", Record("numpy", "1.0"), true), ("numpy # a comment", Record("numpy", "1.0"), true),
    ])
    func matching(spec: String, record: Record, expected: Bool) throws {
        #expect(try check(spec, record) == expected, "\(spec) vs \(record)")
    }

    @Test func parts() throws {
        let spec = try MatchSpec("conda-forge::openssl=3.*=*_0")
        #expect(spec.name == "openssl")
        #expect(spec.channel == "conda-forge")
        #expect(spec.build == "*_0")
        #expect(spec.version == .startsWith(try CondaVersion("3")))
        #expect(try MatchSpec("python").version == nil)
    }

    @Test(arguments: ["", "   ", ">=1.0", "numpy >=", "numpy 1.0 b c", "numpy[foo=1]", "numpy[version='1", "numpy 1..2",
                      "numpy=1.0=", "numpy[build_number=x]", "nu$mpy"])
    func invalid(_ text: String) {
        #expect(throws: VersionSpecError.self) { try MatchSpec(text) }
    }
}
