import HoardDigest
import Testing

@Suite struct BlobDigestTests {
    static let hex = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

    @Test func hexRoundTripsAndPrintsAsOCI() throws {
        let d = try #require(BlobDigest(hex: Self.hex))
        #expect(d.hex == Self.hex)
        #expect(d.description == "sha256:" + Self.hex)
        #expect(d.prefix == "2c")
        #expect(BlobDigest(bytes: d.bytes) == d)
    }

    @Test func lenientHexAcceptsUppercaseButCanonicalDoesNot() {
        #expect(BlobDigest(hex: Self.hex.uppercased()) == BlobDigest(hex: Self.hex))
        #expect(BlobDigest(canonical: Self.hex.uppercased()) == nil)
        #expect(BlobDigest(canonical: Self.hex) != nil)
        #expect(BlobDigest(canonical: "sha256:" + Self.hex) == BlobDigest(hex: Self.hex))
    }

    @Test(arguments: ["", "sha256:", "sha512:" + hex, String(hex.dropLast()), hex + "0", String(hex.dropLast()) + "g", " " + hex, "sha256:" + hex.uppercased()])
    func malformedSpellingsAreRefused(_ text: String) {
        #expect(BlobDigest(canonical: text) == nil)
    }

    @Test func ordersLikeItsHex() throws {
        let a = try #require(BlobDigest(hex: "0" + String(Self.hex.dropFirst())))
        let b = try #require(BlobDigest(hex: Self.hex))
        #expect(a < b)
        #expect((a.hex < b.hex) == (a < b))
    }

    @Test func wrongByteCountIsNil() {
        #expect(BlobDigest(bytes: [UInt8](repeating: 1, count: 31)) == nil)
        #expect(BlobDigest(bytes: [UInt8](repeating: 1, count: 33)) == nil)
    }
}
