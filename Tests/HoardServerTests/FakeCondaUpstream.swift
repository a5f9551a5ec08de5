import Foundation
import HoardOCI
import Hummingbird
import HummingbirdTesting
import Synchronization

/// A tiny conda channel served live at `/channel/...` for the conda front to pull through from:
/// `noarch` holds `fx-lib` 1.0 (`.conda` and `.tar.bz2`), `fx-lib` 2.0 (`.conda`) and
/// `_private` 1.0 (`.conda`), as short stand-in bytes, and `fx-real` 1.0 (`.conda` and
/// `.tar.bz2`) and `_real` 1.0 (`.conda`) as real archives (the OCI view reads their `info/`);
/// `linux-64` is empty. Counts the requests per path.
final class FakeCondaUpstream: Sendable {
    struct Package: Sendable {
        let filename: String
        let bytes: [UInt8]
        var sha256: String { OCIDigest.compute(.sha256, of: bytes).hex }
    }

    let packages: [Package] = [
        Package(filename: "fx-lib-1.0-0.conda", bytes: Array("fx-lib 1.0 conda archive".utf8)),
        Package(filename: "fx-lib-1.0-0.tar.bz2", bytes: Array("fx-lib 1.0 tar.bz2 archive".utf8)),
        Package(filename: "fx-lib-2.0-1.conda", bytes: Array("fx-lib 2.0 conda archive".utf8)),
        Package(filename: "_private-1.0-0.conda", bytes: Array("private conda archive".utf8)),
        Package(filename: "fx-real-1.0-0.conda", bytes: TestCondaArchive.conda(name: "fx-real", version: "1.0", build: "0")),
        Package(filename: "fx-real-1.0-0.tar.bz2", bytes: TestCondaArchive.tarBz2(name: "fx-real", version: "1.0", build: "0")),
        Package(filename: "_real-1.0-0.conda", bytes: TestCondaArchive.conda(name: "_real", version: "1.0", build: "0")),
    ]
    static let md5 = "0123456789abcdef0123456789abcdef"
    static let timestampMillis: UInt64 = 1_700_000_000_000

    private let counts = Mutex<[String: Int]>([:])
    /// Package files answered with wrong bytes of the right length (a broken mirror).
    private let corrupted = Mutex<Set<String>>([])

    func count(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }

    func corrupt(_ filename: String) { _ = corrupted.withLock { $0.insert(filename) } }

    func package(_ filename: String) -> Package { packages.first { $0.filename == filename }! }

    func repodata(subdir: String) -> [UInt8] {
        var conda: [String: Any] = [:]
        var tarBz2: [String: Any] = [:]
        if subdir == "noarch" {
            for package in packages {
                let stem = package.filename.replacingOccurrences(of: ".conda", with: "").replacingOccurrences(of: ".tar.bz2", with: "")
                let parts = stem.split(separator: "-")
                let record: [String: Any] = [
                    "name": parts.dropLast(2).joined(separator: "-"), "version": String(parts[parts.count - 2]),
                    "build": String(parts[parts.count - 1]), "sha256": package.sha256, "size": package.bytes.count, "md5": Self.md5,
                    "timestamp": Self.timestampMillis, "subdir": "noarch", "depends": [String](),
                ]
                if package.filename.hasSuffix(".conda") { conda[package.filename] = record } else { tarBz2[package.filename] = record }
            }
        }
        let document: [String: Any] = ["info": ["subdir": subdir], "packages": tarBz2, "packages.conda": conda, "repodata_version": 1]
        return Array(try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))
    }

    /// Serves the channel for the duration of `body`, which gets the channel's base URL.
    func run<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.get("/channel/:subdir/:file") { request, context -> Response in
            let subdir = context.parameters.get("subdir") ?? ""
            let file = context.parameters.get("file") ?? ""
            self.counts.withLock { $0["\(subdir)/\(file)", default: 0] += 1 }
            let headers: HTTPFields = [.lastModified: "Tue, 14 Nov 2023 22:13:20 GMT"]
            if file == "repodata.json", ["noarch", "linux-64"].contains(subdir) {
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: self.repodata(subdir: subdir))))
            }
            if subdir == "noarch", let package = self.packages.first(where: { $0.filename == file }) {
                let bytes = self.corrupted.withLock { $0.contains(file) } ? package.bytes.map { $0 ^ 0x5a } : package.bytes
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
            return Response(status: .notFound)
        }
        return try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
            .test(.live) { client in try await body("http://127.0.0.1:\(client.port!)/channel") }
    }
}
