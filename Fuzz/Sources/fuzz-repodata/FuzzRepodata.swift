import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardConda

/// repodata.json bytes: the `info` scanner, the rewrite plan and the simdjson record map
/// (the C++ shim reads the padded buffer in place) must reject bad documents, never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    _ = try? RepodataInfoScanner.scan(bytes)
    if let plan = try? RepodataRewrite.plan(document: bytes) {
        _ = plan
    }
    let buffer = PaddedBuffer(copying: bytes)
    if let records = try? RepodataRecords.build(buffer) {
        for name in records.keys.prefix(4) {
            if let filename = try? CondaFilename(name) {
                _ = try? RepodataRecords.lookup(filename: filename, in: buffer)
            }
        }
    }
    if let filename = try? CondaFilename("a-1-0.conda") {
        _ = try? RepodataRecords.lookup(filename: filename, in: buffer)
    }
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
