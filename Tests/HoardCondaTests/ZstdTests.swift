import Testing
@testable import HoardConda

@Suite struct ZstdTests {
    func sample(_ n: Int) -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<n).map { i in i % 7 == 0 ? UInt8.random(in: 0...255, using: &rng) : UInt8(i % 31) }
    }

    // 3 MiB is a multiple of zstd's 128 KiB block and output buffer size: the frame ends exactly
    // when the output buffer fills, which once made finish() report a truncated frame.
    @Test(arguments: [(0, 3 << 20), (2, 3 << 20), (0, 3_000_001)])
    func streamingRoundTrip(workers: Int32, size: Int) throws {
        let input = sample(size)
        let c = try ZstdCompressor(level: 3, workers: workers)
        var compressed: [UInt8] = []
        try input.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let n = min(100_000, all.count - offset)
                try c.compress(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)])) { compressed.append(contentsOf: $0) }
                offset += n
            }
        }
        try c.finish { compressed.append(contentsOf: $0) }
        #expect(compressed.count < input.count)

        let d = try ZstdDecompressor(maxOutput: input.count)
        var output: [UInt8] = []
        try compressed.withUnsafeBytes { all in
            // Odd chunk sizes exercise partial frames.
            var offset = 0
            while offset < all.count {
                let n = min(777, all.count - offset)
                try d.decompress(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + n)])) { output.append(contentsOf: $0) }
                offset += n
            }
        }
        try d.finish()
        #expect(output == input)
    }

    @Test func oneShotRoundTrip() throws {
        for input in [[], Array("hello".utf8), sample(200_000)] {
            let c = try Zstd.compress(input, level: 19)
            #expect(try Zstd.decompress(c, maxOutput: 1 << 20) == input)
        }
    }

    @Test func bombIsRejected() throws {
        let zeros = [UInt8](repeating: 0, count: 8 << 20)
        let bomb = try Zstd.compress(zeros, level: 3)
        #expect(bomb.count < 4096)
        #expect(throws: ZstdError.outputLimitExceeded(limit: 1 << 20)) { try Zstd.decompress(bomb, maxOutput: 1 << 20) }
        // The streaming decoder never hands out more than the limit.
        let d = try ZstdDecompressor(maxOutput: 100_000)
        var delivered = 0
        #expect(throws: ZstdError.outputLimitExceeded(limit: 100_000)) {
            try bomb.withUnsafeBytes { try d.decompress($0) { delivered += $0.count } }
        }
        #expect(delivered <= 100_000)
    }

    @Test func truncatedAndGarbage() throws {
        let c = try Zstd.compress(sample(100_000))
        #expect(throws: ZstdError.truncatedInput) { try Zstd.decompress(Array(c.dropLast(10)), maxOutput: 1 << 20) }
        #expect(throws: ZstdError.self) { try Zstd.decompress(Array("not zstd at all".utf8), maxOutput: 1 << 20) }
    }

    @Test func concatenatedFrames() throws {
        let a = try Zstd.compress(Array("abc".utf8)), b = try Zstd.compress(Array("def".utf8))
        #expect(try Zstd.decompress(a + b, maxOutput: 100) == Array("abcdef".utf8))
    }
}

