import Foundation

/// The `info/index.json` layer: the package's own bytes, unpatched, as conda-oci-mirror pushes
/// them; like its 0.3.0, a `subdir` is added when the package lacks one (old packages), inserted
/// as the last key so the rest of the bytes stay as they were.
public enum InfoIndexJSON {
    public static func layer(_ bytes: [UInt8], subdir: String, filename: String) throws(PackageInfoError) -> [UInt8] {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                throw PackageInfoError.indexJSONInvalid(filename: filename, reason: "the top level is not an object")
            }
            object = parsed
        } catch let error as PackageInfoError {
            throw error
        } catch {
            throw .indexJSONInvalid(filename: filename, reason: "\(error.localizedDescription)")
        }
        if object["subdir"] != nil { return bytes }
        guard let close = bytes.lastIndex(of: UInt8(ascii: "}")) else {
            throw .indexJSONInvalid(filename: filename, reason: "no closing brace")
        }
        var head = Array(bytes[..<close])
        while let last = head.last, last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 { head.removeLast() }
        let empty = head.last == UInt8(ascii: "{")
        let value = (try? JSONEncoder().encode(subdir)).map { Array($0) } ?? Array("\"\(subdir)\"".utf8)
        var out = head
        out += Array((empty ? "\"subdir\": " : ", \"subdir\": ").utf8) + value
        out += Array(bytes[close...])
        return out
    }
}
