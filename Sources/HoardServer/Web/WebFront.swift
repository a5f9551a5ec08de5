import Foundation
import HoardConda
import HoardHTTP
import HoardStore
import Hummingbird
import Mustache

/// The page at `/`: what hoard serves and holds, rendered on the server (no JavaScript). Without
/// a query it shows the store's figures, the channels with their subdirs and the OCI
/// repositories; with `?channel=…&subdir=…` one subdir's packages from the repodata hoard holds,
/// searchable by name and paged. It never asks an upstream: it shows what is cached.
///
/// A protected channel (issue 11) is checked as the conda front checks it (`ChannelAccess`: the
/// `/t/<TOKEN>/` prefix, Bearer, Basic): its listing answers 401 with the same challenge, and the
/// overview shows it as a name marked protected, without upstream or subdirs, to a visitor whose
/// credentials do not grant it. Upstream URLs are shown redacted (`SecretRedaction`).
struct WebFront: Sendable {
    let store: Store
    let channels: [String: CondaChannel]
    let documents: DocumentCache
    let listings: PackageListings
    let registries: [RegistryView]
    let maxSize: ByteSize?
    let library: MustacheLibrary
    /// Who may read which channel (nil: every channel is open).
    var access: ChannelAccess? = nil

    /// At most this many OCI repositories and tags per repository are listed on the page.
    static let maxRepositories = 200
    static let maxTags = 20

