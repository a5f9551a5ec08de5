import Foundation
import Testing
@testable import HoardS3

/// Locations (`--storage`, endpoint, addressing) and credentials (environment, profiles).
struct S3SettingsTests {
    @Test func parsesStorageAndEndpoint() throws {
        let location = try S3Location.parse(storage: "s3://my-bucket/some/prefix/", endpoint: "http://127.0.0.1:8333", region: nil, pathStyle: true)
        #expect(location.bucket == "my-bucket")
        #expect(location.prefix == "some/prefix")
        #expect(location.scheme == "http")
        #expect(location.authority == "127.0.0.1:8333")
        #expect(location.region == "us-east-1")
        #expect(location.objectKey("blobs/x") == "some/prefix/blobs/x")
        #expect(location.relativeKey("some/prefix/blobs/x") == "blobs/x")
        #expect(location.relativeKey("some/prefixed/x") == nil)

        let bare = try S3Location.parse(storage: "s3://bucket", endpoint: "s3.eu-west-1.amazonaws.com", region: "eu-west-1", pathStyle: false)
        #expect(bare.prefix == "")
        #expect(bare.scheme == "https", "https unless the endpoint says http://")
        #expect(bare.authority == "bucket.s3.eu-west-1.amazonaws.com", "virtual-hosted addressing")
        #expect(bare.objectKey("k") == "k")
    }

    @Test func refusesWhatCannotBeAddressed() {
        #expect(throws: S3Error.self) { try S3Location.parse(storage: "/var/cache", endpoint: "https://s3", region: nil, pathStyle: false) }
        #expect(throws: S3Error.self) { try S3Location.parse(storage: "s3:///prefix", endpoint: "https://s3", region: nil, pathStyle: false) }
        #expect(throws: S3Error.self) { try S3Location(bucket: "Upper_Case", prefix: "", endpoint: "https://s3") }
        #expect(throws: S3Error.self) { try S3Location(bucket: "ok-bucket", prefix: "", endpoint: "ftp://host") }
        #expect(throws: S3Error.self) { try S3Location(bucket: "ok-bucket", prefix: "", endpoint: "http://127.0.0.1:9000", pathStyle: false) }
        #expect(throws: S3Error.self) { try S3Location(bucket: "ok-bucket", prefix: "", endpoint: "http://host:99999", pathStyle: true) }
    }

    @Test func credentialsFromTheEnvironment() throws {
        let credentials = try S3Credentials.resolve(environment: [
            "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "SECRET", "AWS_SESSION_TOKEN": "TOKEN", "HOME": "/nonexistent",
        ])
        #expect(credentials == S3Credentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN"))
        #expect(!credentials.description.contains("SECRET"))
        #expect(throws: S3Error.self) { try S3Credentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "AKID", "HOME": "/nonexistent"]) }
    }

    @Test func credentialsFromAProfile() throws {
        let directory = NSTemporaryDirectory() + "hoard-s3-credentials-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/.aws", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = """
            # comment
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = defaultsecret

            [ci]
            AWS_ACCESS_KEY_ID=CIKEY
            aws_secret_access_key = ci/secret+with=signs
            aws_session_token = citoken
            """
        try Data(file.utf8).write(to: URL(fileURLWithPath: directory + "/.aws/credentials"))
        try Data("[other]\naws_access_key_id = O\naws_secret_access_key = S\n".utf8).write(to: URL(fileURLWithPath: directory + "/custom"))

        let fallback = try S3Credentials.resolve(environment: ["HOME": directory])
        #expect(fallback == S3Credentials(accessKeyID: "DEFAULTKEY", secretAccessKey: "defaultsecret"))
        let ci = try S3Credentials.resolve(environment: ["HOME": directory, "AWS_PROFILE": "ci"])
        #expect(ci == S3Credentials(accessKeyID: "CIKEY", secretAccessKey: "ci/secret+with=signs", sessionToken: "citoken"))
        let custom = try S3Credentials.resolve(environment: ["HOME": directory, "AWS_SHARED_CREDENTIALS_FILE": directory + "/custom", "AWS_PROFILE": "other"])
        #expect(custom.accessKeyID == "O")
        // The environment wins over the file.
        let env = try S3Credentials.resolve(environment: ["HOME": directory, "AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "F"])
        #expect(env.accessKeyID == "E")

        do {
            _ = try S3Credentials.resolve(environment: ["HOME": directory, "AWS_PROFILE": "missing"])
            Issue.record("a missing profile resolved")
        } catch {
            #expect(error.description.contains("[missing]"))
        }
    }

    @Test func noCredentialsIsAClearError() {
        do {
            _ = try S3Credentials.resolve(environment: ["HOME": "/nonexistent-home"])
            Issue.record("resolved credentials from nothing")
        } catch {
            guard case .noCredentials(let message) = error else {
                Issue.record("expected noCredentials, got \(error)")
                return
            }
            #expect(message.contains("AWS_ACCESS_KEY_ID"))
            #expect(message.contains("/nonexistent-home/.aws/credentials"))
        }
    }
}
