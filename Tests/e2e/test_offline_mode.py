"""`hoard serve --offline` (issue 10): never contact an upstream, serve what the store holds.

The store is filled through the harness (py-rattler pulling through a hoard that has an
upstream), then hoard is restarted on the same root with `--offline`:

- the repodata it serves (`.json`, `.zst`, and the generated CEP-16 shards) lists only the
  packages in the store, so py-rattler installs them with shards on and off, and a solve that
  needs a package the store lacks fails as unsatisfiable, never with a download error;
- what the store lacks is a 404 naming offline mode; the upstream (kept running, its request log
  cleared) is never asked anything;
- `--offline-full-repodata` serves the last upstream repodata as it was;
- an upstream without shards (a channel indexed without `--write-shards`) gets generated shards
  online too: py-rattler reads them and no shard is ever asked of the upstream.

With `HOARD_TEST_CONDA` (a python with conda 26.x), real conda installs offline too.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import msgpack
import pytest
import zstandard

from hoard import Hoard, request
from rattler_client import run_client
from upstream import Upstream

SUBDIRS = ("linux-64", "noarch")
SHARD_INDEX = "repodata_shards.msgpack.zst"
FILLED = {"fx-lib-1.0-0.conda": "noarch", "fx-data-1.0-0.conda": "noarch"}  # what the fill installs
NOT_FILLED = {"fx-app-1.0-0.conda": "linux-64", "fx-lib-1.0-0.tar.bz2": "noarch"}


@pytest.fixture
def hoards(hoard_bin, tmp_path):
    """Factory for hoard processes with extra arguments; every one is stopped at teardown."""
    started: list[Hoard] = []

    def start(upstreams: dict[str, str], *args: str, root: Path | None = None) -> Hoard:
        proc = Hoard(hoard_bin, root or tmp_path / "hoard-root", upstreams,
                     log_path=tmp_path / f"hoard-{len(started) + 1}.log", extra_args=args)
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        code = proc.stop()
        assert code in (None, 0, -15), f"hoard exited with {code}\n{proc.log_tail()}"


def unzst(body: bytes) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(body).read()


def repodata(hoard: Hoard, subdir: str) -> dict:
    resp = request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json")
    assert resp.status == 200, resp.text
    zst = request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json.zst")
    assert zst.status == 200, zst.text
    assert unzst(zst.body) == resp.body, ".zst and .json must be the same document"
    return json.loads(resp.body)


def files(doc: dict) -> set[str]:
    return set(doc.get("packages", {})) | set(doc.get("packages.conda", {}))


def served_shards(hoard: Hoard, subdir: str) -> tuple[dict, dict[str, dict]]:
    """The shard index hoard serves and every shard it names (fetched from hoard, checked)."""
    resp = request(hoard.port, "GET", f"/fixture/{subdir}/{SHARD_INDEX}")
    assert resp.status == 200, resp.text
    index = msgpack.unpackb(unzst(resp.body), raw=False)
    assert index["info"]["shards_base_url"] == "./shards/"
    shards = {}
    for name, digest in index["shards"].items():
        hex_ = bytes(digest).hex()
        shard = request(hoard.port, "GET", f"/fixture/{subdir}/shards/{hex_}.msgpack.zst")
        assert shard.status == 200, (name, shard.status, shard.text)
        assert hashlib.sha256(shard.body).hexdigest() == hex_
        shards[name] = msgpack.unpackb(unzst(shard.body), raw=False)
    return index, shards


def fill(hoards, upstream: Upstream, client_dirs, root: Path) -> None:
    """Pull `fx-lib` and `fx-data` through an online hoard (flat, then sharded), then stop it."""
    online = hoards({"fixture": upstream.url}, root=root)
    for shards in (False, True):
        prefix, cache = client_dirs()
        result = run_client(online.channel_url(), prefix, cache, ("fx-lib", "fx-data"), shards=shards)
        assert result.ok, result.describe()
    assert online.stop() in (0, -15)


def assert_unsatisfiable(result, what: str) -> None:
    assert not result.ok, f"{what}: expected the solve to fail\n{result.describe()}"
    text = result.stderr.lower()
    assert "fx-app" in text and ("no candidates" in text or "cannot solve" in text or "not found" in text), \
        f"{what}: not a clean 'not found' solve error\n{result.describe()}"
    for word in ("download", "status code", "404", "connection"):
        assert word not in text, f"{what}: looks like a download error ({word!r})\n{result.describe()}"


def test_offline_serves_only_what_the_store_holds(hoards, upstream, client_dirs, channel_dir, tmp_path):
    root = tmp_path / "hoard-root"
    fill(hoards, upstream, client_dirs, root)
    upstream.clear_log()
    offline = hoards({"fixture": upstream.url}, "--offline", root=root)

    # Repodata lists exactly the stored packages; the .zst is the same document.
    noarch = repodata(offline, "noarch")
    assert files(noarch) == set(FILLED)
    upstream_noarch = json.loads((channel_dir / "noarch" / "repodata.json").read_bytes())
    for name in FILLED:
        assert noarch["packages.conda"][name] == upstream_noarch["packages.conda"][name], "records are copied as they were"
    assert noarch["info"] == upstream_noarch["info"]
    assert files(repodata(offline, "linux-64")) == set()

    # Generated shards hold the same records, digests as bytes.
    for subdir in SUBDIRS:
        index, shards = served_shards(offline, subdir)
        expected = {name.rsplit("-", 2)[0] for name, sub in FILLED.items() if sub == subdir}
        assert set(index["shards"]) == expected, subdir
        for name, shard in shards.items():
            assert set(shard["packages"]) == set() and set(shard["packages.conda"]) == {f"{name}-1.0-0.conda"}
            record = shard["packages.conda"][f"{name}-1.0-0.conda"]
            source = upstream_noarch["packages.conda"][f"{name}-1.0-0.conda"]
            assert record["sha256"] == bytes.fromhex(source["sha256"]) and record["md5"] == bytes.fromhex(source["md5"])
            assert {k: v for k, v in record.items() if k not in ("sha256", "md5")} == \
                {k: v for k, v in source.items() if k not in ("sha256", "md5")}

    # What the store lacks is a clean 404 naming offline mode.
    for name, subdir in NOT_FILLED.items():
        resp = request(offline.port, "GET", f"/fixture/{subdir}/{name}")
        assert resp.status == 404 and "offline" in resp.text, (name, resp.status, resp.text)
    assert request(offline.port, "GET", "/fixture/noarch/repodata.json.bz2").status == 404

    # py-rattler installs what was stored, sharded and flat; fx-app is unsatisfiable.
    for shards in (True, False):
        prefix, cache = client_dirs()
        result = run_client(offline.channel_url(), prefix, cache, ("fx-lib", "fx-data"), shards=shards, max_retries=0)
        assert result.ok, f"shards={shards}: {result.describe()}"
        assert sorted(p["file_name"] for p in result.installed) == sorted(FILLED)
        assert (Path(prefix) / "share" / "fx-data" / "payload.bin").is_file()
        prefix, cache = client_dirs()
        assert_unsatisfiable(run_client(offline.channel_url(), prefix, cache, ("fx-app",), shards=shards, max_retries=0),
                             f"shards={shards}")

    assert upstream.requests == [], f"offline hoard contacted the upstream: {[(r.method, r.path) for r in upstream.requests]}"

    # With the upstream gone and after a restart: the same.
    upstream.stop()
    offline.stop()
    offline = hoards({"fixture": upstream.url}, "--offline", root=root)
    prefix, cache = client_dirs()
    result = run_client(offline.channel_url(), prefix, cache, ("fx-lib", "fx-data"), shards=True, max_retries=0)
    assert result.ok, result.describe()


def test_offline_after_a_sharded_only_fill(hoards, upstream, client_dirs, channel_dir, tmp_path):
    """A store filled by sharded clients alone holds the upstream shard index and shards, not
    repodata.json: offline, hoard makes the subdir's repodata from the stored shards."""
    root = tmp_path / "hoard-root"
    online = hoards({"fixture": upstream.url}, root=root)
    prefix, cache = client_dirs()
    result = run_client(online.channel_url(), prefix, cache, ("fx-lib", "fx-data"), shards=True)
    assert result.ok, result.describe()
    online.stop()
    assert upstream.count("GET", "/channel/noarch/repodata.json*") == 0, "the fill must not have fetched repodata.json"
    upstream.clear_log()

    offline = hoards({"fixture": upstream.url}, "--offline", root=root)
    noarch = repodata(offline, "noarch")
    assert files(noarch) == set(FILLED)
    source = json.loads((channel_dir / "noarch" / "repodata.json").read_bytes())["packages.conda"]
    for name in FILLED:
        assert noarch["packages.conda"][name] == source[name], "records as the shards hold them (digests as hex)"
    assert files(repodata(offline, "linux-64")) == set()
    for shards in (True, False):
        prefix, cache = client_dirs()
        result = run_client(offline.channel_url(), prefix, cache, ("fx-lib", "fx-data"), shards=shards, max_retries=0)
        assert result.ok, f"shards={shards}: {result.describe()}"
        prefix, cache = client_dirs()
        assert_unsatisfiable(run_client(offline.channel_url(), prefix, cache, ("fx-app",), shards=shards, max_retries=0),
                             f"shards={shards}")
    assert upstream.requests == []


