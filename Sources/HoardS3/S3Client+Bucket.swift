import AsyncHTTPClient
import HoardS3Wire
import NIOCore

extension S3Client {
    /// Creates the location's bucket (tests, and first set-up against a fresh server); a bucket
    /// we already own is not an error.
    public func createBucket() async throws(S3Error) {
        var body: ByteBuffer?
        var headers: [(String, String)] = []
        // us-east-1 takes no configuration; every other region must be named in the body.
        if location.region != "us-east-1" {
            body = ByteBuffer(string: "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(S3XML.escape(location.region))</LocationConstraint></CreateBucketConfiguration>")
            headers.append(("content-type", "application/xml"))
        }
        let response = try await send("CREATE-BUCKET", method: .PUT, key: nil, headers: headers, body: body)
        if response.status.code == 200 {
            await Self.drain(response)
            return
        }
        let error = await failure("CREATE-BUCKET", key: nil, response)
        if case .server(_, _, _, "BucketAlreadyOwnedByYou", _) = error { return }
        throw error
    }
}
