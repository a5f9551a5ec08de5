import HoardConda
import HoardUpstream

/// The upstream documents a channel serves, each cached as snapshots with validators.
enum DocumentKind: String, Sendable, Hashable {
    case repodata = "repodata.json"
    case currentRepodata = "current_repodata.json"
    case repodataBz2 = "repodata.json.bz2"
    case shardIndex = "repodata_shards.msgpack.zst"
    case channeldata = "channeldata.json"

    /// The upstream files to try, in order; `true` marks a zstd-compressed variant of the document.
    var upstreamFiles: [(file: String, zstd: Bool)] {
        switch self {
        // The .zst is a tenth of the size; hoard derives the .json from it (same snapshot).
        case .repodata: return [("repodata.json.zst", true), ("repodata.json", false)]
        default: return [(rawValue, false)]
        }
    }

    /// Whether the document is JSON whose `info` may carry absolute URLs to rewrite.
    var isRewrittenJSON: Bool { self == .repodata || self == .currentRepodata }

    var contentType: String {
        switch self {
        case .repodata, .currentRepodata, .channeldata: return "application/json"
        case .repodataBz2: return "application/x-bzip2"
        case .shardIndex: return "application/octet-stream"
        }
    }

    /// How the upstream body must start: anything else (an error page sent with 200, random
    /// bytes) is refused before it is stored.
    func signature(zstd: Bool) -> BodySignature {
        if zstd { return .zstd }
        switch self {
        case .repodata, .currentRepodata, .channeldata: return .jsonObject
        case .repodataBz2: return .bzip2
        case .shardIndex: return .zstd
        }
    }

    /// Checks a whole document (decompressed) before any of it is stored: what the later steps
    /// parse (the `info` of repodata, the shard index) must parse, else upstream sent bad bytes.
    /// Channeldata and the .bz2 are passed through as they are; only their start was checked.
    func validate(_ bytes: UnsafeRawBufferPointer, url: String) throws(UpstreamError) {
        switch self {
        case .repodata, .currentRepodata:
            do { _ = try RepodataRewrite.plan(document: bytes) } catch {
                throw .integrity(url: url, detail: "not a repodata document: \(error)")
            }
        case .shardIndex:
            do { _ = try ShardIndex(compressed: bytes) } catch {
                throw .integrity(url: url, detail: "not a shard index: \(error)")
            }
        case .repodataBz2, .channeldata:
            break
        }
    }

    /// The largest upstream body accepted for it; bounds what a broken upstream can do. The
    /// configured `--max-document-size` lowers it (DocumentBuilder.limit(for:)).
    var sizeLimit: Int64 {
        switch self {
        case .repodata, .currentRepodata: return 4 << 30
        case .repodataBz2: return 1 << 30
        case .shardIndex, .channeldata: return 512 << 20
        }
    }
}

/// One document of one channel (and label, and subdir).
struct DocumentKey: Sendable, Hashable, CustomStringConvertible {
    let channel: String
    let label: String
    /// `""` for channel-level documents.
    let subdir: String
    let kind: DocumentKind

    var description: String {
        [channel, label.isEmpty ? nil : "label/\(label)", subdir.isEmpty ? nil : subdir, kind.rawValue]
            .compactMap { $0 }.joined(separator: "/")
    }
}
