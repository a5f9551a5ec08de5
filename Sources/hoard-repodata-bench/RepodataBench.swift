// Times the per-snapshot repodata pipeline: read, scan + rewrite plan, record map (simdjson),
// rewritten document streamed through zstd (level 3, 2 workers). Prints peak RSS (VmHWM).
#if canImport(Glibc)
import Glibc
#endif
import HoardConda
import CSimdjson

@main
struct RepodataBench {
    static func main() throws {
        let args = CommandLine.arguments
        guard args.count >= 2 else {
            print("usage: hoard-repodata-bench REPODATA.json [OUT.json.zst]")
            exit(2)
        }
        let path = args[1]
        let outPath = args.count >= 3 && !args[2].hasPrefix("--") ? args[2] : nil

        var t = now()
        let buffer = try readFile(path)
        report("read file (\(buffer.count) bytes)", since: &t)

        let plan = try buffer.withUnsafeBytes { try RepodataRewrite.plan(document: $0) }
        let scanTime = report("scan info + rewrite plan (\(plan.edits.count) edits, upstream base_url: \(plan.upstreamBaseURL ?? "none"))", since: &t)

        let records = try RepodataRecords.build(buffer)
        let recordsTime = report("record map, simdjson On-Demand in place (\(records.count) records)", since: &t)


        var compressedBytes = 0
        let fd: Int32 = outPath.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } ?? -1
        let compressor = try ZstdCompressor(level: 3, workers: 2)
        try compressor.setPledgedSourceSize(UInt64(Edit.resultCount(of: plan.edits, originalCount: buffer.count)))
        let sink: (UnsafeRawBufferPointer) throws -> Void = { chunk in
            compressedBytes += chunk.count
            if fd >= 0 { _ = write(fd, chunk.baseAddress, chunk.count) }
        }
        try buffer.withUnsafeBytes { doc in
            try Edit.apply(plan.edits, to: doc) { piece in
                // Feed in 4 MiB slices so worker output is drained as we go.
                var offset = 0
                while offset < piece.count {
                    let n = min(4 << 20, piece.count - offset)
                    try compressor.compress(UnsafeRawBufferPointer(rebasing: piece[offset..<(offset + n)]), sink: sink)
                    offset += n
                }
            }
        }
        try compressor.finish(sink: sink)
        if fd >= 0 { close(fd) }
        let zstdTime = report("rewrite + zstd -3, 2 workers (\(compressedBytes) bytes, ratio \(format1(Double(buffer.count) / Double(compressedBytes))))", since: &t)

        let probe = records.keys.max()!
        let fn = try CondaFilename(probe)
        let found = try RepodataRecords.lookup(filename: fn, in: buffer)
        report("single lookup of \(probe) (found: \(found != nil))", since: &t)

        if args.contains("--copy-variant") {
            let copied = try buffer.withUnsafeBytes { try RepodataRecords.build(document: $0) }
            report("record map, unpadded input so the shim copies (\(copied.count) records)", since: &t)
        }
        print("pipeline total (scan + records + zstd): \(ms(scanTime + recordsTime + zstdTime)) ms")
        print("peak RSS (VmHWM): \(peakRSS())  document: \(buffer.count / 1024) kB")
    }

    static func readFile(_ path: String) throws -> PaddedBuffer {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw BenchError.io("cannot open \(path)") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw BenchError.io("cannot stat \(path)") }
        return try PaddedBuffer(count: Int(st.st_size)) { (dst: UnsafeMutableRawBufferPointer) throws(BenchError) in
            var done = 0
            while done < dst.count {
                let n = read(fd, dst.baseAddress! + done, min(dst.count - done, 1 << 30))
                guard n > 0 else { throw BenchError.io("short read from \(path)") }
                done += n
            }
        }
    }

    enum BenchError: Error { case io(String) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @discardableResult
    static func report(_ what: String, since t: inout Double) -> Double {
        let n = now()
        let d = n - t
        print("\(ms(d).padded(9)) ms  \(what)")
        t = now()
        return d
    }

    static func ms(_ s: Double) -> String { format1(s * 1000) }
    static func format1(_ v: Double) -> String {
        let scaled = Int((v * 10).rounded())
        return "\(scaled / 10).\(abs(scaled % 10))"
    }

    static func peakRSS() -> String {
        guard let f = fopen("/proc/self/status", "r") else { return "?" }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if s.hasPrefix("VmHWM:") { return s.dropFirst(6).trimmingCharacters() }
        }
        return "?"
    }
}

extension String {
    func padded(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}

extension Substring {
    func trimmingCharacters() -> String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == "\n" || $0 == " " }.reversed())
    }
}
