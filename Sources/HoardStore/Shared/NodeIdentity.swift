import Foundation

/// Who this node is among the nodes sharing one bucket: a random id kept in the node's root
/// (`<root>/node-id`, made on first use), so a restarted node is the same node (it renews its own
/// maintenance lease and keeps publishing to its own `access/<id>` object), plus the host name and
/// pid, for people reading a lease or a log.
public struct NodeIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public let id: String
    public let host: String
    public let pid: Int32

    public init(id: String, host: String = ProcessInfo.processInfo.hostName, pid: Int32 = ProcessInfo.processInfo.processIdentifier) {
        self.id = id
        self.host = host
        self.pid = pid
    }

    public var description: String { "\(id) (\(host), pid \(pid))" }

    /// The identity of the node whose root is `layout`, reading `node-id` there or making it.
    /// The root's lock is held (one process per root), so no other process makes it meanwhile.
    /// A small file read once at start-up; it blocks briefly, like the rest of opening a store.
    public static func load(_ layout: StoreLayout) throws(StoreError) -> NodeIdentity {
        let path = layout.root + "/node-id"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if isValid(id) { return NodeIdentity(id: id) }
        }
        // Absent or not an id we made (then it is replaced: the node gets a new identity).
        let id = UUID().uuidString.lowercased()
        do {
            try (id + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            let code = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.code
            throw .io(operation: "cannot write this node's id to", path: path, errno: code.flatMap { Int32(exactly: $0) } ?? EIO)
        }
        return NodeIdentity(id: id)
    }

    /// An id is what `load` makes: a lowercase UUID, safe as a key component as it is.
    static func isValid(_ id: String) -> Bool {
        UUID(uuidString: id) != nil && id == id.lowercased()
    }
}
