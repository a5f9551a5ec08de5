import Foundation

/// A parsed manifest or index. Parsing never re-encodes: store and serve the original bytes and
/// use this model only to validate and to learn what the document references.
public struct Manifest: Hashable, Sendable {
    /// Registries commonly cap manifests at 4 MiB; larger documents are refused before parsing.
    public static let maxSize = 4 * 1024 * 1024

    public enum Kind: Hashable, Sendable {
        case ociImageManifest
        case ociImageIndex
        case dockerManifest
        case dockerManifestList

        public var isIndex: Bool { self == .ociImageIndex || self == .dockerManifestList }

        public var mediaType: String {
            switch self {
            case .ociImageManifest: OCIMediaType.imageManifest
            case .ociImageIndex: OCIMediaType.imageIndex
            case .dockerManifest: OCIMediaType.dockerManifest
            case .dockerManifestList: OCIMediaType.dockerManifestList
            }
        }

        init?(mediaType: String) {
            switch mediaType {
            case OCIMediaType.imageManifest: self = .ociImageManifest
            case OCIMediaType.imageIndex: self = .ociImageIndex
            case OCIMediaType.dockerManifest: self = .dockerManifest
            case OCIMediaType.dockerManifestList: self = .dockerManifestList
            default: return nil
            }
        }
    }

    public let kind: Kind
    /// The media type to serve as `Content-Type` (from the document, else the upload's header).
    public let mediaType: String
    /// Whether `mediaType` appeared in the document (oras-py and Docker always write it).
    public let mediaTypeInDocument: Bool
    public let config: OCIDescriptor?
    public let layers: [OCIDescriptor]
    public let manifests: [OCIDescriptor]
    public let subject: OCIDescriptor?
    /// The document's own `artifactType` field.
    public let declaredArtifactType: String?
    public let annotations: [String: String]?
    /// sha256 of the exact bytes parsed.
    public let digest: OCIDigest
    public let size: Int

    /// The spec rule for referrers: `artifactType`, else `config.mediaType` for image manifests.
    public var artifactType: String? {
        if let declaredArtifactType { return declaredArtifactType }
        if !kind.isIndex { return config?.mediaType }
        return nil
    }

    /// Blobs the registry must hold before accepting the manifest: config then layers, deduplicated.
    public var referencedBlobs: [OCIDigest] {
        var seen = Set<OCIDigest>()
        return ([config].compactMap { $0 } + layers).map(\.digest).filter { seen.insert($0).inserted }
    }

    /// Manifests an index points at (empty for image manifests).
    public var childManifests: [OCIDigest] {
        var seen = Set<OCIDigest>()
        return manifests.map(\.digest).filter { seen.insert($0).inserted }
    }

    /// Parses and validates `bytes`. `contentType` is the upload's `Content-Type` header, if any.
    public static func parse(_ bytes: some DataProtocol, contentType: String? = nil) throws(ManifestError) -> Manifest {
        guard bytes.count <= maxSize else { throw .tooLarge(size: bytes.count, limit: maxSize) }
        let data = Data(bytes)
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalid("body is not valid JSON")
        }
        guard case .object = root else { throw .invalid("manifest must be a JSON object") }

        let v = Validator()
        let schemaVersion = try v.int(root["schemaVersion"], "schemaVersion", required: true)
        let bodyType = try v.string(root["mediaType"], "mediaType")
        if schemaVersion == 1 || bodyType == OCIMediaType.dockerSchema1 || bodyType == OCIMediaType.dockerSchema1Signed {
            throw .invalid("Docker schema 1 manifests are not supported; push an OCI or Docker schema 2 manifest")
        }
        guard schemaVersion == 2 else { throw .invalid("schemaVersion must be 2, got \(schemaVersion!)") }

        let headerType = OCIMediaType.manifestTypeFromContentType(contentType)
        if let bodyType, let headerType, bodyType != headerType {
            throw .invalid("mediaType \"\(bodyType)\" in the manifest does not match Content-Type \"\(headerType)\"")
        }
        let mediaType: String
        if let t = bodyType ?? headerType {
            mediaType = t
        } else if root["manifests"] != nil {
            mediaType = OCIMediaType.imageIndex
        } else if root["config"] != nil {
            mediaType = OCIMediaType.imageManifest
        } else {
            throw .invalid("cannot tell the manifest type: no mediaType field, no Content-Type, and no config or manifests")
        }
        guard let kind = Kind(mediaType: mediaType) else {
            throw .invalid(
                "unsupported manifest media type \"\(mediaType)\"; expected \(OCIMediaType.imageManifest), "
                    + "\(OCIMediaType.imageIndex), \(OCIMediaType.dockerManifest) or \(OCIMediaType.dockerManifestList)")
        }

