import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardConfig

/// The TOML config file: any text either loads or fails with a ConfigError, never traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? HoardConfig.parse(text, path: "fuzz.toml")
    return 0
}

@main enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            guard let data else { return withUnsafeBytes(of: 0) { fuzz($0.baseAddress!, 0) } }
            return fuzz(UnsafeRawPointer(data), size)
        }
        exit(status)
    }
}
