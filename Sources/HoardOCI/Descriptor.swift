/// An OCI content descriptor (image-spec descriptor.md) as found in manifests and indexes.
public struct OCIDescriptor: Hashable, Sendable {
    public var mediaType: String
    public var digest: OCIDigest
    public var size: Int64
    public var annotations: [String: String]?
    public var artifactType: String?
    /// Kept as parsed; hoard never interprets platforms, it only passes them on.
    public var platform: JSONValue?
    public var urls: [String]?

    public init(
        mediaType: String, digest: OCIDigest, size: Int64, annotations: [String: String]? = nil,
        artifactType: String? = nil, platform: JSONValue? = nil, urls: [String]? = nil
    ) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
        self.artifactType = artifactType
        self.platform = platform
        self.urls = urls
    }

    /// Writes the descriptor with keys in a fixed order: mediaType, artifactType, digest, size,
    /// urls, annotations (sorted keys), platform.
    func write(to o: inout JSONWriter.ObjectWriter) {
        o.string("mediaType", mediaType)
        if let artifactType { o.string("artifactType", artifactType) }
        o.string("digest", digest.description)
        o.int("size", size)
        if let urls {
            o.array("urls") { a in for u in urls { a.string(u) } }
        }
        if let annotations { o.stringMap("annotations", annotations) }
        if let platform { o.value("platform", platform) }
    }
}