    /// `pathToken` and `client` as for `CondaFront.respond`.
    func respond(to request: Request, pathToken: String? = nil, client: String = "unknown") async throws -> Response {
        guard request.method == .get || request.method == .head else { throw MethodNotAllowed(allow: "GET, HEAD") }
        let query = WebQuery(query: request.uri.query)
        if let channelName = query.channel, channels[channelName] != nil {
            // Before anything about the channel is read: 401 with the conda front's challenge.
            try await access?.authorize(channel: channelName, request: request, pathToken: pathToken, client: client)
        }
        var view = PageView(version: HoardVersion.string)
        var status = HTTPResponse.Status.ok
        var timing: String?
        if let channelName = query.channel {
            if let channel = channels[channelName], let subdir = query.subdir {
                do {
                    (view.listing, timing) = try await listing(channel: channel, query: query)
                    view.title = "\(channel.name)/\(view.listing?.path ?? subdir) · hoard"
                } catch let error as CondaNameError {
                    status = .notFound
                    view.message = "\(error)"
                }
            } else {
                status = .notFound
                view.message = channels[channelName] == nil
                    ? "unknown channel '\(channelName)'; this hoard serves: \(channels.keys.sorted().joined(separator: ", "))"
                    : "no subdir given: pick one below"
            }
        }
        if view.listing == nil {
            try await overview(into: &view, readable: try await readableChannels(request: request, pathToken: pathToken, client: client))
        }
        let html = library.render(view, withTemplate: "page") ?? ""
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        if let timing { headers[.init("Server-Timing")!] = timing }
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    // MARK: Overview

    /// The protected channels the request's credentials grant (open channels are not listed).
    /// Malformed credentials grant nothing here: the overview stays viewable.
    private func readableChannels(request: Request, pathToken: String?, client: String) async throws -> Set<String> {
        guard let access, !access.protectedChannels.isEmpty,
            let presented = try? ChannelAccess.presented(pathToken: pathToken, authorization: request.headers[.authorization])
        else { return [] }
        var readable: Set<String> = []
        for name in access.protectedChannels where await access.check(presented, channel: name, client: client) == .granted {
            readable.insert(name)
        }
        return readable
    }

    private func overview(into view: inout PageView, readable: Set<String>) async throws {
        let (blobs, bytes) = try await store.totals()
        let held = try await store.index.condaSubdirSummaries()
        view.stats = StatsView(
            blobs: WebFormat.count(blobs), bytes: WebFormat.bytes(bytes), bytesExact: WebFormat.count(bytes),
            packages: WebFormat.count(held.reduce(0) { $0 + $1.files }),
            packageBytes: WebFormat.bytes(held.reduce(Int64(0)) { $0 &+ $1.bytes }),
            maxSize: maxSize.map { WebFormat.bytes($0.bytes) },
            root: store.layout.root)
        for channel in channels.values.sorted(by: { $0.name < $1.name }) {
            let isProtected = access?.isProtected(channel.name) ?? false
            if isProtected && !readable.contains(channel.name) {
                view.channels.append(ChannelView(name: channel.name, upstream: nil, isProtected: true, locked: true, subdirs: [], hasSubdirs: false))
                continue
            }
            var rows: [String: (label: String, subdir: String, repodata: Bool, files: Int, bytes: Int64)] = [:]
            for (label, subdir) in try await store.index.repodataSubdirs(channel: channel.name, document: DocumentKind.repodata.rawValue) {
                rows[label + "/" + subdir] = (label, subdir, true, 0, 0)
            }
            for summary in held where summary.channel == channel.name {
                let key = summary.label + "/" + summary.subdir
                let repodata = rows[key]?.repodata ?? false
                rows[key] = (summary.label, summary.subdir, repodata, summary.files, summary.bytes)
            }
            let subdirs = rows.values.sorted { ($0.label, $0.subdir) < ($1.label, $1.subdir) }.map { row in
                var query = WebQuery()
                query.channel = channel.name
                query.label = row.label
                query.subdir = row.subdir
                return SubdirView(
                    display: Self.path(label: row.label, subdir: row.subdir), href: query.href, hasRepodata: row.repodata,
                    files: WebFormat.count(row.files), bytes: WebFormat.bytes(row.bytes))
            }
            view.channels.append(ChannelView(
                name: channel.name, upstream: SecretRedaction.redact(channel.upstream), isProtected: isProtected, locked: false,
                subdirs: subdirs, hasSubdirs: !subdirs.isEmpty))
        }
        let names = try await store.index.ociRepositories()
        var repositories: [RepositoryView] = []
        for name in names.prefix(Self.maxRepositories) {
            let tags = try await store.index.ociTags(repository: name) ?? []
            repositories.append(RepositoryView(
                name: name, tags: Array(tags.prefix(Self.maxTags)), hasTags: !tags.isEmpty,
                moreTags: tags.count > Self.maxTags ? tags.count - Self.maxTags : nil))
        }
        view.oci = OCIView(
            repositories: repositories, hasRepositories: !repositories.isEmpty,
            moreRepositories: names.count > Self.maxRepositories ? names.count - Self.maxRepositories : nil,
            registries: registries, hasRegistries: !registries.isEmpty)
    }

    // MARK: One subdir

    /// The listing view and a `Server-Timing` value for the search and paging (nil: nothing listed).
    private func listing(channel: CondaChannel, query: WebQuery) async throws -> (ListingView, String?) {
        // The same grammar as the channel's URLs: what the page links to must be servable.
        let subdir = try Subdir(query.subdir ?? "").rawValue
        let label = query.label.isEmpty ? "" : try Label(query.label).rawValue
        let path = Self.path(label: label, subdir: subdir)
        let key = DocumentKey(channel: channel.name, label: label, subdir: subdir, kind: .repodata)
        guard let snapshot = try await documents.cached(key) else {
            let view = ListingView(channel: channel.name, label: label.isEmpty ? nil : label, subdir: subdir, path: path,
                                   search: query.search.isEmpty ? nil : query.search, hasRepodata: false)
            return (view, nil)
        }
        let started = ContinuousClock.now
        let listing = try await listings.listing(key, snapshot: snapshot)
        let page = listing.page(matching: query.search, offset: query.offset, limit: query.perPage)
        let held = try await store.index.condaFilesHeld(
            channel: channel.name, label: label, subdir: subdir, filenames: page.rows.map(\.record.filename))
        let base = "/" + channel.name + (label.isEmpty ? "" : "/label/" + label) + "/" + subdir + "/"
        let rows = page.rows.map { row in
            let parsed = try? CondaFilename(row.record.filename)
            return PackageRowView(
                name: row.name, version: parsed?.version ?? "", build: parsed?.build ?? row.record.filename,
                filename: row.record.filename, href: parsed.map { base + $0.rawValue },
                size: row.record.size.map(WebFormat.bytes) ?? "", sizeExact: row.record.size.map(WebFormat.count) ?? "",
                sha256: row.record.sha256?.hex ?? "", cached: held.contains(row.record.filename))
        }
        let pages = max(1, (page.matchingFiles + query.perPage - 1) / query.perPage)
        var view = ListingView(channel: channel.name, label: label.isEmpty ? nil : label, subdir: subdir, path: path,
                               search: query.search.isEmpty ? nil : query.search, hasRepodata: true)
        view.matchingFiles = WebFormat.count(page.matchingFiles)
        view.matchingNames = WebFormat.count(page.matchingNames)
        view.totalFiles = WebFormat.count(listing.fileCount)
        view.totalNames = WebFormat.count(listing.names.count)
        view.page = WebFormat.count(query.page)
        view.pages = WebFormat.count(pages)
        view.rows = rows
        if query.page > 1 {
            var previous = query
            previous.page = min(query.page - 1, pages)
            view.previous = previous.href
        }
        if query.page < pages {
            var next = query
            next.page = query.page + 1
            view.next = next.href
        }
        let elapsed = ContinuousClock.now - started
        // A header, not page text: GET and HEAD of one page then carry the same body length.
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        return (view, String(format: "listing;desc=\"search and page\";dur=%.1f", millis))
    }

    static func path(label: String, subdir: String) -> String {
        label.isEmpty ? subdir : "label/\(label)/\(subdir)"
    }
}