def test_offline_full_repodata_serves_the_upstream_copy(hoards, upstream, client_dirs, tmp_path):
    root = tmp_path / "hoard-root"
    fill(hoards, upstream, client_dirs, root)
    online = hoards({"fixture": upstream.url}, root=root)
    held = {subdir: request(online.port, "GET", f"/fixture/{subdir}/repodata.json").body for subdir in SUBDIRS}
    online.stop()
    upstream.clear_log()

    full = hoards({"fixture": upstream.url}, "--offline", "--offline-full-repodata", root=root)
    for subdir in SUBDIRS:
        resp = request(full.port, "GET", f"/fixture/{subdir}/repodata.json")
        assert resp.status == 200 and resp.body == held[subdir], subdir
    assert "fx-app-1.0-0.conda" in files(repodata(full, "linux-64"))
    resp = request(full.port, "GET", "/fixture/linux-64/fx-app-1.0-0.conda")
    assert resp.status == 404 and "offline" in resp.text
    prefix, cache = client_dirs()
    result = run_client(full.channel_url(), prefix, cache, ("fx-lib",), shards=True, max_retries=0)
    assert result.ok, result.describe()
    assert upstream.requests == []


def test_offline_full_repodata_needs_offline(hoard_bin, tmp_path):
    proc = subprocess.run([str(hoard_bin), "serve", "--root", str(tmp_path / "r"), "--offline-full-repodata"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0 and "--offline" in proc.stderr, proc.stderr


@pytest.fixture
def unsharded_upstream(channel_dir, tmp_path):
    """The fixture channel without its shard index and shards (conda-index without --write-shards)."""
    root = tmp_path / "unsharded"
    shutil.copytree(channel_dir, root)
    for subdir in SUBDIRS:
        (root / subdir / SHARD_INDEX).unlink()
        shutil.rmtree(root / subdir / "shards")
    server = Upstream(root, prefix="/channel", max_age=60).start()
    yield server
    server.stop()


def test_generated_shards_for_an_upstream_without_them(hoards, unsharded_upstream, client_dirs, tmp_path):
    up = unsharded_upstream
    hoard = hoards({"fixture": up.url})
    prefix, cache = client_dirs()
    result = run_client(hoard.channel_url(), prefix, cache, ("fx-app",), shards=True, max_retries=0)
    assert result.ok, result.describe()
    assert sorted(p["file_name"] for p in result.installed) == sorted(["fx-app-1.0-0.conda", *FILLED])
    out = subprocess.run([str(Path(prefix) / "bin" / "fx-app")], capture_output=True, text=True, timeout=10, check=True)
    assert out.stdout.splitlines()[1] == f"prefix={prefix}"

    # The client read hoard's generated shards: it cached exactly those (named by their sha256),
    # and no flat repodata.
    generated = set()
    for subdir in SUBDIRS:
        index, shards = served_shards(hoard, subdir)
        assert set(index["shards"]) == ({"fx-app"} if subdir == "linux-64" else {"fx-lib", "fx-data"})
        generated |= {bytes(d).hex() for d in index["shards"].values()}
        if subdir == "noarch":  # both formats of fx-lib, in their sections
            assert set(shards["fx-lib"]["packages"]) == {"fx-lib-1.0-0.tar.bz2"}
            assert set(shards["fx-lib"]["packages.conda"]) == {"fx-lib-1.0-0.conda"}
    cached = Path(cache) / "repodata"
    assert {p.name.split(".")[0] for p in (cached / "shards-v1").glob("*.msgpack")} == generated
    assert not [p for p in cached.rglob("*.json")], sorted(str(p) for p in cached.rglob("*"))

    # Upstream was asked for its shard index (404) and never for a shard.
    shard_requests = [(r.path, r.status) for r in up.requests if r.path.endswith(".msgpack.zst")]
    assert shard_requests and all(path.endswith(SHARD_INDEX) and status == 404 for path, status in shard_requests), shard_requests


# ---- real conda (optional) ----------------------------------------------------------------------

CONDA_PYTHON = os.environ.get("HOARD_TEST_CONDA")


@pytest.mark.skipif(not CONDA_PYTHON, reason="HOARD_TEST_CONDA is not set: it names the python of a conda 26.x "
                    "built from source (see ../shared/reference/test-peers.md, 'Real conda as a client')")
@pytest.mark.parametrize("solver,shards", [("classic", False), ("rattler", True)])
def test_real_conda_installs_offline(hoards, upstream, client_dirs, tmp_path, solver, shards):
    if solver == "rattler":
        probe = subprocess.run([CONDA_PYTHON, "-c", "import conda_rattler_solver"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            pytest.skip(f"HOARD_TEST_CONDA={CONDA_PYTHON} lacks conda-rattler-solver (conda's shard reader needs it)")
    root = tmp_path / "hoard-root"
    fill(hoards, upstream, client_dirs, root)
    upstream.stop()
    offline = hoards({"fixture": upstream.url}, "--offline", root=root)
    scratch = tmp_path / "conda-home"
    scratch.mkdir()
    condarc = scratch / "condarc"
    condarc.write_text(f"channels: []\nsolver: {solver}\nrepodata_use_shards: {str(shards).lower()}\n"
                       "auto_update_conda: false\nreport_errors: false\nnotify_outdated_conda: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "_CE_", "MAMBA"))}
    env.update(HOME=str(scratch), CONDARC=str(condarc), CONDA_PKGS_DIRS=str(scratch / "pkgs"), CONDA_SUBDIR="linux-64")

    def create(prefix: Path, *specs: str) -> subprocess.CompletedProcess:
        return subprocess.run([CONDA_PYTHON, "-m", "conda", "create", "-y", "-p", str(prefix), "--override-channels",
                               "-c", offline.channel_url(), "--solver", solver, *specs],
                              capture_output=True, text=True, timeout=600, env=env)

    ok = create(tmp_path / "env-ok", "fx-lib", "fx-data")
    assert ok.returncode == 0, f"conda create failed:\n{ok.stdout[-3000:]}\n{ok.stderr[-3000:]}"
    assert (tmp_path / "env-ok" / "share" / "fx-data" / "payload.bin").is_file()
    cache = scratch / "pkgs" / "cache"
    flat = [p.name for p in cache.glob("*.json") if not p.name.endswith(".info.json")]
    if shards:  # conda read the generated shard indexes (and shards), not repodata.json
        assert list(cache.glob("*.msgpack.zst")) and (cache / "repodata_shards.db").is_file() and not flat, \
            sorted(p.name for p in cache.iterdir())
    else:
        assert flat, sorted(p.name for p in cache.iterdir())
    missing = create(tmp_path / "env-missing", "fx-app")
    text = (missing.stdout + missing.stderr).lower()
    assert missing.returncode != 0 and ("packagesnotfound" in text or "not available" in text or "nothing provides" in text
                                        or "cannot be installed" in text or "no candidates" in text), text[-3000:]
    assert "httperror" not in text and "download" not in text.replace("downloading and extracting", ""), text[-3000:]


def test_offline_oci_view_serves_the_filtered_repodata(hoards, upstream, client_dirs, tmp_path):
    """The OCI mirror view (`/v2/conda/...`) describes the repodata the conda front serves
    offline: filtered to the stored packages, byte for byte, so an oci:// client never resolves
    to a package the store lacks (and no shard index naming missing packages is listed)."""
    root = tmp_path / "hoard-root"
    fill(hoards, upstream, client_dirs, root)
    upstream.clear_log()
    offline = hoards({"fixture": upstream.url}, "--offline", root=root)
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    for subdir in SUBDIRS:
        conda_json = request(offline.port, "GET", f"/fixture/{subdir}/repodata.json")
        assert conda_json.status == 200, conda_json.text
        resp = request(offline.port, "GET", f"/v2/conda/fixture/{subdir}/repodata.json/manifests/latest", accept)
        assert resp.status == 200, (subdir, resp.status, resp.text)
        manifest = json.loads(resp.body)
        titles = {layer["annotations"]["org.opencontainers.image.title"]: layer for layer in manifest["layers"]}
        layer = titles["repodata.json"]
        blob = request(offline.port, "GET", f"/v2/conda/fixture/{subdir}/repodata.json/blobs/{layer['digest']}")
        assert blob.status == 200, (subdir, blob.status, blob.text)
        assert blob.body == conda_json.body, f"{subdir}: the OCI view's repodata differs from the conda front's"
        expected = {name for name, sub in FILLED.items() if sub == subdir}
        assert files(json.loads(blob.body)) == expected, subdir
        assert SHARD_INDEX not in titles, f"{subdir}: a shard index layer offline names packages the store lacks"
        if "repodata.json.zst" in titles:
            zst = request(offline.port, "GET", f"/v2/conda/fixture/{subdir}/repodata.json/blobs/{titles['repodata.json.zst']['digest']}")
            assert zst.status == 200 and unzst(zst.body) == conda_json.body, subdir
    assert upstream.requests == [], f"offline hoard contacted the upstream: {[(r.method, r.path) for r in upstream.requests]}"
