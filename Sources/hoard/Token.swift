import ArgumentParser
import Foundation
import HoardConfig
import HoardStore
import Logging

/// `hoard token`: tokens for reading protected channels, kept hashed in the store's index. It
/// works beside a running `hoard serve` (no store lock; the index is SQLite in WAL mode), and a
/// revocation takes effect on the server's next request.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue, list and revoke tokens for reading protected channels.",
        subcommands: [Create.self, Revoke.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token for a channel; the token alone is printed on standard output (and shown only this once).",
            discussion: "Clients use it as https://HOST/t/<TOKEN>/<channel>, as Authorization: Bearer <TOKEN>, or as the password of Basic credentials.")

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The channel the token reads.")
        var channel: String

        @Option(name: .long, help: "How long the token is valid, e.g. 90d, 12h. Default: no expiry.")
        var expires: String?

        func run() async throws {
            let config = try common.loadConfig()
            do { _ = try ChannelSetting(name: channel, url: "https://placeholder.invalid/x") } catch {
                throw ValidationError("--channel \(channel): expected \(error.requirement)")
            }
            var expiresAt: Double?
            if let expires {
                guard let duration = DurationParsing.parse(expires), duration > .zero else {
                    throw ValidationError("--expires \(expires): expected a duration such as 90d, 12h or 30m")
                }
                expiresAt = Date().timeIntervalSince1970 + Double(duration.components.seconds)
            }
            if let configured = config.channels.first(where: { $0.name == channel }) {
                if !configured.isProtected {
                    Self.warn("channel \(channel) is open to everyone: the token is recorded, but only matters once [channels.\(channel)] has private = true or readers")
                }
            } else {
                Self.warn("the config\(common.config.map { " (\($0))" } ?? "") has no channel \(channel); the token is recorded for when it does")
            }
            let index = try TokenIndex.open(common, config)
            let token = ChannelToken.generate()
            let record = try await index.addChannelToken(channel: channel, tokenHash: ChannelToken.hash(token), expiresAt: expiresAt)
            print(token)
            Self.warn("token \(record.id) for channel \(channel)\(expiresAt.map { ", expires \(TokenIndex.date($0))" } ?? ", no expiry"); revoke with: hoard token revoke \(record.id)")
        }

        static func warn(_ text: String) {
            FileHandle.standardError.write(Data("hoard token: \(text)\n".utf8))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Withdraw a token, by its id (hoard token list) or the token itself.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "The token's id, or the token.")
        var token: String

        func run() async throws {
            let index = try TokenIndex.open(common, try common.loadConfig())
            let key = ChannelToken.isWellFormed(token) ? ChannelToken.hash(token) : token
            guard try await index.revokeChannelToken(idOrHash: key) else {
                throw ValidationError("no active token \(ChannelToken.isWellFormed(token) ? "matches the token given" : "has the id \(token)") (hoard token list shows them)")
            }
            FileHandle.standardError.write(Data("hoard token: revoked\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids, channels, expiry; never the tokens themselves).")

        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "Only this channel's tokens.")
        var channel: String?

        func run() async throws {
            let index = try TokenIndex.open(common, try common.loadConfig())
            let now = Date().timeIntervalSince1970
            for record in try await index.channelTokens(channel: channel) {
                let state = record.revokedAt != nil ? "revoked" : (record.expiresAt.map { $0 <= now } ?? false) ? "expired" : "active"
                print("\(record.id)  \(record.channel)  created \(TokenIndex.date(record.createdAt))  expires \(record.expiresAt.map(TokenIndex.date) ?? "never")  \(state)")
            }
        }
    }
}

/// The store's index, opened without the store lock so `hoard token` runs beside `hoard serve`.
/// With a bucket (`--storage`) tokens are written to and read from it, so every node knows them.
enum TokenIndex {
    static func open(_ common: CommonOptions, _ config: HoardConfig) throws -> StoreIndex {
        let layout = StoreLayout(root: common.storeRoot(config))
        try FileManager.default.createDirectory(atPath: layout.root, withIntermediateDirectories: true)
        return try StoreIndex(path: layout.indexPath, shared: common.sharedIndex(config, logger: Logger(label: "hoard.token")))
    }

    static func date(_ seconds: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: seconds))
    }
}
