import AsyncHTTPClient
import Foundation
import Testing

@Suite(.serialized) struct ServeTests {
    @Test func serveAnswersHealthzOnAnEphemeralPortAndStopsOnSIGTERM() async throws {
        let root = NSTemporaryDirectory() + "hoard-cli-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        let hoard = try HoardProcess(["serve", "--root", root, "--port", "0"])
        let port = try await hoard.listeningPort()

        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
        #expect(response.status == .ok)
        let body = try await response.body.collect(upTo: 1 << 16)
        let status = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
        #expect(status?["status"] as? String == "ok")
        #expect(status?["root"] as? String == root)

        hoard.signal(SIGTERM)
        #expect(try await hoard.exitStatus(timeout: .seconds(15)) == 0)
        #expect(hoard.stderr.contains("hoard stopped"))
    }

    @Test func aBadConfigFileIsAClearErrorNamingKeyAndLine() async throws {
        let path = NSTemporaryDirectory() + "hoard-bad-\(UUID().uuidString).toml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "[server]\nhost = \"127.0.0.1\"\nport = \"http\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let (status, _, stderr) = try await HoardProcess.run(["serve", "--config", path, "--root", NSTemporaryDirectory() + "unused-" + UUID().uuidString])
        #expect(status != 0)
        #expect(stderr.contains("\(path):3: 'server.port' must be an integer"))
    }

    @Test func versionAndHelp() async throws {
        let (status, out, _) = try await HoardProcess.run(["--version"])
        #expect(status == 0 && out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let (helpStatus, help, _) = try await HoardProcess.run(["help", "verify"])
        #expect(helpStatus == 0 && help.contains("--repair"))
    }
}
