import Testing

@testable import HoardConfig

/// Inputs found by Fuzz/fuzz-config: each once aborted the process (toml++ assertion).
@Suite struct ConfigHostileTextTests {
    @Test func nonASCIIInATableHeaderIsASyntaxError() {
        // From crash-97b8a696…: "[\x91erver]" (the byte decodes to U+FFFD) then a huge port.
        let error = #expect(throws: ConfigError.self) {
            try HoardConfig.parse("[\u{FFFD}erver]\nport = 99999999999999999999\n", path: "hoard.toml")
        }
        #expect(error.map { "\($0)" }?.contains("hoard.toml") == true)
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[server]\nhost\u{00E9} = \"x\"\n", path: "x") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[server]\nport = 8\u{0661}\n", path: "x") }
        // From crash-1bc46464...: control characters in a table header.
        #expect(throws: ConfigError.self) {
            try HoardConfig.parse("[\u{01}\0\0\0\0\0\0\0\u{01}\0\0\0\0\0\0\u{10}\u{12}s=reve#r]\n", path: "x")
        }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("a = \"x\u{7F}\"\n", path: "x") }
        // From crash-f4a85083...: a table header with no key on its line.
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[serve]\n[\n[lllrs=ervlr]\n", path: "x") }
        #expect(throws: ConfigError.self) { try HoardConfig.parse("[[ \n", path: "x") }
    }

    @Test func aClosingBraceWhereAnArrayWantsAValueIsASyntaxError() {
        // From a clean-clone CI run of `make test` (fuzz-config): toml++ assumes no value starts
        // with '}', and its array parser handed it one.
        let found = "[ser]\nhost =[}erve \"127.0.0.1\"\npr]\n[s/v= \n8080\n[store]\nroot = \"?/var/cache/hoard_x\nm\"as0s!!!!!!!!\"\n"
        let error = #expect(throws: ConfigError.self) { try HoardConfig.parse(found, path: "hoard.toml") }
        #expect(error.map { "\($0)" }?.contains("hoard.toml:2") == true)
        for text in ["a = [ }", "a = [1, }", "a = [1,\n # c\n }", "a = [{ b = 1 }, }"] {
            #expect(TOMLPrecheck.firstMisplacedCharacter(in: text)?.message == TOMLPrecheck.braceWithoutValue, "\(text)")
        }
        // What is valid keeps loading: an empty inline table, braces in strings and comments.
        for text in ["a = [{}, { b = 1 }]", "a = { b = [1, 2] }", "a = \"[}\" # [, }\n", "a = [\n  1,\n]"] {
            #expect(TOMLPrecheck.firstMisplacedCharacter(in: text) == nil, "\(text)")
        }
    }

    @Test func nonASCIIInStringsAndCommentsStillLoads() throws {
        let config = try HoardConfig.parse("""
            # café ☕
            [store]
            root = "/srv/café"  # ünïcode
            """, path: "x")
        #expect(config.root == "/srv/café")
        #expect(TOMLPrecheck.firstMisplacedCharacter(in: "a = \"\"\"\nü\n\"\"\"\nb = '''ü'''\r\n\tc = 1\n[ server ]\n[[ \"x\" ]]\n") == nil)
        let position = TOMLPrecheck.firstMisplacedCharacter(in: "a = \"\\\"ü\"\nü = 1")
        #expect(position?.line == 2 && position?.column == 1)
        #expect(position?.message == TOMLPrecheck.badCharacter)
    }
}
