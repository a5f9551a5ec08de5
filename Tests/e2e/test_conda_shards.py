"""CEP-16 shards wherever the upstream index puts them (issue 7, defect 3).

An upstream shard index names its shards' directory in `info.shards_base_url`, relative to the
index or absolute. Real indexers disagree: conda-index writes `""` (shards beside the index),
rattler-index `./shards/`; hosts point at other paths or other servers. hoard serves every index
with `./shards/` (so clients always come back to hoard), answers shards under both
`<subdir>/shards/` and `<subdir>/` beside the index, and fetches each shard upstream once, from
where the upstream index says, verified against its sha256 name.

Each test installs `fx-app` with py-rattler (sharded) through hoard and reads the upstream
request logs: every shard and package fetched exactly once, from the right URL, nothing guessed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
import pytest
import zstandard

from fixture_channel import FX_APP_BANNER
from hoard import request
from rattler_client import run_client
from shard_layouts import (SHARD_INDEX, SHARD_SUFFIX, SUBDIRS, build_conda_index_channel, read_shard_index,
                           relocate_shards, shard_hexes)
from upstream import Upstream

PACKAGES = {  # what `fx-app` installs: file name -> subdir
    "fx-app-1.0-0.conda": "linux-64",
    "fx-lib-1.0-0.conda": "noarch",
    "fx-data-1.0-0.conda": "noarch",
}
LAYOUTS = ("conda-index", "rattler-index", "relative-parent", "absolute-same-host", "absolute-other-host")


@dataclass
class ShardedChannel:
    """An upstream channel (and, for one layout, the second server holding its shards)."""

    upstream: Upstream
    shard_server: Upstream
    # shard hex -> the upstream path hoard must fetch it from (on `shard_server`)
    expected_shards: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        self.upstream.stop()
        if self.shard_server is not self.upstream:
            self.shard_server.stop()


@pytest.fixture(scope="session")
def conda_index_dir(channel_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture channel's packages indexed by conda-index (built once per session)."""
    return build_conda_index_channel(channel_dir, tmp_path_factory.mktemp("conda-index-channel"))


@pytest.fixture
def make_channel(channel_dir: Path, conda_index_dir: Path, tmp_path: Path):
    made: list[ShardedChannel] = []

    def make(layout: str) -> ShardedChannel:
        if layout == "conda-index":
            up = Upstream(conda_index_dir, prefix="/channel", max_age=60).start()
            channel = ShardedChannel(up, up)
            for subdir in SUBDIRS:
                for hex_ in shard_hexes(conda_index_dir, subdir).values():
                    channel.expected_shards[hex_] = f"/channel/{subdir}/{hex_}{SHARD_SUFFIX}"
            made.append(channel)
            return channel
        root = tmp_path / "channel"
        shutil.copytree(channel_dir, root)
        up = Upstream(root, prefix="/channel", max_age=60).start()
        shard_server = up
        if layout == "rattler-index":
            where = "/channel/{subdir}/shards/"
        elif layout == "relative-parent":
            relocate_shards(root, root / "shard-store", "../shard-store/{subdir}/")
            where = "/channel/shard-store/{subdir}/"
        elif layout == "absolute-same-host":
            relocate_shards(root, root / "shard-store", f"{up.url}/shard-store/{{subdir}}/")
            where = "/channel/shard-store/{subdir}/"
        elif layout == "absolute-other-host":
            store = tmp_path / "shard-host"
            shard_server = Upstream(store, prefix="/s", max_age=60).start()
            # No trailing slash: clients read the value as a directory all the same.
            relocate_shards(root, store, f"{shard_server.url}/{{subdir}}")
            where = "/s/{subdir}/"
        else:
            raise ValueError(layout)
        channel = ShardedChannel(up, shard_server)
        for subdir in SUBDIRS:
            for hex_ in shard_hexes(root, subdir).values():
                channel.expected_shards[hex_] = where.format(subdir=subdir) + hex_ + SHARD_SUFFIX
        made.append(channel)
        return channel

    yield make
    for channel in made:
        channel.stop()


