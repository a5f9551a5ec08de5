#!/usr/bin/env python3
"""Writes the committed seed corpus (Fuzz/corpus/<target>/): small valid inputs and edge cases.

Run it again after changing it; libFuzzer adds what it finds to a scratch copy, never here.
Uses only the standard library and `zstandard` (Tests/e2e/.venv) for compressed shard seeds.
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def mp(value) -> bytes:
    """A tiny MessagePack encoder (enough for seeds: nil, bool, int, float, str, bin, list, dict)."""
    if value is None:
        return b"\xc0"
    if value is True:
        return b"\xc3"
    if value is False:
        return b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack("b", value)
        if 0 <= value < 2**64:
            return b"\xcf" + struct.pack(">Q", value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode()
        return (bytes([0xA0 | len(raw)]) if len(raw) < 32 else b"\xd9" + bytes([len(raw)])) + raw
    if isinstance(value, bytes):
        return b"\xc4" + bytes([len(value)]) + value
    if isinstance(value, list):
        return bytes([0x90 | len(value)]) + b"".join(mp(v) for v in value)
    if isinstance(value, dict):
        return bytes([0x80 | len(value)]) + b"".join(mp(k) + mp(v) for k, v in value.items())
    raise TypeError(value)


def zst(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3).compress(data)


def seeds() -> dict[str, dict[str, bytes]]:
    sha = hashlib.sha256(b"x").digest()
    record = {"name": "a", "version": "1", "build": "0", "sha256": sha.hex(), "md5": "0" * 32, "size": 10,
              "timestamp": 1700000000000}
    repodata = (b'{"info":{"subdir":"linux-64","base_url":"https://conda.anaconda.org/c/linux-64/"},'
                b'"packages":{"a-1-0.tar.bz2":{"name":"a","version":"1","build":"0","sha256":"'
                + sha.hex().encode() + b'","size":10}},"packages.conda":{"a-1-0.conda":{"name":"a","sha256":"'
                + sha.hex().encode() + b'","md5":"' + b"0" * 32 + b'","size":10,"timestamp":1700000000000}},'
                b'"repodata_version":2}')
    index = {"info": {"base_url": "https://x.example/linux-64/", "shards_base_url": "", "subdir": "linux-64"},
             "version": 1, "shards": {"a": sha, "b": list(sha)}}
    shard = {"packages": {"a-1-0.tar.bz2": {"sha256": sha, "size": 10}},
             "packages.conda": {"a-1-0.conda": {"sha256": sha, "md5": b"\0" * 16, "size": 10}}, "removed": []}
    manifest = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'
                + sha.hex().encode() + b'","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'
                b'"digest":"sha256:' + sha.hex().encode() + b'","size":10,"annotations":{"a":"b"}}]}')
    index_manifest = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{'
                      b'"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:' + sha.hex().encode()
                      + b'","size":10,"platform":{"architecture":"amd64","os":"linux"}}]}')
    return {
        "fuzz-http-headers": {
            "range": b"bytes=0-9", "suffix": b"bytes=-10", "open": b"bytes=90-", "reversed": b"bytes=9-3",
            "multi": b"bytes=0-1,5-6", "huge-range": b"bytes=0-99999999999999999999999",
            "content-range": b"bytes 0-1023/4096", "content-range-star": b"bytes */4096", "upload": b"0-1023",
            "cc": b"public, max-age=60", "cc-huge": b"public, max-age=99999999999999999999999",
            "cc-exp": b"max-age=1e400", "cc-neg": b"max-age=-5", "cc-quoted": b'private="a, b", max-age="45"',
            "date": b"Sun, 06 Nov 1994 08:49:37 GMT", "date-far": b"Fri, 31 Dec 9999 23:59:59 GMT",
            "date-neg-year": b"Sun, 06 Nov -2147483648 08:49:37 GMT",
            "sized-range": struct.pack(">Q", 100) + b"bytes=10-20",
        },
        "fuzz-conda-path": {
            "repodata": b"/conda-forge/linux-64/repodata.json", "zst": b"/conda-forge/noarch/repodata.json.zst",
            "label": b"/conda-forge/label/main/linux-64/current_repodata.json",
            "pkg": b"/conda-forge/linux-64/numpy-1.26.4-py312h1234567_0.conda",
            "bz2": b"/c/noarch/a-1-0.tar.bz2", "shards-index": b"/c/linux-64/repodata_shards.msgpack.zst",
            "shard": b"/c/linux-64/shards/" + sha.hex().encode() + b".msgpack.zst",
            "channeldata": b"/c/channeldata.json", "dotdot": b"/c/../etc/passwd", "pct": b"/c/linux-64/%2e%2e%2fa-1-0.conda",
            "filename": b"a-1-0.conda",
        },
        "fuzz-repodata": {
            "repodata": repodata, "empty": b"{}", "info-only": b'{"info":{"subdir":"noarch"}}',
            "huge-size": repodata.replace(b'"size":10}}', b'"size":18446744073709551615}}'),
            "neg-size": repodata.replace(b'"size":10,', b'"size":-1,'),
            "deep": b'{"info":' + b"[" * 600 + b"]" * 600 + b"}", "escaped": b'{"info":{"base_url":"\\u0068ttp:\\/\\/x\\/"}}',
        },
        "fuzz-msgpack-shards": {
            "index": mp(index), "shard": mp(shard), "shard-zst": zst(mp(shard)), "index-zst": zst(mp(index)),
            "ints": mp([0, -1, 2**64 - 1, -(2**63), 1.5, float("nan")]), "nil": b"\xc0",
            "map32": b"\xdf\xff\xff\xff\xff", "str32": b"\xdb\xff\xff\xff\xff", "ext": b"\xc7\x01\x05\x00",
            "record": mp(record),
        },
        "fuzz-www-authenticate": {
            "bearer": b'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"',
            "basic": b'Basic realm="registry"', "two": b'Basic realm="a", Bearer realm="https://x/token",error="invalid_token"',
            "token68": b"Negotiate abc==", "escaped": b'Bearer realm="https://x/t\\"oken"',
        },
        "fuzz-oci-manifest": {
            "manifest": manifest, "index": index_manifest, "digest": b"sha256:" + sha.hex().encode(),
            "reference": b"v1.0", "name": b"library/alpine", "sha512": b"sha512:" + hashlib.sha512(b"x").hexdigest().encode(),
            "huge-size": manifest.replace(b'"size":10,', b'"size":18446744073709551615,'),
        },
        "fuzz-htpasswd": {
            "bcrypt": b"alice:$2y$05$c4WoMPo3SXsafkva.HHa6uXQZWr7oboPiC2bT/r7q1BB8I2s0BRqC\n",
            "comments": b"# users\n\nbob:$2b$10$abcdefghijklmnopqrstuu5Fz2Oa1Gq2n8mB0G9cM1hUd0UXFfsZi\n",
            "plain": b"carol:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n", "basic": b"Basic YWxpY2U6c2VjcmV0",
        },
        "fuzz-config": {
            "full": b'[server]\nhost = "127.0.0.1"\nport = 8080\n[store]\nroot = "/var/cache/hoard"\nmax_size = "10GiB"\n'
                    b'[channels]\nconda-forge = "https://conda.anaconda.org/conda-forge"\nm = "oci://ghcr.io/channel-mirrors/conda-forge"\n'
                    b'[repodata]\nttl = "10m"\n[upstream]\ntimeout = "30s"\n',
            "shipped": (HERE.parent / "Config" / "hoard.toml").read_bytes(),
            "huge-ttl": b'[repodata]\nttl = "99999999999999999999d"\n',
            "empty": b"", "huge": b"[server]\nport = 99999999999999999999\n", "neg": b"[server]\nport = -1\n",
            "float": b'[store]\nmax_size = 1e400\n', "dup": b"[server]\n[server]\n",
        },
        "fuzz-s3-xml": {
            "listing": b'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                       b"<Name>b</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>"
                       b"<NextContinuationToken>tok/en==</NextContinuationToken><Contents><Key>p/a</Key>"
                       b"<LastModified>2015-08-30T12:36:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>5</Size>"
                       b"<Owner><ID>o</ID></Owner></Contents><Contents><Key>p/b</Key><Size>99999999999999999999</Size></Contents>"
                       b"</ListBucketResult>",
            "uploads": b'<?xml version="1.0"?><ListMultipartUploadsResult><IsTruncated>false</IsTruncated><NextKeyMarker>k</NextKeyMarker>'
                       b"<NextUploadIdMarker>u</NextUploadIdMarker><Upload><Key>k</Key><UploadId>u</UploadId>"
                       b"<Initiated>2015-08-30T12:36:00Z</Initiated></Upload></ListMultipartUploadsResult>",
            "error": b'<?xml version="1.0"?>\n<Error><Code>PreconditionFailed</Code><Message>m</Message></Error>',
            "initiate": b"<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId></InitiateMultipartUploadResult>",
            "complete": b'<CompleteMultipartUploadResult><ETag>"e-2"</ETag></CompleteMultipartUploadResult>',
            "namespaces": b'<s:Error xmlns:s="urn:x" xmlns="urn:y" s:a="1"><s:Code>C</s:Code><Message xmlns:t="">m</Message></s:Error>',
            "time": b"2015-08-30T12:36:00.123456789Z", "number": b"9223372036854775807",
            # Inputs that crashed FoundationXML or XMLCoder before S3XML.isPlainDocument.
            "regress-name-not-utf8": b'<?xml version="1.0"?>\n<Error><\xd0ode>P</Code><Message>m</Message></Error>',
            "regress-bare-instruction": b'<?xm?>><CodeXPreconditioxnFailed</Code>\n<Error><Col version="1.0"?>><Code>P</Code>',
            "regress-deep": b"<ListBucketResult>" + b"<a>" * 2000 + b"</a>" * 2000 + b"</ListBucketResult>",
        },
    }


def main() -> None:
    out = HERE / "corpus"
    for target, files in seeds().items():
        d = out / target
        d.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (d / name).write_bytes(data)
    print(f"wrote {sum(len(f) for f in seeds().values())} seeds under {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
