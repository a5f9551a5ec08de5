// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for hoard's parsers: a package of its own, so the root package's
// `swift build` / `swift test` never compile them (they need -sanitize=fuzzer). Build and run
// them with `Fuzz/run.sh` (see README.md, "Fuzzing").
let fuzzers: [(name: String, dependencies: [Target.Dependency])] = [
    ("fuzz-http-headers", [.product(name: "HoardHTTP", package: "hoard")]),
    ("fuzz-conda-path", [.product(name: "HoardConda", package: "hoard")]),
    ("fuzz-repodata", [.product(name: "HoardConda", package: "hoard")]),
    ("fuzz-msgpack-shards", [.product(name: "HoardConda", package: "hoard")]),
    ("fuzz-www-authenticate", [.product(name: "HoardOCI", package: "hoard")]),
    ("fuzz-oci-manifest", [.product(name: "HoardOCI", package: "hoard")]),
    ("fuzz-htpasswd", [.product(name: "HoardOCI", package: "hoard")]),
    ("fuzz-config", [.product(name: "HoardConfig", package: "hoard")]),
    ("fuzz-s3-xml", [.product(name: "HoardS3Wire", package: "hoard")]),
]

let package = Package(
    name: "hoard-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "hoard", path: "..")],
    // Each target is one file with @main (so -parse-as-library): it hands LLVMFuzzerTestOneInput
    // to libFuzzer's driver (CLibFuzzer says why not libFuzzer's own main()).
    targets: [.systemLibrary(name: "CLibFuzzer")]
        + fuzzers.map {
            .executableTarget(name: $0.name, dependencies: ["CLibFuzzer"] + $0.dependencies, path: "Sources/\($0.name)")
        }
)
