"""The fast path (hot cached GET/HEAD answered on the event loop, ahead of Hummingbird) against the
full path: the same requests to a hoard with it and to one started with `--no-fast-path` get the
same status, headers (but Date) and bytes: 200, HEAD, 304, ranges, If-Range, 416, pipelined
requests on one connection, and a package whose blob was removed from the store underneath.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import time
from pathlib import Path

import pytest

from fixture_channel import package_record
from hoard import Hoard, request

REPODATA = "/fixture/noarch/repodata.json"
PACKAGE = "/fixture/noarch/fx-lib-1.0-0.conda"


class _Unclosable:
    """One buffered reader shared by several http.client responses on one socket."""

    def __init__(self, f):
        self.f = f

    def makefile(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return getattr(self.f, name)

    def close(self):
        pass


def pipelined(port: int, requests: list[tuple[str, str, dict[str, str]]]) -> list[tuple]:
    """Sends every request in one write on one connection, then reads the answers in order."""
    raw = b"".join(
        f"{method} {path} HTTP/1.1\r\nHost: hoard\r\n".encode()
        + b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + b"\r\n"
        for method, path, headers in requests)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(raw)
        shared = _Unclosable(sock.makefile("rb"))
        out = []
        for method, _, _ in requests:
            resp = http.client.HTTPResponse(shared, method=method)
            resp.begin()
            out.append(comparable(resp.status, resp.getheaders(), resp.read()))
        return out


def comparable(status: int, headers, body: bytes) -> tuple:
    return status, sorted((k.lower(), v) for k, v in headers if k.lower() != "date"), body


def ask(port: int, method: str, path: str, headers: dict[str, str] | None = None) -> tuple:
    r = request(port, method, path, headers)
    return comparable(r.status, r.headers.items(), r.body)


def blob_path(root: Path, sha256_hex: str) -> Path:
    return root / "blobs" / "sha256" / sha256_hex[:2] / sha256_hex


def exercise(hoard: Hoard, upstream, sha256_hex: str) -> list[tuple]:
    port = hoard.port
    for path in (REPODATA, PACKAGE, REPODATA, PACKAGE):   # pull through, then serve from the store
        assert request(port, "GET", path).status == 200
    out = []
    etag = request(port, "GET", REPODATA).header("etag")
    petag = request(port, "GET", PACKAGE).header("etag")
    for method, path, headers in [
        ("GET", REPODATA, {}), ("HEAD", REPODATA, {}), ("GET", REPODATA, {"If-None-Match": etag}),
        ("GET", REPODATA, {"Range": "bytes=10-29"}), ("GET", REPODATA, {"Range": "bytes=99999999-"}),
        ("GET", REPODATA, {"Range": "bytes=0-3", "If-Range": '"stale"'}),
        ("GET", PACKAGE, {}), ("HEAD", PACKAGE, {}), ("GET", PACKAGE, {"If-None-Match": petag}),
        ("GET", PACKAGE, {"Range": "bytes=100-199"}), ("GET", PACKAGE, {"Range": "bytes=-10"}),
        ("HEAD", PACKAGE, {"Range": "bytes=5-"}), ("GET", PACKAGE, {"Range": "bytes=99999999-"}),
        ("GET", PACKAGE, {"Range": "bytes=0-9", "If-Range": petag}),
    ]:
        out.append((method, path, headers, ask(port, method, path, headers)))
    out.append(("pipelined", pipelined(port, [
        ("GET", PACKAGE, {}), ("GET", REPODATA, {"Range": "bytes=99999999-"}), ("GET", REPODATA, {}),
        ("HEAD", PACKAGE, {}), ("GET", PACKAGE, {"Range": "bytes=1-2"}), ("GET", REPODATA, {"If-None-Match": etag}),
    ] + [("GET", PACKAGE, {})] * 10)))
    # Removed underneath (as eviction or `verify --repair` remove blobs): the next GET must not be
    # answered from the removed file but pulled through again, which puts the blob back.
    path = blob_path(hoard.root, sha256_hex)
    assert path.is_file()
    path.unlink()
    fetched = upstream.count("GET", "/channel/noarch/fx-lib-1.0-0.conda")
    out.append(("after removal", ask(port, "GET", PACKAGE)))
    assert upstream.count("GET", "/channel/noarch/fx-lib-1.0-0.conda") == fetched + 1, \
        "the package was answered from a file the store no longer holds"
    deadline = time.time() + 10                             # the fill commits after the last byte
    while not path.is_file() and time.time() < deadline:
        time.sleep(0.05)
    out.append(("after removal, again", ask(port, "GET", PACKAGE)))
    return out


def test_fast_path_answers_as_the_full_path(hoard_bin, upstream, channel_dir, tmp_path):
    sha256_hex = package_record(channel_dir, "noarch", "fx-lib-1.0-0.conda")["sha256"]
    results = {}
    for mode, extra in (("fast", ()), ("full", ("--no-fast-path",))):
        h = Hoard(hoard_bin, tmp_path / f"root-{mode}", {"fixture": upstream.url},
                  log_path=tmp_path / f"hoard-{mode}.log", extra_args=extra).start()
        try:
            results[mode] = exercise(h, upstream, sha256_hex)
        finally:
            assert h.stop() in (None, 0, -15), h.log_tail()
    assert len(results["fast"]) == len(results["full"])
    for fast, full in zip(results["fast"], results["full"]):
        assert fast == full
    statuses = [r[-1][0] for r in results["fast"][:14]]
    assert statuses == [200, 200, 304, 206, 416, 200, 200, 200, 304, 206, 206, 206, 416, 206]
    assert [r[0] for r in results["fast"][14][1]] == [200, 416, 200, 200, 206, 304] + [200] * 10
    body = (Path(channel_dir) / "noarch" / "fx-lib-1.0-0.conda").read_bytes()
    assert results["fast"][15][1][2] == body
    assert hashlib.sha256(results["fast"][16][1][2]).hexdigest() == sha256_hex
