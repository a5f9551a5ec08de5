#!/usr/bin/env python3
"""Write <channel>/noarch/repodata.json for the files in <channel>/noarch/.

Usage: index_channel.py CHANNEL_DIR [--make NAME=SIZE ...]

--make writes a file of SIZE random bytes (suffix K, M, G: powers of 1024) called NAME first,
unless it already exists with that size. Files must be named name-version-build.conda; they
need not be real conda archives: hoard only checks the sha256 and size the index lists.
Stdlib only. sha256 is computed in 8 MiB reads.
"""
import hashlib
import json
import os
import sys


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text[-1].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def make(path: str, size: int) -> None:
    if os.path.exists(path) and os.path.getsize(path) == size:
        return
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        left = size
        while left:
            n = min(left, 16 << 20)
            f.write(os.urandom(n))
            left -= n
    os.replace(tmp, path)


def record(path: str) -> tuple[str, dict]:
    filename = os.path.basename(path)
    stem = filename[: -len(".conda")]
    name, version, build = stem.rsplit("-", 2)
    sha, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(8 << 20):
            sha.update(chunk)
            md5.update(chunk)
    return filename, {
        "build": build,
        "build_number": 0,
        "depends": [],
        "license": "MIT",
        "md5": md5.hexdigest(),
        "name": name,
        "noarch": "generic",
        "sha256": sha.hexdigest(),
        "size": os.path.getsize(path),
        "subdir": "noarch",
        "timestamp": 1700000000000,
        "version": version,
    }


def main() -> None:
    args = sys.argv[1:]
    if not args:
        sys.exit(__doc__)
    channel = args[0]
    subdir = os.path.join(channel, "noarch")
    os.makedirs(subdir, exist_ok=True)
    rest = args[1:]
    while rest:
        if rest[0] != "--make" or len(rest) < 2:
            sys.exit(__doc__)
        name, size = rest[1].split("=", 1)
        make(os.path.join(subdir, name), parse_size(size))
        rest = rest[2:]
    packages = {}
    for filename in sorted(os.listdir(subdir)):
        if filename.endswith(".conda"):
            key, value = record(os.path.join(subdir, filename))
            packages[key] = value
    doc = {"info": {"subdir": "noarch"}, "packages": {}, "packages.conda": packages, "removed": [], "repodata_version": 1}
    with open(os.path.join(subdir, "repodata.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
    print(f"{subdir}/repodata.json: {len(packages)} packages, {os.path.getsize(os.path.join(subdir, 'repodata.json'))} bytes")


if __name__ == "__main__":
    main()