def shard_gets(server: Upstream) -> dict[str, int]:
    """Upstream GETs of shard files (not the index), by path."""
    counts: dict[str, int] = {}
    for r in server.requests:
        name = r.path.rsplit("/", 1)[-1]
        if r.method == "GET" and name.endswith(SHARD_SUFFIX) and name != SHARD_INDEX:
            counts[r.path] = counts.get(r.path, 0) + 1
    return counts


def package_gets(server: Upstream) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in server.requests:
        if r.method == "GET" and r.path.endswith((".conda", ".tar.bz2")):
            counts[r.path] = counts.get(r.path, 0) + 1
    return counts


def install(hoard, client_dirs, what: str) -> None:
    prefix, cache = client_dirs()
    result = run_client(hoard.channel_url(), prefix, cache, shards=True, max_retries=0)
    assert result.ok, f"{what}: {result.describe()}"
    assert sorted(p["file_name"] for p in result.installed) == sorted(PACKAGES), what
    assert all(p["url"].startswith(hoard.channel_url() + "/") for p in result.installed), \
        f"{what}: package URLs must point at hoard, got {[p['url'] for p in result.installed]}"
    out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True, timeout=10, check=True)
    assert out.stdout.splitlines() == [FX_APP_BANNER, f"prefix={prefix}"], what


def served_index(hoard, subdir: str) -> dict:
    r = request(hoard.port, "GET", f"/fixture/{subdir}/{SHARD_INDEX}")
    assert r.status == 200, r.text
    return msgpack.unpackb(zstandard.ZstdDecompressor().stream_reader(r.body).read(), raw=False)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_install_sharded_from_each_shard_layout(start_hoard, make_channel, client_dirs, layout):
    channel = make_channel(layout)
    hoard = start_hoard(upstreams={"fixture": channel.upstream.url})

    install(hoard, client_dirs, f"{layout}: cold")
    # A second cold client: everything now comes from hoard's store.
    install(hoard, client_dirs, f"{layout}: warm hoard, cold client")

    # Each shard fetched once, from where the upstream index put it; no guessed URL anywhere.
    assert shard_gets(channel.shard_server) == {path: 1 for path in channel.expected_shards.values()}
    if channel.shard_server is not channel.upstream:
        assert shard_gets(channel.upstream) == {}
    assert package_gets(channel.upstream) == {f"/channel/{sub}/{name}": 1 for name, sub in PACKAGES.items()}
    for server in {id(channel.upstream): channel.upstream, id(channel.shard_server): channel.shard_server}.values():
        missing = [(r.method, r.path) for r in server.requests if r.status == 404 and not r.path.endswith(".json.bz2")
                   and "current_repodata" not in r.path]
        assert missing == [], f"hoard asked upstream for files that are not there: {missing}"

    # What hoard serves: shards under ./shards/ whatever upstream said, the same bytes beside the
    # index (where conda-index's layout and indexes served by older hoards send clients).
    for subdir in SUBDIRS:
        index = served_index(hoard, subdir)
        assert index["info"]["shards_base_url"] == "./shards/"
        for name, digest in index["shards"].items():
            hex_ = bytes(digest).hex()
            under = request(hoard.port, "GET", f"/fixture/{subdir}/shards/{hex_}{SHARD_SUFFIX}")
            beside = request(hoard.port, "GET", f"/fixture/{subdir}/{hex_}{SHARD_SUFFIX}")
            assert under.status == beside.status == 200, (name, under.status, beside.status)
            assert under.body == beside.body
            assert hashlib.sha256(under.body).hexdigest() == hex_
            assert "immutable" in (under.header("cache-control") or "")
    assert shard_gets(channel.shard_server) == {path: 1 for path in channel.expected_shards.values()}


def test_conda_index_layout_is_what_conda_index_writes(conda_index_dir):
    """The conda-index channel really is the layout the tests above mean (guards the indexer pin)."""
    for subdir in SUBDIRS:
        info = read_shard_index(conda_index_dir / subdir / SHARD_INDEX)["info"]
        assert info["shards_base_url"] == ""
        for hex_ in shard_hexes(conda_index_dir, subdir).values():
            assert (conda_index_dir / subdir / f"{hex_}{SHARD_SUFFIX}").is_file()
            assert not (conda_index_dir / subdir / "shards").exists()


