import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif
import HoardOCI

/// OCI manifests and the names around them (references, repository names, digests, tags).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let array = Array(bytes)
    for contentType in [nil, "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
                        "application/vnd.docker.distribution.manifest.v2+json"] as [String?] {
        _ = try? Manifest.parse(array, contentType: contentType)
    }
    let text = String(decoding: bytes, as: UTF8.self)
    _ = try? Reference(text)
    if let name = try? RepositoryName(text) { _ = try? name.appending(text) }
    if let digest = try? OCIDigest(parsing: text) {
        precondition((try? OCIDigest(parsing: digest.description)) == digest, "digest round trip")
    }
    _ = try? Tag(text)
    return 0
}

@main enum FuzzMain {
    static func main() { exit(hoard_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv)) }
}
