"""Background eviction with --max-size: least recently used blobs go (counted in /metrics),
the current channel documents stay, and blobs the fast path keeps open are let go of (an idle
table entry is not a blob being served)."""

from __future__ import annotations

import time

import pytest

from hoard import request as http
from ops_helpers import scrape, start_with, status_json, value

REPODATA = "/fixture/noarch/repodata.json"
LIB = "/fixture/noarch/fx-lib-1.0-0.conda"
DATA = "/fixture/noarch/fx-data-1.0-0.conda"


def test_background_eviction_under_max_size(request: pytest.FixtureRequest, start_hoard, hoard_bin, upstream, tmp_path):
    # First without a limit: both packages stored.
    root = tmp_path / "root"
    plain = start_with(request, hoard_bin, upstream.url, tmp_path, root=root)
    assert http(plain.port, "GET", REPODATA).status == 200
    sizes = {path: len(http(plain.port, "GET", path).body) for path in (LIB, DATA)}
    assert sizes[DATA] > 1_000_000
    assert plain.stop() == 0
    assert len(status_json(hoard_bin, root, "--no-upstream-check")["store"]["channels"]) == 1

    # Then over the limit: before the first pass (3 s in), GETs from the store publish both
    # packages in the fast path's table, which holds them open.
    hoard = start_with(request, hoard_bin, upstream.url, tmp_path, "--max-size", "1MB", "--eviction-interval", "3s",
                       root=root)
    for path in (LIB, DATA):
        assert http(hoard.port, "GET", path).status == 200
        assert http(hoard.port, "GET", path, headers={"Range": "bytes=0-0"}).status == 206
    assert value(scrape(hoard.port), "hoard_eviction_runs_total") == 0, "the first pass came too early to test"

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        m = scrape(hoard.port)
        if value(m, "hoard_eviction_runs_total") >= 1:
            break
        time.sleep(0.25)
    assert value(m, "hoard_evicted_blobs_total") == 2
    assert value(m, "hoard_evicted_bytes_total") == sizes[LIB] + sizes[DATA]
    assert value(m, "hoard_upstream_fetched_bytes_total") == 0

    report = status_json(hoard_bin, root, "--no-upstream-check")["store"]
    assert report["channels"] == []
    assert report["bytes"] <= 1_000_000
    # The current repodata is kept, and still served without upstream.
    assert any(d["name"] == "repodata.json" for d in report["documents"])
    upstream.down()
    assert http(hoard.port, "GET", REPODATA).status == 200
    # An evicted package is fetched again on demand.
    upstream.up()
    again = http(hoard.port, "GET", LIB)
    assert again.status == 200 and len(again.body) == sizes[LIB]
