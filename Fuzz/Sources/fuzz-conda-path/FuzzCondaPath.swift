import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardConda

/// conda request paths and the names inside them: parse never traps, and what parses
/// describes itself as a path that parses to the same thing.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    for candidate in [text, "/" + text, "/conda-forge/linux-64/" + text, "/conda-forge/label/main/noarch/" + text] {
        if let path = try? CondaRequestPath.parse(rawPath: candidate) {
            _ = path.description
        }
    }
    if let filename = try? CondaFilename(text) {
        _ = filename.format
        _ = filename.description
    }
    _ = try? ChannelName(text)
    _ = try? Label(text)
    _ = try? Subdir(text)
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
