// HoardS3: the S3 storage backend (blobs and the shared index in one S3-compatible bucket).
// See README.md "Running several nodes" and cache-layout.md "The bucket".
