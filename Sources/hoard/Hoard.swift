import ArgumentParser
import HoardServer

/// `hoard`: a content-addressed cache and proxy for conda channels and OCI registries.
@main
struct Hoard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hoard",
        abstract: "A content-addressed cache and proxy server for conda channels and OCI registries.",
        discussion: """
            The store lives under --root (default: $HOARD_ROOT, else $XDG_CACHE_HOME/hoard, \
            else ~/.cache/hoard). Settings come from built-in defaults, then the TOML file given \
            by --config, then the command line. See README.md and Config/hoard.toml.
            """,
        version: HoardVersion.string,
        subcommands: [Serve.self, Verify.self, GC.self, Ingest.self, Token.self, Status.self, Mirror.self, Sync.self, Health.self, Export.self, Import.self, IndexCommand.self]
    )
}
