/// Builds the answer to `GET /v2/<name>/referrers/<digest>`: an OCI image index of the manifests
/// whose `subject` is that digest. Never a 404 once referrers are supported: none → empty index.
public enum ReferrersIndex {
    public static let mediaType = OCIMediaType.imageIndex

    public struct Result: Sendable {
        /// The index bytes; serve with `Content-Type: application/vnd.oci.image.index.v1+json`.
        public let bytes: [UInt8]
        /// True when an `artifactType` filter was applied: send `OCI-Filters-Applied: artifactType`.
        public let filtersApplied: Bool
        public let descriptors: [OCIDescriptor]
    }

    /// The descriptor a referrer contributes: its own media type, digest and size, plus its
    /// effective artifactType and manifest-level annotations (image-spec / distribution-spec).
    public static func descriptor(for manifest: Manifest) -> OCIDescriptor {
        OCIDescriptor(
            mediaType: manifest.mediaType, digest: manifest.digest, size: Int64(manifest.size),
            annotations: manifest.annotations.flatMap { $0.isEmpty ? nil : $0 },
            artifactType: manifest.artifactType)
    }

    /// `referrers` in any order; output is sorted by digest so the same set gives the same bytes.
    public static func build(referrers: [OCIDescriptor], artifactType: String? = nil) -> Result {
        var selected = referrers
        if let artifactType { selected = selected.filter { $0.artifactType == artifactType } }
        var seen = Set<OCIDigest>()
        selected = selected.sorted { $0.digest < $1.digest }.filter { seen.insert($0.digest).inserted }
        var w = JSONWriter()
        w.object { o in
            o.int("schemaVersion", 2)
            o.string("mediaType", mediaType)
            o.array("manifests") { a in
                for d in selected { a.object { d.write(to: &$0) } }
            }
        }
        return Result(bytes: w.bytes, filtersApplied: artifactType != nil, descriptors: selected)
    }
}