def test_shard_not_in_upstream_is_a_404_and_fetched_once_per_request(start_hoard, make_channel):
    """A shard name the upstream does not have: 404 (not a 5xx), nothing stored, nothing guessed."""
    channel = make_channel("conda-index")
    hoard = start_hoard(upstreams={"fixture": channel.upstream.url})
    hex_ = hashlib.sha256(b"no such shard").hexdigest()
    for path in (f"/fixture/linux-64/shards/{hex_}{SHARD_SUFFIX}", f"/fixture/linux-64/{hex_}{SHARD_SUFFIX}"):
        r = request(hoard.port, "GET", path)
        assert r.status == 404, (path, r.status, r.text)
    assert shard_gets(channel.upstream) == {f"/channel/linux-64/{hex_}{SHARD_SUFFIX}": 2}


def test_index_stored_by_an_older_hoard(start_hoard, make_channel, client_dirs, tmp_path):
    """A store written by hoard before this fix holds the conda-index shard index with no
    resolved upstream shard directory (upstream_shards_base_url NULL, as main at 2899480 leaves
    it) and serves that index as upstream wrote it (`""`): clients then ask beside the index,
    and hoard re-reads the stored upstream index to find the shards."""
    channel = make_channel("conda-index")
    root = tmp_path / "hoard-root"
    first = start_hoard(upstreams={"fixture": channel.upstream.url}, root=root)
    for subdir in SUBDIRS:
        assert request(first.port, "GET", f"/fixture/{subdir}/{SHARD_INDEX}").status == 200
    assert first.stop() in (0, -15)
    with sqlite3.connect(root / "index.db") as db:
        changed = db.execute("UPDATE repodata SET upstream_shards_base_url = NULL WHERE name = ?", (SHARD_INDEX,)).rowcount
    assert changed == len(SUBDIRS)

    second = start_hoard(upstreams={"fixture": channel.upstream.url}, root=root)
    install(second, client_dirs, "after upgrade")
    assert shard_gets(channel.upstream) == {path: 1 for path in channel.expected_shards.values()}


# ---- real conda (optional) ----------------------------------------------------------------------

def conda_python() -> str:
    python = os.environ.get("HOARD_TEST_CONDA", "")
    if not python:
        pytest.skip("HOARD_TEST_CONDA is not set: it names a python with conda 26.x and the "
                    "conda-rattler-solver plugin installed (conda is not on PyPI)")
    if not os.access(python, os.X_OK):
        pytest.skip(f"HOARD_TEST_CONDA={python} is not an executable")
    probe = subprocess.run([python, "-c", "import conda, conda_rattler_solver; print(conda.__version__)"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"HOARD_TEST_CONDA={python} lacks conda or conda-rattler-solver: {probe.stderr.strip()[-300:]}")
    return python


@pytest.mark.parametrize("layout", ["conda-index", "absolute-other-host"])
def test_real_conda_installs_sharded(start_hoard, make_channel, tmp_path, layout):
    """conda's own shard reader (with the rattler solver) through hoard."""
    python = conda_python()
    channel = make_channel(layout)
    hoard = start_hoard(upstreams={"fixture": channel.upstream.url})
    scratch = tmp_path / "conda-home"
    scratch.mkdir()
    condarc = scratch / "condarc"
    condarc.write_text("channels: []\nsolver: rattler\nrepodata_use_shards: true\n"
                       "auto_update_conda: false\nreport_errors: false\nnotify_outdated_conda: false\n")
    env = {**os.environ, "HOME": str(scratch), "CONDARC": str(condarc), "CONDA_PKGS_DIRS": str(scratch / "pkgs"),
           "CONDA_SUBDIR": "linux-64"}
    prefix = tmp_path / "conda-env"
    proc = subprocess.run([python, "-m", "conda", "create", "-y", "-p", str(prefix), "--override-channels",
                           "-c", hoard.channel_url(), "--solver", "rattler", "fx-app"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, f"conda create failed:\n{proc.stdout}\n{proc.stderr}"
    out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True, timeout=10, check=True)
    assert out.stdout.splitlines() == [FX_APP_BANNER, f"prefix={prefix}"]
    fetched = shard_gets(channel.shard_server)
    assert fetched and all(n == 1 for n in fetched.values()), fetched
    assert set(fetched) <= set(channel.expected_shards.values()), fetched
