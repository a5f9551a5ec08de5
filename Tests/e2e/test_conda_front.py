"""hoard's conda front, end to end: real py-rattler clients and raw HTTP against a hoard process.

hoard serves channel `fixture` at http://127.0.0.1:HPORT/fixture and proxies the fake upstream at
http://127.0.0.1:UPORT/channel (see conftest.py). These tests state the behaviour the conda
front must have (docs: shared wire contract, sections 4 and 7):

- installs work cold, warm, after a restart and with the upstream gone, and each package file is
  fetched from upstream exactly once, however many clients ask (single-flight);
- HEAD and GET agree; `.zst` is the same snapshot as `.json`; strong ETags with 304s; byte ranges;
  packages are `immutable` with ETag `"<sha256>"`;
- bad upstream bytes (corrupt, truncated) never reach a client as a success and are never stored;
- clear errors: 502/504 when the upstream is down and nothing is cached, 404 naming the channels
  for an unknown one, 404 for an arch subdir the upstream lacks, 400/404 for hostile paths.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import zstandard

from fixture_channel import FX_APP_BANNER, load_repodata
from hoard import Response, request
from rattler_client import run_client

PACKAGES = {  # file name -> subdir
    "fx-app-1.0-0.conda": "linux-64",
    "fx-lib-1.0-0.conda": "noarch",
    "fx-lib-1.0-0.tar.bz2": "noarch",
    "fx-data-1.0-0.conda": "noarch",
}
INSTALLED_BY_FX_APP = ("fx-app-1.0-0.conda", "fx-lib-1.0-0.conda", "fx-data-1.0-0.conda")


def pkg_path(name: str, channel: str = "fixture") -> str:
    return f"/{channel}/{PACKAGES[name]}/{name}"


def pkg_bytes(channel_dir: Path, name: str) -> bytes:
    return (channel_dir / PACKAGES[name] / name).read_bytes()


def run_installed_app(prefix: Path) -> list[str]:
    out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True,
                         timeout=10, check=True)
    return out.stdout.splitlines()


def upstream_package_gets(upstream) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in upstream.requests:
        name = r.path.rsplit("/", 1)[-1]
        if r.method == "GET" and name in PACKAGES:
            counts[name] = counts.get(name, 0) + 1
    return counts


def get_outcome(port: int, path: str, timeout: float = 30) -> Response | Exception:
    """The response, or the exception if the connection broke (e.g. a body cut short)."""
    try:
        return request(port, "GET", path, timeout=timeout)
    except (OSError, http.client.HTTPException) as exc:
        return exc


def zstd_decompress(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(data).read()


def assert_client_installed(result, prefix: Path, hoard, what: str) -> None:
    assert result.ok, f"{what}: {result.describe()}"
    assert sorted(p["file_name"] for p in result.installed) == sorted(INSTALLED_BY_FX_APP), what
    assert all(p["url"].startswith(hoard.channel_url() + "/") for p in result.installed), \
        f"{what}: package URLs must point at hoard, got {[p['url'] for p in result.installed]}"
    assert run_installed_app(prefix) == [FX_APP_BANNER, f"prefix={prefix}"], what


# ---- installs with a real client ------------------------------------------------------------------

@pytest.mark.parametrize("shards", [True, False], ids=["sharded", "flat"])
def test_install_cold_warm_and_with_upstream_down(start_hoard, upstream, client_dirs, shards):
    hoard = start_hoard()
    for phase in ("cold", "warm (fresh client cache)", "upstream down (fresh client cache)"):
        if phase.startswith("upstream down"):
            upstream.down()
        prefix, cache = client_dirs()
        result = run_client(hoard.channel_url(), prefix, cache, shards=shards, max_retries=0)
        assert_client_installed(result, prefix, hoard, phase)
    assert upstream_package_gets(upstream) == {name: 1 for name in INSTALLED_BY_FX_APP}


def test_restart_serves_from_store_with_upstream_down(start_hoard, upstream, client_dirs, tmp_path):
    root = tmp_path / "hoard-root"
    first = start_hoard(root=root)
    prefix, cache = client_dirs()
    assert_client_installed(run_client(first.channel_url(), prefix, cache, max_retries=0), prefix, first, "cold")
    assert first.stop() in (0, -15)
    upstream.down()
    second = start_hoard(root=root)
    prefix, cache = client_dirs()
    result = run_client(second.channel_url(), prefix, cache, max_retries=0)
    assert_client_installed(result, prefix, second, "after restart, upstream down")
    assert upstream_package_gets(upstream) == {name: 1 for name in INSTALLED_BY_FX_APP}


# ---- HTTP semantics -------------------------------------------------------------------------------

AGREEING_PATHS = [
    "/fixture/noarch/repodata.json",
    "/fixture/noarch/repodata.json.zst",
    "/fixture/linux-64/repodata.json",
    "/fixture/noarch/repodata_shards.msgpack.zst",
    pkg_path("fx-lib-1.0-0.conda"),
    pkg_path("fx-lib-1.0-0.tar.bz2"),
    pkg_path("fx-data-1.0-0.conda"),
]


@pytest.mark.parametrize("path", AGREEING_PATHS)
def test_head_and_get_agree(hoard, path):
    """Clients HEAD first (rattler: .zst/.bz2 probes) and trust it: HEAD must describe the GET."""
    head_cold = request(hoard.port, "HEAD", path)
    get = request(hoard.port, "GET", path)
    head_warm = request(hoard.port, "HEAD", path)
    assert get.status == 200, get.text[:500]
    assert get.header("Content-Length") == str(len(get.body))
    for head in (head_cold, head_warm):
        assert head.body == b""
        assert (head.status, head.header("Content-Length"), head.header("ETag")) == \
               (get.status, get.header("Content-Length"), get.header("ETag"))
    assert get.header("ETag"), "every representation needs a validator"


@pytest.mark.parametrize("subdir", ["noarch", "linux-64"])
def test_zst_is_same_snapshot_as_json(hoard, upstream, channel_dir, subdir):
    plain = request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json")
    packed = request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json.zst")
    assert plain.status == packed.status == 200
    assert packed.header("Content-Encoding") in (None, "identity")
    served = json.loads(plain.body)
    assert json.loads(zstd_decompress(packed.body)) == served
    assert plain.header("ETag") != packed.header("ETag"), "ETags must be per representation"
    original = load_repodata(channel_dir, subdir)
    for section in ("packages", "packages.conda"):
        assert served[section] == original[section], f"records in {section} must pass through untouched"
    base_url = served.get("info", {}).get("base_url", "")
    assert f":{upstream.port}" not in base_url, "never send clients to the upstream"


@pytest.mark.parametrize("path", [
    "/fixture/noarch/repodata.json",
    "/fixture/noarch/repodata.json.zst",
    pkg_path("fx-lib-1.0-0.conda"),
])
def test_if_none_match_gives_304_with_validators(hoard, path):
    first = request(hoard.port, "GET", path)
    etag = first.header("ETag")
    assert first.status == 200 and etag and not etag.startswith("W/"), f"strong ETag expected, got {etag}"
    again = request(hoard.port, "GET", path, {"If-None-Match": etag})
    assert again.status == 304 and again.body == b""
    assert again.header("ETag") == etag, "conda keeps the validators of every response, 304s included"
    other = request(hoard.port, "GET", path, {"If-None-Match": '"0000"'})
    assert other.status == 200 and other.body == first.body


def test_package_ranges(hoard, channel_dir):
    name = "fx-data-1.0-0.conda"
    data = pkg_bytes(channel_dir, name)
    size = len(data)
    first = request(hoard.port, "GET", pkg_path(name), {"Range": "bytes=0-9"})  # cold
    assert (first.status, first.header("Content-Range"), first.body) == (206, f"bytes 0-9/{size}", data[:10])
    assert first.header("Content-Length") == "10"
    suffix = request(hoard.port, "GET", pkg_path(name), {"Range": "bytes=-10"})
    assert (suffix.status, suffix.body) == (206, data[-10:])
    assert suffix.header("Content-Range") == f"bytes {size - 10}-{size - 1}/{size}"
    middle = request(hoard.port, "GET", pkg_path(name), {"Range": "bytes=1000-1999"})
    assert (middle.status, middle.body) == (206, data[1000:2000])
    beyond = request(hoard.port, "GET", pkg_path(name), {"Range": f"bytes={size}-"})
    assert beyond.status == 416
    assert beyond.header("Content-Range") == f"bytes */{size}"


HUGE = "9" * 30  # past Int64


def range_cases(size: int) -> list[tuple[str, int, tuple[int, int] | None]]:
    """(Range header, status, (first, last) of a 206) as RFC 9110 reads it; see ByteRange.swift."""
    return [
        ("bytes=0-9", 206, (0, 9)),
        ("bytes=-10", 206, (size - 10, size - 1)),
        ("bytes=5-", 206, (5, size - 1)),
        ("bytes=0-", 206, (0, size - 1)),
        (f"bytes=0-{HUGE}", 206, (0, size - 1)),
        (" bytes=0-9 ,", 206, (0, 9)),
        ("bytes=9-3", 200, None),          # invalid: ignored
        ("bytes=0-1,5-6", 200, None),      # several ranges: answered whole
        ("bytes=1 -2", 200, None),
        ("items=0-1", 200, None),
        ("bytes=-0", 416, None),           # valid, but no byte is in it
        (f"bytes={size}-", 416, None),
        (f"bytes={HUGE}-", 416, None),
        (f"bytes={size}-,{size + 5}-", 416, None),
    ]


def oci_repodata_blob(hoard) -> str:
    """The path of noarch's repodata.json layer in hoard's OCI conda mirror (an OCI blob)."""
    manifest = request(hoard.port, "GET", "/v2/conda/fixture/noarch/repodata.json/manifests/latest",
                       {"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert manifest.status == 200, manifest.text
    digest = json.loads(manifest.body)["layers"][0]["digest"]
    return f"/v2/conda/fixture/noarch/repodata.json/blobs/{digest}"


def test_same_range_same_answer_on_package_shard_and_oci_blob(hoard, channel_dir):
    """One Range semantics whatever serves the bytes: a package, a shard, an OCI blob."""
    shard = sorted((channel_dir / "noarch" / "shards").iterdir())[0].name
    paths = [pkg_path("fx-data-1.0-0.conda"), f"/fixture/noarch/shards/{shard}", oci_repodata_blob(hoard)]
    for path in paths:
        whole = request(hoard.port, "GET", path)
        assert whole.status == 200 and len(whole.body) > 20, (path, whole.text[:300])
        data, size = whole.body, len(whole.body)
        for header, status, span in range_cases(size):
            for method in ("GET", "HEAD"):
                got = request(hoard.port, method, path, {"Range": header})
                what = f"{method} {path} Range: {header!r}"
                assert got.status == status, (what, got.status, got.text[:300])
                assert got.header("ETag") == whole.header("ETag"), what
                if status == 206:
                    first, last = span
                    assert got.header("Content-Range") == f"bytes {first}-{last}/{size}", what
                    assert got.header("Content-Length") == str(last - first + 1), what
                    assert got.body == (data[first:last + 1] if method == "GET" else b""), what
                elif status == 200:
                    assert got.header("Content-Range") is None, what
                    assert got.header("Content-Length") == str(size), what
                    assert got.body == (data if method == "GET" else b""), what
                else:
                    assert got.header("Content-Range") == f"bytes */{size}", what
                    assert got.header("Cache-Control") == "no-store", what
            # If-Range guards a resumed download: it continues only on the same bytes.
            etag = whole.header("ETag")
            resumed = request(hoard.port, "GET", path, {"Range": "bytes=5-", "If-Range": etag})
            assert (resumed.status, resumed.body) == (206, data[5:]), path
            stale = request(hoard.port, "GET", path, {"Range": "bytes=5-", "If-Range": '"0000"'})
            assert (stale.status, stale.body) == (200, data), path
            cached = request(hoard.port, "GET", path, {"If-None-Match": etag})
            assert (cached.status, cached.body, cached.header("ETag")) == (304, b"", etag), path


@pytest.mark.parametrize("name", ["fx-lib-1.0-0.conda", "fx-lib-1.0-0.tar.bz2", "fx-app-1.0-0.conda"])
def test_package_is_immutable_and_tagged_by_sha256(hoard, name):
    subdir = PACKAGES[name]
    repodata = json.loads(request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json").body)
    section = "packages.conda" if name.endswith(".conda") else "packages"
    sha256 = repodata[section][name]["sha256"]
    resp = request(hoard.port, "GET", pkg_path(name))
    assert resp.status == 200
    assert hashlib.sha256(resp.body).hexdigest() == sha256
    assert resp.header("ETag") == f'"{sha256}"'
    assert "immutable" in (resp.header("Cache-Control") or "")
    assert resp.header("Accept-Ranges") == "bytes"
    assert resp.header("Content-Encoding") in (None, "identity")


def test_repodata_has_short_max_age(hoard):
    resp = request(hoard.port, "GET", "/fixture/noarch/repodata.json")
    cache_control = resp.header("Cache-Control") or ""
    assert "max-age=" in cache_control and "immutable" not in cache_control
    assert resp.header("Last-Modified")


# ---- bad upstream bytes ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["fx-lib-1.0-0.conda", "fx-data-1.0-0.conda"], ids=["small", "large"])
@pytest.mark.parametrize("fault", ["corrupt", "truncate"])
def test_bad_upstream_bytes_are_neither_served_nor_stored(hoard, upstream, channel_dir, client_dirs,
                                                          fault, name):
    good = pkg_bytes(channel_dir, name)
    # hoard knows the expected sha256 once it has served the repodata that lists the file.
    assert request(hoard.port, "GET", f"/fixture/{PACKAGES[name]}/repodata.json").status == 200
    upstream.set_fault(f"/channel/{PACKAGES[name]}/{name}", fault)

    prefix, cache = client_dirs()
    result = run_client(hoard.channel_url(), prefix, cache, max_retries=0)
    assert not result.ok, f"install must fail with {fault} upstream bytes\n{result.describe()}"

    outcome = get_outcome(hoard.port, pkg_path(name))
    if isinstance(outcome, Response):
        assert outcome.body != good or outcome.status >= 400, "impossible: upstream never sent good bytes"
        assert outcome.status >= 400, \
            f"a {fault} upstream body was served as a complete {outcome.status} ({len(outcome.body)} bytes)"

    upstream.clear_faults()
    healed = request(hoard.port, "GET", pkg_path(name))
    assert healed.status == 200 and healed.body == good, "the bad bytes must not have been stored"
    prefix, cache = client_dirs()
    assert_client_installed(run_client(hoard.channel_url(), prefix, cache, max_retries=0), prefix, hoard,
                            "after the fault is gone")


# ---- errors ---------------------------------------------------------------------------------------

def test_upstream_down_and_nothing_cached_is_a_gateway_error(start_hoard, upstream):
    upstream.down()
    hoard = start_hoard()
    resp = request(hoard.port, "GET", "/fixture/noarch/repodata.json")
    assert resp.status in (502, 504), resp.text[:500]
    text = resp.text.lower()
    assert text.strip(), "the body must say what failed"
    assert "fixture" in text or "upstream" in text or f":{upstream.port}" in text, resp.text[:500]


def test_unknown_channel_is_404_naming_configured_channels(start_hoard, upstream):
    hoard = start_hoard(upstreams={"fixture": upstream.url, "second": upstream.url})
    resp = request(hoard.port, "GET", "/nope/noarch/repodata.json")
    assert resp.status == 404
    assert "fixture" in resp.text and "second" in resp.text, resp.text[:500]
    assert not any("nope" in r.path for r in upstream.requests)
    assert request(hoard.port, "GET", "/second/noarch/repodata.json").status == 200


@pytest.mark.parametrize("path", [
    "/fixture/noarch/../../etc/passwd",
    "/fixture/noarch/%2e%2e/%2e%2e/etc/passwd",
    "/fixture/noarch/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/fixture/noarch/x%00.conda",
    "//etc/passwd",
    "/fixture/noarch/notapackage.txt",
    "/fixture/../../../../etc/passwd",
])
def test_hostile_paths_are_refused(hoard, upstream, path):
    resp = request(hoard.port, "GET", path)
    assert resp.status in (400, 404), f"{path}: {resp.status} {resp.text[:300]}"
    assert b"root:" not in resp.body
    for seen in upstream.requests:
        lowered = seen.path.lower()
        assert "passwd" not in lowered and ".." not in lowered and "%2e" not in lowered \
            and "%00" not in lowered, f"hoard forwarded a hostile path upstream: {seen.path}"
    assert request(hoard.port, "GET", "/healthz").status == 200


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_missing_arch_subdir_is_404_and_noarch_is_200(hoard, method):
    assert request(hoard.port, method, "/fixture/osx-arm64/repodata.json").status == 404
    assert request(hoard.port, method, "/fixture/noarch/repodata.json").status == 200
    assert request(hoard.port, method, "/fixture/linux-64/repodata.json").status == 200


# ---- concurrency ----------------------------------------------------------------------------------

def test_concurrent_cold_gets_are_single_flight(hoard, upstream, channel_dir):
    name, clients = "fx-data-1.0-0.conda", 50
    expected = hashlib.sha256(pkg_bytes(channel_dir, name)).hexdigest()
    assert request(hoard.port, "GET", "/fixture/noarch/repodata.json").status == 200
    barrier = threading.Barrier(clients)

    def fetch(_: int) -> tuple[int, str] | str:
        barrier.wait(timeout=30)
        outcome = get_outcome(hoard.port, pkg_path(name), timeout=60)
        if isinstance(outcome, Exception):
            return f"{type(outcome).__name__}: {outcome}"
        return outcome.status, hashlib.sha256(outcome.body).hexdigest()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(fetch, range(clients)))
    assert results == [(200, expected)] * clients
    assert upstream.count("GET", f"/channel/noarch/{name}") == 1
