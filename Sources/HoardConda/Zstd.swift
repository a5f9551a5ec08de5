import CZstd

public enum ZstdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libzstd reported an error (message from `ZSTD_getErrorName`).
    case library(String)
    /// Decompressed output would exceed the configured limit (decompression bomb or wrong file).
    case outputLimitExceeded(limit: Int)
    /// Input ended inside a zstd frame (truncated download).
    case truncatedInput
    case allocationFailed

    public var description: String {
        switch self {
        case .library(let m): return "zstd error: \(m)"
        case .outputLimitExceeded(let l): return "zstd output exceeds the limit of \(l) bytes; refusing to decompress further (raise the limit if the document is legitimately this large)"
        case .truncatedInput: return "zstd input ends in the middle of a frame; the file is truncated"
        case .allocationFailed: return "zstd could not allocate its context (out of memory)"
        }
    }
}

@inline(__always)
private func check(_ code: Int) throws(ZstdError) -> Int {
    if ZSTD_isError(code) != 0 { throw .library(String(cString: ZSTD_getErrorName(code))) }
    return code
}

/// Streaming zstd compressor. One instance is one frame; not thread-safe and not Sendable
/// (it owns mutable C state), so keep it inside one task.
///
/// Methods take a `sink` that receives each output chunk; the chunk is only valid during the
/// call. They throw `ZstdError` or whatever the sink throws.
public final class ZstdCompressor {
    private let context: OpaquePointer
    private var output: UnsafeMutableRawBufferPointer

    /// - Parameters:
    ///   - level: 1...19 (22 with ultra); 3 is zstd's default.
    ///   - workers: `ZSTD_c_nbWorkers`; 0 compresses on the calling thread, N > 0 uses N
    ///     background threads (output then arrives in larger, later bursts).
    ///   - checksum: append a content checksum so truncation/corruption is detected on read.
    public init(level: Int32 = 3, workers: Int32 = 0, checksum: Bool = true) throws(ZstdError) {
        guard let cctx = ZSTD_createCCtx() else { throw .allocationFailed }
        context = cctx
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        do {
            _ = try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))
            _ = try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0))
            if workers > 0 { _ = try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers)) }
        } catch {
            ZSTD_freeCCtx(cctx)
            output.deallocate()
            throw error
        }
    }

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    /// Declares the total input size up front (written into the frame header); optional.
    public func setPledgedSourceSize(_ size: UInt64) throws(ZstdError) {
        _ = try check(ZSTD_CCtx_setPledgedSrcSize(context, size))
    }

    /// Feeds one input chunk.
    public func compress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while inBuf.pos < inBuf.size {
            var outBuf = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            _ = try check(ZSTD_compressStream2(context, &outBuf, &inBuf, ZSTD_e_continue))
            if outBuf.pos > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: outBuf.pos)) }
        }
    }

    /// Ends the frame, flushing everything still buffered (including worker output).
    public func finish(sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var inBuf = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while true {
            var outBuf = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let remaining = try check(ZSTD_compressStream2(context, &outBuf, &inBuf, ZSTD_e_end))
            if outBuf.pos > 0 { try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: outBuf.pos)) }
            if remaining == 0 { break }
        }
    }

    /// Resets the context for a new frame, keeping the parameters.
    public func reset() {
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
    }
}

/// Streaming zstd decompressor with a hard cap on total output, so a small hostile input cannot
/// expand into gigabytes. Accepts concatenated frames. Not Sendable (mutable C state).
public final class ZstdDecompressor {
    private let context: OpaquePointer
    private var output: UnsafeMutableRawBufferPointer
    public let maxOutput: Int
    public private(set) var totalOutput = 0
    /// True once the last frame fed so far was completely decoded.
    private var atFrameBoundary = true

    public init(maxOutput: Int) throws(ZstdError) {
        guard let dctx = ZSTD_createDCtx() else { throw .allocationFailed }
        context = dctx
        self.maxOutput = maxOutput
        output = .allocate(byteCount: ZSTD_DStreamOutSize(), alignment: 16)
        // Refuse frames that need huge windows (memory bomb through the window size).
        _ = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 27)
    }

    deinit {
        ZSTD_freeDCtx(context)
        output.deallocate()
    }

    /// Feeds one compressed chunk. Throws `.outputLimitExceeded` before handing the sink any
    /// byte past the limit.
    public func decompress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard input.count > 0 else { return }
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while true {
            var outBuf = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
            let consumedBefore = inBuf.pos
            let hint = try check(ZSTD_decompressStream(context, &outBuf, &inBuf))
            // After a frame ends, an extra call with no new input already asks for the next
            // frame's header; only calls that made progress say where we are.
            if hint == 0 {
                atFrameBoundary = true
            } else if inBuf.pos > consumedBefore || outBuf.pos > 0 {
                atFrameBoundary = false
            }
            if outBuf.pos > 0 {
                guard totalOutput + outBuf.pos <= maxOutput else { throw ZstdError.outputLimitExceeded(limit: maxOutput) }
                totalOutput += outBuf.pos
                try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: outBuf.pos))
            }
            // Done when all input is consumed and the output buffer was not filled (nothing pending).
            if inBuf.pos == inBuf.size && (outBuf.pos < outBuf.size || hint == 0) { break }
        }
    }

    /// Checks that the input ended on a frame boundary.
    public func finish() throws(ZstdError) {
        guard atFrameBoundary else { throw .truncatedInput }
    }
}

/// One-shot helpers for small documents (shard indexes, shards, tests).
public enum Zstd {
    public static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 3) throws(ZstdError) -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = try withTypedError(ZstdError.self) {
            try out.withUnsafeMutableBytes { o in
                try check(ZSTD_compress(o.baseAddress, o.count, input.baseAddress, input.count, level))
            }
        }
        out.removeLast(bound - written)
        return out
    }

    public static func compress(_ input: [UInt8], level: Int32 = 3) throws(ZstdError) -> [UInt8] {
        try withTypedError(ZstdError.self) { try input.withUnsafeBytes { try compress($0, level: level) } }
    }

    /// Decompresses with the streaming decoder, so frames without a content size work too.
    public static func decompress(_ input: UnsafeRawBufferPointer, maxOutput: Int) throws(ZstdError) -> [UInt8] {
        let d = try ZstdDecompressor(maxOutput: maxOutput)
        var out: [UInt8] = []
        let size = ZSTD_getFrameContentSize(input.baseAddress, input.count)
        if size < UInt64(maxOutput) { out.reserveCapacity(Int(size)) }
        try withTypedError(ZstdError.self) { try d.decompress(input) { out.append(contentsOf: $0) } }
        try d.finish()
        return out
    }

    public static func decompress(_ input: [UInt8], maxOutput: Int) throws(ZstdError) -> [UInt8] {
        try withTypedError(ZstdError.self) { try input.withUnsafeBytes { try decompress($0, maxOutput: maxOutput) } }
    }
}
