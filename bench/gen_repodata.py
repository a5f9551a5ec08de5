#!/usr/bin/env python3
"""Write a synthetic conda repodata.json with N records (1/3 packages, 2/3 packages.conda).

Usage: gen_repodata.py N OUT [BASE_URL]
(BASE_URL sets info.base_url and repodata_version 2, to exercise the rewrite.)
Deterministic (seeded); stdlib only. 500000 records is about 272 MB.
"""
import hashlib
import json
import random
import sys


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: gen_repodata.py N OUT [BASE_URL]")
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(16)
    names = [f"pkg-{i:05d}" if i % 7 else f"_lib{i:05d}" for i in range(max(1, n // 20))]
    licenses = [("MIT", "MIT"), ("BSD-3-Clause", "BSD"), ("Apache-2.0", "Apache"), ("GPL-3.0-or-later", "GPL3")]
    packages, packages_conda = {}, {}
    for i in range(n):
        name = names[i % len(names)]
        version = f"{rng.randint(0, 30)}.{rng.randint(0, 99)}.{i // len(names)}"
        build_number = rng.randint(0, 9)
        build = f"h{hashlib.md5(str(i).encode()).hexdigest()[:7]}_{build_number}"
        lic, family = licenses[i % len(licenses)]
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        record = {
            "build": build,
            "build_number": build_number,
            "depends": [f"{names[(i + k) % len(names)]} >={k}.0" for k in range(1 + i % 6)] + ["libgcc-ng >=12"],
            "constrains": [f"{names[(i + 3) % len(names)]} <{rng.randint(1, 9)}"] if i % 3 == 0 else [],
            "license": lic,
            "license_family": family,
            "md5": hashlib.md5(digest.encode()).hexdigest(),
            "name": name,
            "sha256": digest,
            "size": rng.randint(2_000, 90_000_000),
            "subdir": "linux-64",
            "timestamp": 1_600_000_000_000 + i * 1000,
            "version": version,
        }
        if i % 5 == 0:
            record["noarch"] = "python"
        stem = f"{name}-{version}-{build}"
        if i % 3 == 0:
            packages[stem + ".tar.bz2"] = record
        else:
            packages_conda[stem + ".conda"] = record
    doc = {
        "info": {"subdir": "linux-64"},
        "packages": packages,
        "packages.conda": packages_conda,
        "removed": [],
        "repodata_version": 1,
    }
    if len(sys.argv) == 4:
        doc["info"]["base_url"] = sys.argv[3]
        doc["repodata_version"] = 2
    with open(out, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
