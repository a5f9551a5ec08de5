import Foundation
import HoardConda

/// One package of a subdir's repodata.json, as `hoard mirror` selects them.
public struct PackageRecord: Sendable, Hashable, CustomStringConvertible {
    public let subdir: String
    public let filename: CondaFilename
    public let name: String
    public let version: CondaVersion
    public let build: String
    public let buildNumber: Int
    public let depends: [String]
    /// The size repodata gives (nil: none, or not a usable number).
    public let size: Int64?

    public init(subdir: String, filename: CondaFilename, name: String, version: CondaVersion, build: String, buildNumber: Int, depends: [String], size: Int64?) {
        self.subdir = subdir
        self.filename = filename
        self.name = name
        self.version = version
        self.build = build
        self.buildNumber = buildNumber
        self.depends = depends
        self.size = size
    }

    public var description: String { "\(subdir)/\(filename)" }
}

/// Reads the records of a repodata.json document.
public enum RepodataPackages {
    /// What was read: the records, and how many entries were skipped as unusable (no name, a
    /// version conda cannot parse, a filename that is not a package's).
    public struct Parsed: Sendable {
        public var records: [PackageRecord]
        public var skipped: [String]
    }

    public static func parse(_ data: Data, subdir: String) throws(MirrorError) -> Parsed {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw .repodata(subdir: subdir, "\(error)")
        }
        var parsed = Parsed(records: [], skipped: [])
        for (section, entries) in [("packages", document.packages), ("packages.conda", document.packagesConda)] {
            for (filename, raw) in (entries ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let file = try? CondaFilename(filename), file.format.repodataSection == section,
                      let name = raw.name, let versionText = raw.version, let version = try? CondaVersion(versionText)
                else {
                    parsed.skipped.append(filename)
                    continue
                }
                parsed.records.append(PackageRecord(
                    subdir: subdir, filename: file, name: name.lowercased(), version: version, build: raw.build ?? file.build,
                    buildNumber: raw.buildNumber ?? 0, depends: raw.depends ?? [], size: raw.size))
            }
        }
        return parsed
    }

    private struct Document: Decodable {
        let packages: [String: Raw]?
        let packagesConda: [String: Raw]?

        enum CodingKeys: String, CodingKey {
            case packages
            case packagesConda = "packages.conda"
        }
    }

    /// Each field read on its own: one odd value (a huge build number, a null) costs that field,
    /// not the record or the document.
    private struct Raw: Decodable {
        let name: String?
        let version: String?
        let build: String?
        let buildNumber: Int?
        let depends: [String]?
        let size: Int64?

        enum CodingKeys: String, CodingKey {
            case name, version, build, depends, size
            case buildNumber = "build_number"
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try? c.decodeIfPresent(String.self, forKey: .name)
            version = try? c.decodeIfPresent(String.self, forKey: .version)
            build = try? c.decodeIfPresent(String.self, forKey: .build)
            buildNumber = try? c.decodeIfPresent(Int.self, forKey: .buildNumber)
            depends = try? c.decodeIfPresent([String].self, forKey: .depends)
            size = try? c.decodeIfPresent(Int64.self, forKey: .size)
        }
    }
}
