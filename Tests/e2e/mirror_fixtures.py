"""The channel and lock files of test_mirror.py; run as a subprocess (py-rattler stays out of pytest).

    python mirror_fixtures.py channel OUTDIR
        A channel with several versions and builds per name (noarch and linux-64), indexed by
        py-rattler (repodata.json, .zst, shards).

    python mirror_fixtures.py add CHANNEL_DIR NAME VERSION
        Adds a noarch package NAME-VERSION-0.conda to the channel and indexes it again (a channel
        that gained a release since the last mirror run).

    python mirror_fixtures.py locks CHANNEL_URL OUTDIR SPEC...
        Solves SPEC against CHANNEL_URL with py-rattler and writes the solution as
        - OUTDIR/pixi.lock       by rattler_lock (py-rattler's LockFile: the library pixi writes
                                 pixi.lock with);
        - OUTDIR/conda-lock.yml  by conda-lock's own lock file model and writer (conda-lock's
                                 solver needs conda/mamba, which PyPI does not have: the records
                                 come from py-rattler's solve instead);
        - OUTDIR/explicit-md5.txt by conda-lock's `explicit` renderer (URL#md5);
        - OUTDIR/explicit-sha256.txt the same list with `#sha256:<hex>` (conda's newer syntax),
                                 written here from the same records.
        Prints {"files": [...], "packages": [{"url", "sha256", "md5", "size"}]}.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fixture_channel import FixturePackage, build_package, index_channel  # noqa: E402

APP_SCRIPT = "#!/bin/sh\necho mx-app says hello\n"


def mirror_packages() -> list[FixturePackage]:
    def lib(version: str) -> FixturePackage:
        return FixturePackage(name="mx-lib", subdir="noarch", version=version,
                              files={"share/mx-lib/VERSION": f"mx-lib {version}\n".encode()})

    return [
        lib("1.0"), lib("1.5"), lib("2.0"),
        FixturePackage(name="mx-data", subdir="noarch", files={"share/mx-data/data.bin": os.urandom(256 << 10)}),
        FixturePackage(name="mx-app", subdir="linux-64", version="1.0", depends=("mx-lib >=1,<2",),
                       files={"bin/mx-app": APP_SCRIPT.encode()}, executables=frozenset({"bin/mx-app"})),
        FixturePackage(name="mx-app", subdir="linux-64", version="2.0", depends=("mx-lib >=2", "mx-data"),
                       files={"bin/mx-app": APP_SCRIPT.encode()}, executables=frozenset({"bin/mx-app"})),
        FixturePackage(name="mx-tool", subdir="linux-64", version="3.1", build="h1_0",
                       files={"share/mx-tool/build": b"0\n"}),
        FixturePackage(name="mx-tool", subdir="linux-64", version="3.1", build="h1_1",
                       files={"share/mx-tool/build": b"1\n"}),
        FixturePackage(name="mx-other", subdir="linux-64", files={"share/mx-other/x": b"x\n"}),
    ]


def build(outdir: Path) -> None:
    for subdir in ("noarch", "linux-64"):
        (outdir / subdir).mkdir(parents=True, exist_ok=True)
    for pkg in mirror_packages():
        build_package(pkg, outdir)
    index_channel(outdir)


async def solve_records(channel_url: str, specs: list[str], cache: Path):
    from rattler import Channel, Gateway, SourceConfig, solve

    gateway = Gateway(cache_dir=cache / "repodata", default_config=SourceConfig(sharded_enabled=False))
    return await solve([Channel(channel_url)], specs, gateway=gateway,
                       platforms=["linux-64", "noarch"], virtual_packages=[])


def write_locks(channel_url: str, outdir: Path, specs: list[str]) -> dict:
    from rattler import LockChannel, LockFile, LockPlatform

    outdir.mkdir(parents=True, exist_ok=True)
    records = asyncio.run(solve_records(channel_url, specs, outdir / "cache"))
    packages = [{"url": r.url, "sha256": r.sha256.hex(), "md5": r.md5.hex(), "size": r.size,
                 "name": r.name.normalized, "version": str(r.version), "subdir": r.subdir,
                 "depends": list(r.depends)} for r in records]

    # pixi.lock, written by rattler_lock.
    platform = LockPlatform("linux-64")
    lock = LockFile([platform])
    lock.set_channels("default", [LockChannel(channel_url)])
    for record in records:
        lock.add_conda_package("default", platform, record)
    lock.to_path(outdir / "pixi.lock")

    # conda-lock.yml and the @EXPLICIT list, written by conda-lock's own code.
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency, Lockfile, LockMeta
    from conda_lock.models.channel import Channel as CLChannel
    from conda_lock.conda_lock import render_lockfile_for_platform

    locked = [
        LockedDependency(
            name=p["name"], version=p["version"], manager="conda", platform="linux-64",
            dependencies={}, url=p["url"], hash=HashModel(md5=p["md5"], sha256=p["sha256"]),
            categories={"main"})
        for p in packages
    ]
    meta = LockMeta(content_hash={"linux-64": "0" * 64}, channels=[CLChannel.from_string(channel_url)],
                    platforms=["linux-64"], sources=["environment.yml"])
    content = Lockfile(package=locked, metadata=meta)
    write_conda_lock_file(content, outdir / "conda-lock.yml", metadata_choices=None)
    explicit = render_lockfile_for_platform(lockfile=content, include_dev_dependencies=True, extras=set(),
                                            kind="explicit", platform="linux-64")
    (outdir / "explicit-md5.txt").write_text("\n".join(explicit) + "\n")
    lines = ["# platform: linux-64", "@EXPLICIT"] + [f"{p['url']}#sha256:{p['sha256']}" for p in packages]
    (outdir / "explicit-sha256.txt").write_text("\n".join(lines) + "\n")
    return {"files": ["pixi.lock", "conda-lock.yml", "explicit-md5.txt", "explicit-sha256.txt"], "packages": packages}


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[1] == "channel":
        build(Path(argv[2]))
        return 0
    if len(argv) == 5 and argv[1] == "add":
        channel, name, version = Path(argv[2]), argv[3], argv[4]
        build_package(FixturePackage(name=name, subdir="noarch", version=version,
                                     files={f"share/{name}/VERSION": f"{name} {version}\n".encode()}), channel)
        index_channel(channel)
        return 0
    if len(argv) >= 5 and argv[1] == "locks":
        print(json.dumps(write_locks(argv[2], Path(argv[3]), argv[4:])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
