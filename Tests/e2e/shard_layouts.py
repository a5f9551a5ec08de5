"""Channels whose CEP-16 shards live in each place an upstream index can put them.

Real indexers only: the fixture channel is indexed by py-rattler's `index_fs` (rattler-index,
`shards_base_url: "./shards/"`, shards in `<subdir>/shards/`), and `build_conda_index_channel`
indexes the same packages with conda-index (`python -m conda_index --write-shards`,
`shards_base_url: ""`, shards beside the index in `<subdir>/`). `relocate_shards` then moves a
rattler-indexed channel's shards elsewhere and points its index there (relative, or absolute on
this or another server), editing only `info.shards_base_url`, as a channel host would.

conda-index imports `conda`, which is not on PyPI: it runs in a subprocess with the stand-in in
`conda_standin/` on `PYTHONPATH` (see its README).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import msgpack
import zstandard

HERE = Path(__file__).resolve().parent
STANDIN = HERE / "conda_standin"
SUBDIRS = ("noarch", "linux-64")
SHARD_INDEX = "repodata_shards.msgpack.zst"
SHARD_SUFFIX = ".msgpack.zst"
PACKAGE_SUFFIXES = (".conda", ".tar.bz2")


def read_shard_index(path: Path) -> dict:
    raw = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    return msgpack.unpackb(raw, raw=False)


def write_shard_index(path: Path, index: dict) -> None:
    path.write_bytes(zstandard.ZstdCompressor(level=3).compress(msgpack.packb(index, use_bin_type=True)))


def shard_hexes(channel: Path, subdir: str) -> dict[str, str]:
    """Package name -> shard sha256 (hex) of one subdir's index."""
    return {name: bytes(h).hex() for name, h in read_shard_index(channel / subdir / SHARD_INDEX)["shards"].items()}


def copy_packages(source: Path, target: Path) -> Path:
    """Only the package files of `source`, so the copy can be indexed afresh."""
    for subdir in SUBDIRS:
        (target / subdir).mkdir(parents=True, exist_ok=True)
        for path in (source / subdir).iterdir():
            if path.name.endswith(PACKAGE_SUFFIXES):
                shutil.copy2(path, target / subdir / path.name)
    return target


def build_conda_index_channel(source: Path, target: Path) -> Path:
    """`source`'s packages, indexed by conda-index with shards (and repodata.json + .zst)."""
    copy_packages(source, target)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(STANDIN), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(
        [sys.executable, "-m", "conda_index", "--write-shards", "--zst", "--channeldata", "--threads", "1", str(target)],
        capture_output=True, text=True, timeout=180, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"conda-index failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    for subdir in SUBDIRS:
        if not (target / subdir / SHARD_INDEX).is_file():
            raise RuntimeError(f"conda-index wrote no {subdir}/{SHARD_INDEX}:\n{proc.stderr}")
    return target


def relocate_shards(channel: Path, store: Path, shards_base_url: str) -> None:
    """Move each subdir's shards from `<subdir>/shards/` to `<store>/<subdir>/` and set the
    index's `shards_base_url` to `shards_base_url` (`{subdir}` is replaced by the subdir)."""
    for subdir in SUBDIRS:
        source = channel / subdir / "shards"
        (store / subdir).mkdir(parents=True, exist_ok=True)
        for shard in source.iterdir():
            shard.rename(store / subdir / shard.name)
        source.rmdir()
        index_path = channel / subdir / SHARD_INDEX
        index = read_shard_index(index_path)
        index["info"]["shards_base_url"] = shards_base_url.format(subdir=subdir)
        write_shard_index(index_path, index)
