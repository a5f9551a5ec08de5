/// What the templates render: plain stored properties (swift-mustache reads them by reflection).
/// Optional fields are nil rather than empty or zero, since Mustache treats "" and 0 as present.
/// A nil field is looked up in the enclosing views, so nested views never reuse an outer name
/// for something optional.
struct PageView {
    var title = "hoard"
    let version: String
    var message: String? = nil
    var stats: StatsView? = nil
    var channels: [ChannelView] = []
    var oci: OCIView? = nil
    var listing: ListingView? = nil
}

struct StatsView {
    let blobs: String
    let bytes: String
    let bytesExact: String
    let packages: String
    let packageBytes: String
    let maxSize: String?
    let root: String
}

struct ChannelView {
    let name: String
    /// Redacted; nil for a protected channel the visitor may not read.
    let upstream: String?
    let isProtected: Bool
    /// Protected and not granted to this visitor: no upstream, no subdirs.
    let locked: Bool
    let subdirs: [SubdirView]
    let hasSubdirs: Bool
}

struct SubdirView {
    let display: String
    let href: String
    let hasRepodata: Bool
    let files: String
    let bytes: String
}

struct OCIView {
    let repositories: [RepositoryView]
    let hasRepositories: Bool
    let moreRepositories: Int?
    let registries: [RegistryView]
    let hasRegistries: Bool
}

struct RepositoryView {
    let name: String
    let tags: [String]
    let hasTags: Bool
    let moreTags: Int?
}

struct RegistryView {
    let name: String
    let url: String
}

struct ListingView {
    let channel: String
    let label: String?
    let subdir: String
    /// `[label/<label>/]<subdir>`, as in the channel's URLs.
    let path: String
    let search: String?
    let hasRepodata: Bool
    var matchingFiles = "0"
    var matchingNames = "0"
    var totalFiles = "0"
    var totalNames = "0"
    var page = "1"
    var pages = "1"
    var rows: [PackageRowView] = []
    var previous: String? = nil
    var next: String? = nil
}

struct PackageRowView {
    let name: String
    let version: String
    let build: String
    let filename: String
    /// The download through the conda front; nil when the filename is not a valid conda name.
    let href: String?
    let size: String
    let sizeExact: String
    let sha256: String
    let cached: Bool
}

/// Numbers as people read them.
enum WebFormat {
    /// `1234567` → `1,234,567`.
    static func count<I: BinaryInteger>(_ value: I) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (k, c) in digits.enumerated() {
            if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    /// Bytes in binary units with one decimal: `1.5 MiB`; below 1 KiB, exact.
    static func bytes<I: BinaryInteger>(_ value: I) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var amount = Double(value)
        guard amount.magnitude >= 1024 else { return "\(value) B" }
        var unit = -1
        while amount.magnitude >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        let tenths = (amount * 10).rounded()
        return "\(Int64(tenths) / 10).\(Int64(tenths.magnitude) % 10) \(units[unit])"
    }
}
