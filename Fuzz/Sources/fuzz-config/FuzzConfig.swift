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
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
