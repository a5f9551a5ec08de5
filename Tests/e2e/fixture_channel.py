"""Build a small, real conda channel for the end-to-end tests.

The channel is made of genuine packages (built with conda-package-handling) and indexed by
py-rattler, so every byte a client or hoard sees is what a real channel would serve:
`repodata.json`, `repodata.json.zst`, the CEP-16 shard index and shards, and the packages.

Contents (all version 1.0, build 0):

- `noarch/fx-lib`   as both `.conda` and `.tar.bz2` (the same package in two formats)
- `noarch/fx-data`  ~3 MiB of seeded random payload (large enough to stream, single-flight, truncate)
- `linux-64/fx-app` depends on `fx-lib >=1.0` and `fx-data`; ships `bin/fx-app`, a shell script that
                    prints `FX_APP_BANNER` and the prefix it was installed into (a text prefix
                    placeholder, so the client's prefix replacement is exercised too)

Usable as a module (`build_channel(outdir)`) or as a CLI: `python fixture_channel.py OUTDIR`.
The tests run the CLI in a subprocess: importing py-rattler into the pytest process risks the
abort at interpreter exit that py-rattler 0.28 sometimes shows.
Package contents and file mtimes are fixed; `.conda` zip headers still carry the build time, so
sha256s differ between builds: tests must read hashes from the built repodata, never hard-code them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHANNEL_SUBDIRS = ("noarch", "linux-64")
FX_APP_BANNER = "fx-app 1.0: hello from the hoard fixture channel"
# Long and unusual so that it cannot collide with real content; clients replace it on install.
PREFIX_PLACEHOLDER = "/opt/fx-build-placeholder" + "_placehold" * 8
PAYLOAD_SIZE = 3 * 1024 * 1024
BUILD_TIMESTAMP_MS = 1_700_000_000_000  # fixed: keeps index.json stable across builds

FX_APP_SCRIPT = f"""#!/bin/sh
echo "{FX_APP_BANNER}"
echo "prefix={PREFIX_PLACEHOLDER}"
"""


@dataclass(frozen=True)
class FixturePackage:
    """One package of the fixture channel: its metadata and the files it installs."""

    name: str
    subdir: str
    depends: tuple[str, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)
    executables: frozenset[str] = frozenset()
    has_prefix: frozenset[str] = frozenset()  # text files containing PREFIX_PLACEHOLDER
    formats: tuple[str, ...] = (".conda",)
    version: str = "1.0"
    build: str = "0"

    @property
    def stem(self) -> str:
        return f"{self.name}-{self.version}-{self.build}"

    def filenames(self) -> list[str]:
        return [self.stem + ext for ext in self.formats]


def fixture_packages() -> list[FixturePackage]:
    """The package set; generated on demand so the 3 MiB payload is not held at import time."""
    payload = random.Random(20240601).randbytes(PAYLOAD_SIZE)
    return [
        FixturePackage(
            name="fx-lib",
            subdir="noarch",
            files={"share/fx-lib/VERSION": b"fx-lib 1.0\n"},
            formats=(".conda", ".tar.bz2"),
        ),
        FixturePackage(
            name="fx-data",
            subdir="noarch",
            files={"share/fx-data/payload.bin": payload},
        ),
        FixturePackage(
            name="fx-app",
            subdir="linux-64",
            depends=("fx-lib >=1.0", "fx-data"),
            files={"bin/fx-app": FX_APP_SCRIPT.encode()},
            executables=frozenset({"bin/fx-app"}),
            has_prefix=frozenset({"bin/fx-app"}),
        ),
    ]


def index_json(pkg: FixturePackage) -> dict:
    """info/index.json as conda-build would write it (noarch packages carry `noarch: generic`)."""
    meta = {
        "name": pkg.name,
        "version": pkg.version,
        "build": pkg.build,
        "build_number": 0,
        "depends": list(pkg.depends),
        "license": "BSD-3-Clause",
        "subdir": pkg.subdir,
        "timestamp": BUILD_TIMESTAMP_MS,
    }
    if pkg.subdir == "noarch":
        meta.update({"noarch": "generic", "arch": None, "platform": None})
    else:
        arch_platform = {"linux-64": ("x86_64", "linux")}[pkg.subdir]
        meta.update({"arch": arch_platform[0], "platform": arch_platform[1]})
    return meta


def paths_json(pkg: FixturePackage) -> dict:
    """info/paths.json: what rattler reads to link files and to do prefix replacement."""
    entries = []
    for path, data in sorted(pkg.files.items()):
        entry = {
            "_path": path,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if path in pkg.has_prefix:
            entry.update({"file_mode": "text", "prefix_placeholder": PREFIX_PLACEHOLDER})
        entries.append(entry)
    return {"paths": entries, "paths_version": 1}


def stage_package(pkg: FixturePackage, staging: Path) -> list[str]:
    """Write the package tree (payload + info/) under `staging`; return the archive file list."""
    info = {
        "info/index.json": json.dumps(index_json(pkg), indent=2, sort_keys=True).encode(),
        "info/paths.json": json.dumps(paths_json(pkg), indent=2).encode(),
        "info/files": "".join(p + "\n" for p in sorted(pkg.files)).encode(),
    }
    if pkg.has_prefix:
        # Legacy companion of paths.json; harmless for clients that only read paths.json.
        lines = [f'{PREFIX_PLACEHOLDER} text {p}\n' for p in sorted(pkg.has_prefix)]
        info["info/has_prefix"] = "".join(lines).encode()
    everything = {**pkg.files, **info}
    fixed_time = BUILD_TIMESTAMP_MS / 1000
    for rel, data in everything.items():
        target = staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o755 if rel in pkg.executables else 0o644)
        os.utime(target, (fixed_time, fixed_time))
    return sorted(everything)


def build_package(pkg: FixturePackage, channel_dir: Path) -> list[Path]:
    """Build every requested format of `pkg` into `channel_dir/<subdir>/`."""
    from conda_package_handling import api as cph

    out_dir = channel_dir / pkg.subdir
    out_dir.mkdir(parents=True, exist_ok=True)
    built = []
    with tempfile.TemporaryDirectory(prefix=f"stage-{pkg.name}-") as staging:
        file_list = stage_package(pkg, Path(staging))
        for filename in pkg.filenames():
            cph.create(staging, file_list, str(out_dir / filename))
            built.append(out_dir / filename)
    return built


def index_channel(channel_dir: Path) -> None:
    """Index with py-rattler: repodata.json, repodata.json.zst, shard index and shards per subdir.

    `index_fs` is a coroutine; calling it without awaiting silently does nothing.
    """
    from rattler.index import index_fs

    asyncio.run(index_fs(channel_dir, write_zst=True, write_shards=True, force=True))


def write_channeldata(channel_dir: Path, packages: list[FixturePackage]) -> None:
    """A minimal CEP-38 channeldata.json (py-rattler's indexer does not write one)."""
    target = channel_dir / "channeldata.json"
    if target.exists():
        return
    by_name: dict[str, dict] = {}
    for pkg in packages:
        entry = by_name.setdefault(pkg.name, {"version": pkg.version, "subdirs": [], "license": "BSD-3-Clause"})
        if pkg.subdir not in entry["subdirs"]:
            entry["subdirs"].append(pkg.subdir)
    data = {"channeldata_version": 1, "packages": by_name, "subdirs": list(CHANNEL_SUBDIRS)}
    target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def build_channel(channel_dir: str | os.PathLike[str]) -> Path:
    """Build and index the whole fixture channel into `channel_dir` (created if missing)."""
    channel_dir = Path(channel_dir)
    for subdir in CHANNEL_SUBDIRS:
        (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
    packages = fixture_packages()
    for pkg in packages:
        build_package(pkg, channel_dir)
    index_channel(channel_dir)
    write_channeldata(channel_dir, packages)
    return channel_dir


def load_repodata(channel_dir: str | os.PathLike[str], subdir: str) -> dict:
    """The built repodata.json of one subdir (tests take sha256/size from here)."""
    return json.loads((Path(channel_dir) / subdir / "repodata.json").read_text())


def package_record(channel_dir: str | os.PathLike[str], subdir: str, filename: str) -> dict:
    """The repodata record of one package file, whichever format section it is in."""
    repodata = load_repodata(channel_dir, subdir)
    key = "packages.conda" if filename.endswith(".conda") else "packages"
    return repodata[key][filename]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTDIR", file=sys.stderr)
        return 2
    out = build_channel(argv[1])
    for path in sorted(out.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:>10}  {path.relative_to(out)}")
    return 0


if __name__ == "__main__":
    code = main(sys.argv)
    # py-rattler 0.28 can abort in its native threads at interpreter shutdown, after success.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
