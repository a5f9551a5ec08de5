import CCrypt

/// bcrypt verification through libxcrypt's `crypt_rn` (re-entrant; no shared static buffer).
enum Bcrypt {
    /// The hash prefixes libxcrypt treats as bcrypt.
    static let prefixes = ["$2y$", "$2b$", "$2a$"]

    static func isBcrypt(_ hash: String) -> Bool { prefixes.contains { hash.hasPrefix($0) } }

    /// Hashes `password` with the salt and cost in `setting` (a full bcrypt hash works as setting).
    /// Returns nil when libxcrypt rejects the setting.
    static func hash(password: String, setting: String) -> String? {
        // struct crypt_data is ~32 KiB: heap, not stack. Zeroed as crypt_rn's docs require.
        let data = UnsafeMutableRawPointer.allocate(
            byteCount: MemoryLayout<crypt_data>.size, alignment: MemoryLayout<crypt_data>.alignment)
        defer {
            data.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
            data.deallocate()
        }
        data.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<crypt_data>.size)
        guard let out = crypt_rn(password, setting, data, Int32(MemoryLayout<crypt_data>.size)) else { return nil }
        let result = String(cString: out)
        // libxcrypt signals failure with a string starting with "*".
        return result.hasPrefix("*") ? nil : result
    }

    /// Constant-time check of `password` against a stored bcrypt hash.
    static func verify(password: String, hash: String) -> Bool {
        guard let computed = Bcrypt.hash(password: password, setting: hash) else { return false }
        return ConstantTime.equal(Array(computed.utf8), Array(hash.utf8))
    }
}

enum ConstantTime {
    /// Compares without an early exit, so timing does not reveal the matching prefix length.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0 && a.count == b.count
    }
}
