// Tests of the S3 client against moto and SeaweedFS (see HoardS3TestSupport).