        var config: OCIDescriptor?
        var layers: [OCIDescriptor] = []
        var manifests: [OCIDescriptor] = []
        if kind.isIndex {
            guard let list = root["manifests"] else { throw .invalid("an image index needs a \"manifests\" array") }
            manifests = try v.descriptors(list, "manifests")
            if root["config"] != nil || root["layers"] != nil {
                throw .invalid("an image index must not have \"config\" or \"layers\"")
            }
        } else {
            guard let c = root["config"] else { throw .invalid("an image manifest needs a \"config\" descriptor") }
            config = try v.descriptor(c, "config")
            guard let l = root["layers"] else { throw .invalid("an image manifest needs a \"layers\" array") }
            layers = try v.descriptors(l, "layers")
            if root["manifests"] != nil {
                throw .invalid("an image manifest must not have \"manifests\"")
            }
        }
        let subject = try root["subject"].map { (s) throws(ManifestError) in try v.descriptor(s, "subject") }
        let artifactType = try v.string(root["artifactType"], "artifactType")
        if let artifactType, !OCIMediaType.isWellFormed(artifactType) {
            throw .invalid("artifactType \"\(artifactType)\" is not a valid media type")
        }
        let annotations = try v.stringMap(root["annotations"], "annotations")

        return Manifest(
            kind: kind, mediaType: mediaType, mediaTypeInDocument: bodyType != nil, config: config, layers: layers,
            manifests: manifests, subject: subject, declaredArtifactType: artifactType, annotations: annotations,
            digest: OCIDigest.compute(.sha256, of: data), size: data.count)
    }

    /// Field-by-field checks with messages that name the offending path (`layers[2].size`).
    private struct Validator {
        func string(_ v: JSONValue?, _ path: String, required: Bool = false) throws(ManifestError) -> String? {
            switch v {
            case nil, .null?:
                if required { throw .invalid("\(path) is required") }
                return nil
            case .string(let s)?: return s
            default: throw .invalid("\(path) must be a string")
            }
        }

        func int(_ v: JSONValue?, _ path: String, required: Bool = false) throws(ManifestError) -> Int64? {
            switch v {
            case nil, .null?:
                if required { throw .invalid("\(path) is required") }
                return nil
            case .int(let i)?: return i
            default: throw .invalid("\(path) must be an integer")
            }
        }

        func stringMap(_ v: JSONValue?, _ path: String) throws(ManifestError) -> [String: String]? {
            switch v {
            case nil, .null?: return nil
            case .object(let pairs)?:
                var out: [String: String] = [:]
                for p in pairs {
                    guard case .string(let s) = p.value else { throw .invalid("\(path).\(p.key) must be a string") }
                    out[p.key] = s
                }
                return out
            default: throw .invalid("\(path) must be an object of strings")
            }
        }

        func descriptors(_ v: JSONValue, _ path: String) throws(ManifestError) -> [OCIDescriptor] {
            guard case .array(let items) = v else { throw .invalid("\(path) must be an array") }
            var out: [OCIDescriptor] = []
            for (i, item) in items.enumerated() { out.append(try descriptor(item, "\(path)[\(i)]")) }
            return out
        }

        func descriptor(_ v: JSONValue, _ path: String) throws(ManifestError) -> OCIDescriptor {
            guard case .object = v else { throw .invalid("\(path) must be an object") }
            let mediaType = try string(v["mediaType"], "\(path).mediaType", required: true)!
            guard OCIMediaType.isWellFormed(mediaType) else {
                throw .invalid("\(path).mediaType \"\(mediaType)\" is not a valid media type")
            }
            let digestText = try string(v["digest"], "\(path).digest", required: true)!
            let digest: OCIDigest
            do { digest = try OCIDigest(parsing: digestText) } catch { throw .invalid("\(path).digest: \(error.message)") }
            let size = try int(v["size"], "\(path).size", required: true)!
            guard size >= 0 else { throw .invalid("\(path).size must not be negative") }
            let artifactType = try string(v["artifactType"], "\(path).artifactType")
            let annotations = try stringMap(v["annotations"], "\(path).annotations")
            var platform: JSONValue?
            if let p = v["platform"], p != .null {
                guard case .object = p else { throw .invalid("\(path).platform must be an object") }
                platform = p
            }
            var urls: [String]?
            if let u = v["urls"], u != .null {
                guard case .array(let items) = u else { throw .invalid("\(path).urls must be an array of strings") }
                urls = try items.map { (item) throws(ManifestError) -> String in
                    guard case .string(let s) = item else { throw .invalid("\(path).urls must be an array of strings") }
                    return s
                }
            }
            return OCIDescriptor(
                mediaType: mediaType, digest: digest, size: size, annotations: annotations,
                artifactType: artifactType, platform: platform, urls: urls)
        }
    }
}

public enum ManifestError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(size: Int, limit: Int)
    case invalid(String)

    public var message: String {
        switch self {
        case .tooLarge(let size, let limit): "manifest is \(size) bytes; the limit is \(limit) bytes"
        case .invalid(let why): "manifest invalid: \(why)"
        }
    }

    public var description: String { message }

    public var ociError: OCIError {
        switch self {
        case .tooLarge: OCIError(.sizeInvalid, message, status: 413)
        case .invalid: OCIError(.manifestInvalid, message)
        }
    }
}
