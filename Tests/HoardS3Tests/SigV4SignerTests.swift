import AsyncHTTPClient
import Foundation
import Logging
import Testing
@testable import HoardS3

/// The signer against AWS's published SigV4 test suite ("aws-sig-v4-test-suite": credentials
/// AKIDEXAMPLE, region us-east-1, service `service`, 2015-08-30T12:36:00Z; expected canonical
/// requests, strings to sign and signatures as published, for header signing and for query
/// presigning) and against the S3 documentation's worked examples (GET Object with a Range
/// header, and the presigned URL for examplebucket/test.txt).
struct SigV4SignerTests {
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let suiteCredentials = S3Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let emptyHash = SigV4Signer.emptyPayloadHash

    struct Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let method: String
        let path: String
        let query: [(name: String, value: String)]
        /// Headers besides x-amz-date.
        let headers: [(name: String, value: String)]
        let payloadHash: String
        let canonicalRequest: String
        let stringToSignHash: String
        let signature: String
        /// The query-presigned variant's signature (only host signed, empty payload hash).
        let querySignature: String?
        var sessionToken: String? = nil
        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(name: "get-vanilla", method: "GET", path: "/", query: [], headers: [("Host", "example.amazonaws.com")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
               signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
               querySignature: "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"),
        Vector(name: "get-vanilla-query-order-key-case", method: "GET", path: "/",
               query: [("Param2", "value2"), ("Param1", "value1")], headers: [("Host", "example.amazonaws.com")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
               signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
               querySignature: "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5"),
        Vector(name: "get-vanilla-query-order-encoded", method: "GET", path: "/",
               query: [("Param-3", "Value3"), ("Param", "Value2"), ("\u{1234}", "Value1")], headers: [("Host", "example.amazonaws.com")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n%E1%88%B4=Value1&Param=Value2&Param-3=Value3\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "868294f5c38bd141c4972a373a76654f1418a8e4fc18b2e7903ae45e8ae0ec71",
               signature: "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac",
               querySignature: "c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787"),
        Vector(name: "get-vanilla-query-unreserved", method: "GET", path: "/",
               query: [("-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")],
               headers: [("Host", "example.amazonaws.com")], payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
               signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
               querySignature: "8e76a88a7433637b12778d5592799b29ad21ecd6cf6325051c21d86f0acda2bf"),
        Vector(name: "get-vanilla-utf8-query", method: "GET", path: "/", query: [("\u{1234}", "bar")], headers: [("Host", "example.amazonaws.com")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
               signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
               querySignature: "0bdd809b1519ac4f0c1dc3540e2cc46bd0c7f778eda408b2ebf3b913d21ff600"),
        Vector(name: "get-unreserved", method: "GET", path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
               query: [], headers: [("Host", "example.amazonaws.com")], payloadHash: emptyHash,
               canonicalRequest: "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
               signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
               querySignature: "95968482db1b9e0fadef6efc1bd24689f77c77d9ef56919c96a28cc92e0d6005"),
        Vector(name: "get-header-value-trim", method: "GET", path: "/", query: [],
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(emptyHash)",
               stringToSignHash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
               signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
               querySignature: nil),
        Vector(name: "get-header-key-duplicate", method: "GET", path: "/", query: [],
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(emptyHash)",
               stringToSignHash: "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
               signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
               querySignature: nil),
        Vector(name: "post-header-key-sort", method: "POST", path: "/", query: [],
               headers: [("Host", "example.amazonaws.com"), ("My-Header1", "value1")], payloadHash: emptyHash,
               canonicalRequest: "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(emptyHash)",
               stringToSignHash: "9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65",
               signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
               querySignature: nil),
        Vector(name: "post-vanilla-empty-query-value", method: "POST", path: "/", query: [("Param1", "value1")],
               headers: [("Host", "example.amazonaws.com")], payloadHash: emptyHash,
               canonicalRequest: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(emptyHash)",
               stringToSignHash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
               signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
               querySignature: "a9ef26247f293bffe40eeff86a0480ba8c14d31503b2e0c3399e3a16bf1a3682"),
        Vector(name: "post-x-www-form-urlencoded", method: "POST", path: "/", query: [],
               headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com"), ("Content-Length", "13"),
                         ("x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")],
               payloadHash: "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
               canonicalRequest: "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\nx-amz-date:20150830T123600Z\n\ncontent-length;content-type;host;x-amz-content-sha256;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
               stringToSignHash: "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
               signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
               querySignature: nil),
        Vector(name: "get-vanilla-with-session-token", method: "GET", path: "/", query: [],
               headers: [("Host", "example.amazonaws.com"), ("X-Amz-Security-Token", "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")],
               payloadHash: emptyHash,
               canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\nhost;x-amz-date;x-amz-security-token\n\(emptyHash)",
               stringToSignHash: "067b36aa60031588cea4a4cde1f21215227a047690c72247f1d70b32fbbfad2b",
               signature: "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8",
               querySignature: "7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c",
               sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"),
    ]

    static func signer(_ vector: Vector) -> SigV4Signer {
        let credentials = S3Credentials(accessKeyID: suiteCredentials.accessKeyID, secretAccessKey: suiteCredentials.secretAccessKey,
                                        sessionToken: vector.sessionToken)
        return SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
    }

    @Test(arguments: vectors)
    func headerSigningMatchesTheTestSuite(_ vector: Vector) {
        let signer = Self.signer(vector)
        let request = SigV4Signer.Request(method: vector.method, encodedPath: SigV4Signer.encodePath(vector.path), query: vector.query,
                                          headers: vector.headers + [("X-Amz-Date", "20150830T123600Z")], payloadHash: vector.payloadHash)
        let (canonical, signedHeaders) = signer.canonicalRequest(request)
        #expect(canonical == vector.canonicalRequest)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, date: Self.suiteDate)
        #expect(stringToSign == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(vector.stringToSignHash)")
        #expect(signer.signature(stringToSign: stringToSign, date: Self.suiteDate) == vector.signature)
        #expect(signer.authorization(for: request, date: Self.suiteDate)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(vector.signature)")
    }

    @Test(arguments: vectors.filter { $0.querySignature != nil })
    func queryPresigningMatchesTheTestSuite(_ vector: Vector) throws {
        let signer = Self.signer(vector)
        let query = signer.presignedQuery(method: vector.method, encodedPath: SigV4Signer.encodePath(vector.path), host: "example.amazonaws.com",
                                          query: vector.query, expires: 3600, date: Self.suiteDate, payloadHash: Self.emptyHash)
        let signature = try #require(query.split(separator: "&").last)
        #expect(signature == "X-Amz-Signature=\(vector.querySignature ?? "")")
        #expect(query.contains("X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request"))
        #expect(query.contains("X-Amz-Expires=3600"))
    }

    static let docsDate = Date(timeIntervalSince1970: 1_369_353_600)  // 2013-05-24T00:00:00Z
    static let docsCredentials = S3Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    /// S3 docs, "Example: GET Object" (header signing, first 10 bytes of examplebucket/test.txt).
    @Test func s3DocsGetObjectWithRange() {
        let signer = SigV4Signer(credentials: Self.docsCredentials, region: "us-east-1")
        let request = SigV4Signer.Request(
            method: "GET", encodedPath: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                      ("x-amz-content-sha256", Self.emptyHash), ("x-amz-date", "20130524T000000Z")],
            payloadHash: Self.emptyHash)
        let (canonical, _) = signer.canonicalRequest(request)
        let stringToSign = signer.stringToSign(canonicalRequest: canonical, date: Self.docsDate)
        #expect(stringToSign == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(signer.signature(stringToSign: stringToSign, date: Self.docsDate) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// S3 docs, "Authenticating Requests: Using Query Parameters": the presigned URL for
    /// examplebucket/test.txt, valid 86400 s, virtual-hosted, through the client's own path.
    @Test func s3DocsPresignedURL() throws {
        let location = try S3Location(bucket: "examplebucket", prefix: "", endpoint: "https://s3.amazonaws.com")
        let client = S3Client(location: location, credentials: Self.docsCredentials, httpClient: .shared, logger: .init(label: "test"))
        let url = try client.presignedGET("test.txt", expires: 86400, date: Self.docsDate)
        #expect(url == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func presignedExpiryOutsideS3sLimitsIsRefused() throws {
        let location = try S3Location(bucket: "examplebucket", prefix: "", endpoint: "https://s3.amazonaws.com")
        let client = S3Client(location: location, credentials: Self.docsCredentials, httpClient: .shared, logger: .init(label: "test"))
        #expect(throws: S3Error.self) { try client.presignedGET("test.txt", expires: 0) }
        #expect(throws: S3Error.self) { try client.presignedGET("test.txt", expires: 604_801) }
    }

    @Test func pathEncodingKeepsSlashesAndEncodesEverythingElse() {
        #expect(SigV4Signer.encodePath("/a b/c+d/é~.-_") == "/a%20b/c%2Bd/%C3%A9~.-_")
        #expect(SigV4Signer.uriEncode("a/b=c&d") == "a%2Fb%3Dc%26d")
    }

    @Test func amzDateIsUTC() {
        #expect(SigV4Signer.amzDate(Self.suiteDate) == "20150830T123600Z")
        #expect(SigV4Signer.dateStamp(Date(timeIntervalSince1970: 951_782_400)) == "20000229")  // a leap day
    }
}
