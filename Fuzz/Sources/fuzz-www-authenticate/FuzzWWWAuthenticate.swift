import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardOCI

/// WWW-Authenticate challenges from a registry: parsing and building the token URL never trap.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    for challenge in WWWAuthenticateChallenge.parse(text) {
        _ = challenge.tokenURL()
        _ = challenge.tokenURL(scopes: ["repository:a/b:pull"])
    }
    _ = WWWAuthenticateChallenge.parse(headers: text.split(separator: "\n").map(String.init))
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
