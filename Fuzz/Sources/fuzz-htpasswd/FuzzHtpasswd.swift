import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardOCI

/// htpasswd files: parsing never traps (verification, i.e. bcrypt, is not fuzzed: it is slow by
/// design and its input is the parsed hash, which the parser already vets).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    _ = try? Htpasswd(contents: text, source: "fuzz")
    _ = try? BasicCredentials(authorizationHeader: text)
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
