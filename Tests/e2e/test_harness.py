"""Tests of the harness itself (no hoard): they must pass before hoard's tests mean anything.

- the fixture channel is a real channel: py-rattler solves and installs from it over HTTP, with
  sharded repodata on and off, and via a `[mirrors]` entry; the installed program runs;
- the upstream's request log shows what a real client asks for;
- every fault mode of the upstream does what the hoard tests rely on;
- the `Hoard` process wrapper honours the start/health/stop contract (checked with a stand-in).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import zstandard

from fixture_channel import FX_APP_BANNER, load_repodata, package_record
from hoard import Hoard, HoardError, free_port, request
from rattler_client import run_client

PACKAGE_PATHS = {
    "fx-app-1.0-0.conda": "linux-64",
    "fx-lib-1.0-0.conda": "noarch",
    "fx-data-1.0-0.conda": "noarch",
}


def run_installed_app(prefix: Path) -> list[str]:
    out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True,
                         timeout=10, check=True)
    return out.stdout.splitlines()


def package_gets(upstream) -> dict[str, int]:
    """GET count per package file name, as the upstream saw them."""
    counts: dict[str, int] = {}
    for r in upstream.requests:
        name = r.path.rsplit("/", 1)[-1]
        if r.method == "GET" and name.endswith((".conda", ".tar.bz2")):
            counts[name] = counts.get(name, 0) + 1
    return counts


# ---- the fixture channel -----------------------------------------------------------------------

def test_fixture_channel_layout(channel_dir: Path):
    noarch = load_repodata(channel_dir, "noarch")
    linux = load_repodata(channel_dir, "linux-64")
    assert set(noarch["packages.conda"]) == {"fx-lib-1.0-0.conda", "fx-data-1.0-0.conda"}
    assert set(noarch["packages"]) == {"fx-lib-1.0-0.tar.bz2"}
    assert set(linux["packages.conda"]) == {"fx-app-1.0-0.conda"}
    assert linux["packages.conda"]["fx-app-1.0-0.conda"]["depends"] == ["fx-lib >=1.0", "fx-data"]
    assert noarch["packages.conda"]["fx-data-1.0-0.conda"]["size"] > 3_000_000
    for subdir in ("noarch", "linux-64"):
        base = channel_dir / subdir
        zst = zstandard.ZstdDecompressor().stream_reader(base.joinpath("repodata.json.zst").read_bytes()).read()
        assert json.loads(zst) == load_repodata(channel_dir, subdir)
        assert (base / "repodata_shards.msgpack.zst").is_file()
        assert list((base / "shards").glob("*.msgpack.zst"))
    for name, subdir in PACKAGE_PATHS.items():
        data = (channel_dir / subdir / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == package_record(channel_dir, subdir, name)["sha256"]
    assert json.loads((channel_dir / "channeldata.json").read_text())["packages"]["fx-app"]


# ---- py-rattler straight against the upstream ----------------------------------------------------

@pytest.mark.parametrize("shards", [True, False], ids=["sharded", "flat"])
def test_rattler_installs_from_upstream(upstream, client_dirs, channel_dir, shards):
    prefix, cache = client_dirs()
    result = run_client(upstream.url, prefix, cache, shards=shards, max_retries=0)
    assert result.ok, result.describe()
    assert sorted(p["name"] for p in result.installed) == ["fx-app", "fx-data", "fx-lib"]
    assert run_installed_app(prefix) == [FX_APP_BANNER, f"prefix={prefix}"]

    assert package_gets(upstream) == {name: 1 for name in PACKAGE_PATHS}
    for name, subdir in PACKAGE_PATHS.items():
        [get] = [r for r in upstream.requests if r.path == f"/channel/{subdir}/{name}"]
        # rattler announces the hash it expects; hoard may use it.
        assert get.headers["x-expected-sha256"] == package_record(channel_dir, subdir, name)["sha256"]

    paths = {(r.method, r.path) for r in upstream.requests}
    for subdir in ("noarch", "linux-64"):
        if shards:
            assert ("GET", f"/channel/{subdir}/repodata_shards.msgpack.zst") in paths
            assert not any(p.endswith("repodata.json.zst") for _, p in paths)
        else:
            assert ("HEAD", f"/channel/{subdir}/repodata.json.zst") in paths
            assert ("GET", f"/channel/{subdir}/repodata.json.zst") in paths
    if shards:
        shard_gets = [r for r in upstream.requests if "/shards/" in r.path]
        assert len(shard_gets) == 3  # fx-app (linux-64), fx-lib and fx-data (noarch)
        assert all(r.headers.get("cache-control") == "no-store" for r in shard_gets)


def test_rattler_fresh_cache_within_max_age_sends_no_request(upstream, client_dirs):
    prefix, cache = client_dirs()
    assert run_client(upstream.url, prefix, cache, max_retries=0).ok
    upstream.clear_log()
    second = run_client(upstream.url, prefix.with_name("env-again"), cache, max_retries=0)
    assert second.ok, second.describe()
    assert upstream.requests == []


def test_rattler_mirror_redirects_channel(upstream, client_dirs):
    """`[mirrors]` sends a canonical channel URL elsewhere. The canonical URL here is a dead
    127.0.0.1 port, so a mirror that is not applied fails loudly instead of going anywhere."""
    canonical = "http://127.0.0.1:1/fixture"
    prefix, cache = client_dirs()
    result = run_client(canonical, prefix, cache, mirrors={canonical: upstream.url}, max_retries=0)
    assert result.ok, result.describe()
    assert package_gets(upstream) == {name: 1 for name in PACKAGE_PATHS}
    assert all(p["url"].startswith(canonical + "/") for p in result.installed)


def test_rattler_fails_on_corrupt_package(upstream, client_dirs):
    upstream.set_fault("/channel/noarch/fx-lib-1.0-0.conda", "corrupt")
    prefix, cache = client_dirs()
    result = run_client(upstream.url, prefix, cache, max_retries=0)
    assert not result.ok
    assert "fx-lib-1.0-0.conda" in result.stderr


# ---- the upstream's HTTP behaviour ---------------------------------------------------------------

FX_LIB = "/channel/noarch/fx-lib-1.0-0.conda"


def fx_lib_bytes(channel_dir: Path) -> bytes:
    return (channel_dir / "noarch" / "fx-lib-1.0-0.conda").read_bytes()


def test_upstream_headers_and_head(upstream, channel_dir):
    data = fx_lib_bytes(channel_dir)
    get = request(upstream.port, "GET", FX_LIB)
    head = request(upstream.port, "HEAD", FX_LIB)
    assert get.status == head.status == 200
    assert get.body == data and head.body == b""
    assert get.header("ETag") == head.header("ETag") == f'"{hashlib.sha256(data).hexdigest()}"'
    assert get.header("Content-Length") == head.header("Content-Length") == str(len(data))
    assert get.header("Cache-Control") == "public, max-age=60"
    assert get.header("Last-Modified") and get.header("Accept-Ranges") == "bytes"
    assert upstream.count("GET", FX_LIB) == 1 and upstream.count("HEAD", FX_LIB) == 1
    assert upstream.count("GET", "*.conda") == 1


def test_upstream_conditional_requests(upstream):
    first = request(upstream.port, "GET", FX_LIB)
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    by_etag = request(upstream.port, "GET", FX_LIB, {"If-None-Match": etag})
    assert by_etag.status == 304 and by_etag.body == b"" and by_etag.header("ETag") == etag
    assert request(upstream.port, "GET", FX_LIB, {"If-Modified-Since": modified}).status == 304
    assert request(upstream.port, "GET", FX_LIB, {"If-None-Match": '"other"'}).status == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert request(upstream.port, "GET", FX_LIB, {"If-Modified-Since": old}).status == 200


def test_upstream_ranges(upstream, channel_dir):
    data = fx_lib_bytes(channel_dir)
    size = len(data)
    head = request(upstream.port, "GET", FX_LIB, {"Range": "bytes=0-9"})
    assert (head.status, head.body, head.header("Content-Range")) == (206, data[:10], f"bytes 0-9/{size}")
    tail = request(upstream.port, "GET", FX_LIB, {"Range": "bytes=-10"})
    assert (tail.status, tail.body) == (206, data[-10:])
    assert tail.header("Content-Range") == f"bytes {size - 10}-{size - 1}/{size}"
    rest = request(upstream.port, "GET", FX_LIB, {"Range": f"bytes={size - 3}-"})
    assert (rest.status, rest.body) == (206, data[-3:])
    bad = request(upstream.port, "GET", FX_LIB, {"Range": f"bytes={size}-"})
    assert bad.status == 416 and bad.header("Content-Range") == f"bytes */{size}"
    invalid = request(upstream.port, "GET", FX_LIB, {"Range": "bytes=9-3"})
    assert (invalid.status, invalid.body) == (200, data)
    stale = request(upstream.port, "GET", FX_LIB, {"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert (stale.status, stale.body) == (200, data)
    fresh = request(upstream.port, "GET", FX_LIB, {"Range": "bytes=0-9", "If-Range": head.header("ETag")})
    assert fresh.status == 206


@pytest.mark.parametrize("path", [
    "/channel/../../etc/passwd", "/channel/%2e%2e/%2e%2e/etc/passwd", "/etc/passwd",
    "/channel/noarch", "/channel/noarch/missing.conda", "/other/noarch/repodata.json",
])
def test_upstream_refuses_outside_paths(upstream, path):
    resp = request(upstream.port, "GET", path)
    assert resp.status == 404 and b"root:" not in resp.body


def test_fault_fail_and_times(upstream):
    upstream.set_fault("*/repodata.json", "fail", status=503, times=1)
    assert request(upstream.port, "GET", "/channel/noarch/repodata.json").status == 503
    assert request(upstream.port, "GET", "/channel/noarch/repodata.json").status == 200
    upstream.set_fault("*", "fail", status=500)
    assert request(upstream.port, "GET", FX_LIB).status == 500
    assert request(upstream.port, "HEAD", FX_LIB).status == 500
    upstream.clear_faults()
    assert request(upstream.port, "GET", FX_LIB).status == 200
    assert [r.status for r in upstream.requests] == [503, 200, 500, 500, 200]


@pytest.mark.parametrize("mid_body", [False, True], ids=["before", "mid-body"])
def test_fault_stall(upstream, channel_dir, mid_body):
    upstream.set_fault(FX_LIB, "stall", seconds=0.5, mid_body=mid_body)
    started = time.monotonic()
    resp = request(upstream.port, "GET", FX_LIB)
    assert time.monotonic() - started >= 0.5
    assert resp.body == fx_lib_bytes(channel_dir)
    with pytest.raises(TimeoutError):
        request(upstream.port, "GET", FX_LIB, timeout=0.2)


def test_fault_truncate(upstream, channel_dir):
    upstream.set_fault(FX_LIB, "truncate")
    with pytest.raises(http.client.IncompleteRead) as info:
        request(upstream.port, "GET", FX_LIB)
    assert len(info.value.partial) == len(fx_lib_bytes(channel_dir)) // 2
    head = request(upstream.port, "HEAD", FX_LIB)  # no body: nothing to cut
    assert head.header("Content-Length") == str(len(fx_lib_bytes(channel_dir)))


def test_fault_corrupt(upstream, channel_dir):
    data = fx_lib_bytes(channel_dir)
    upstream.set_fault("*.conda", "corrupt")
    resp = request(upstream.port, "GET", FX_LIB)
    assert resp.status == 200 and len(resp.body) == len(data) and resp.body != data
    assert resp.body[:4] == data[:4]  # only hashing reveals it
    assert resp.header("ETag") == f'"{hashlib.sha256(data).hexdigest()}"'  # lies, like a bad mirror


def test_down_refuses_connections_and_comes_back_on_same_port(upstream):
    port = upstream.port
    upstream.down()
    with pytest.raises(ConnectionRefusedError):
        request(port, "GET", FX_LIB, timeout=2)
    upstream.up()
    assert upstream.port == port
    assert request(port, "GET", FX_LIB).status == 200


def test_down_cuts_open_and_stalled_responses(upstream):
    """A response stalled mid-body ends when the upstream goes down, like a crashed server."""
    upstream.set_fault(FX_LIB, "stall", seconds=30, mid_body=True)
    outcome: list[BaseException | None] = []

    def fetch():
        try:
            request(upstream.port, "GET", FX_LIB, timeout=20)
            outcome.append(None)
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    deadline = time.monotonic() + 5
    while upstream.count("GET", FX_LIB) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    started = time.monotonic()
    upstream.down()
    thread.join(timeout=10)
    assert time.monotonic() - started < 5
    assert outcome and outcome[0] is not None


def test_request_log_keeps_headers(upstream):
    request(upstream.port, "GET", "/channel/noarch/repodata.json", {"X-Probe": "1"})
    [entry] = upstream.requests
    assert (entry.method, entry.path, entry.status) == ("GET", "/channel/noarch/repodata.json", 200)
    assert entry.headers["x-probe"] == "1"


# ---- the Hoard process wrapper, checked against a stand-in ---------------------------------------

STAND_IN = textwrap.dedent('''
    import http.server, json, signal, sys
    args = sys.argv[1:]
    assert args[0] == "serve", args
    port = int(args[args.index("--port") + 1])
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"status": "ok", "args": args}).encode()
            self.send_response(200 if self.path == "/healthz" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            print("request", self.path, file=sys.stderr, flush=True)
    server = http.server.HTTPServer(("127.0.0.1", port), H)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    print("stand-in ready", file=sys.stderr, flush=True)
    server.serve_forever()
''')


def make_stand_in(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-hoard"
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    return script


def test_hoard_wrapper_start_health_stop(tmp_path):
    binary = make_stand_in(tmp_path, STAND_IN)
    proc = Hoard(binary, tmp_path / "root", {"a": "http://127.0.0.1:1/a", "b": "http://127.0.0.1:2/b"},
                 log_path=tmp_path / "hoard.log").start()
    try:
        health = json.loads(request(proc.port, "GET", "/healthz").body)
        assert health["args"] == ["serve", "--root", str(tmp_path / "root"), "--host", "127.0.0.1",
                                  "--port", str(proc.port), "--upstream", "a=http://127.0.0.1:1/a",
                                  "--upstream", "b=http://127.0.0.1:2/b", "--log-level", "debug"]
    finally:
        assert proc.stop() == 0
    assert "stand-in ready" in proc.log_text() and "request /healthz" in proc.log_text()


def test_hoard_wrapper_reports_early_exit(tmp_path):
    binary = make_stand_in(tmp_path, 'import sys; print("boom: bad flag", file=sys.stderr); sys.exit(3)')
    with pytest.raises(HoardError, match="(?s)exited with 3.*boom: bad flag"):
        Hoard(binary, tmp_path / "root", {}, log_path=tmp_path / "hoard.log").start()


def test_hoard_wrapper_reports_ignored_sigterm(tmp_path):
    body = STAND_IN.replace('lambda *a: sys.exit(0)', 'signal.SIG_IGN')
    proc = Hoard(make_stand_in(tmp_path, body), tmp_path / "root", {}, log_path=tmp_path / "h.log").start()
    with pytest.raises(HoardError, match="did not exit within 1s"):
        proc.stop(timeout=1)
    assert not proc.running


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
