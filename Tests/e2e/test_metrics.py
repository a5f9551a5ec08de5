"""/metrics counts what the test did, number by number, read with prometheus-client's parser:
requests by front, route and status (fast path on and off: hot requests answered on the event loop
count the same), hits and misses, bytes served and fetched, upstream latency count and errors,
coalesced waits, store size and blob count."""

from __future__ import annotations

import base64
import http.client
import shutil
import subprocess
import threading
import time

import pytest

from hoard import request as http_request
from ops_helpers import scrape, start_with, status_json, total, value

REPODATA = "/fixture/noarch/repodata.json"
LIB = "/fixture/noarch/fx-lib-1.0-0.conda"
DATA = "/fixture/noarch/fx-data-1.0-0.conda"


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "no-fast-path"])
def test_metrics_count_a_known_sequence(fast_path, request: pytest.FixtureRequest, start_hoard, hoard_bin,
                                        upstream, tmp_path):
    args = () if fast_path else ("--no-fast-path",)
    hoard = start_with(request, hoard_bin, upstream.url, tmp_path, *args)
    port = hoard.port

    before = scrape(port)
    # Nothing served yet but the readiness check and this scrape (counted once answered).
    assert value(before, "hoard_requests_total", front="plain", route="health", status="200") == 1
    assert value(before, "hoard_requests_total", front="plain", route="metrics", status="200") == 0
    assert total(before, "hoard_requests_total", front="conda") == 0
    assert value(before, "hoard_store_blobs") == 0
    assert value(before, "hoard_store_bytes") == 0
    assert value(before, "hoard_upload_sessions") == 0

    conda_bytes = 0

    def send(method: str, path: str, headers: dict | None = None):
        nonlocal conda_bytes
        resp = http_request(port, method, path, headers=headers or {})
        conda_bytes += len(resp.body)
        return resp

    assert send("GET", REPODATA).status == 200   # miss: fetched from upstream
    assert send("GET", REPODATA).status == 200   # hit
    assert send("GET", LIB).status == 200        # miss: pulled through

    # Three clients at once for one package: one download, two waits on it (the upstream holds
    # its answer back for a second and a half so that they overlap). Meanwhile the first
    # package's download has long finished storing.
    upstream.set_fault("*fx-data-1.0-0.conda", "stall", seconds=1.5, times=1)
    results = []
    threads = [threading.Thread(target=lambda: results.append(http_request(port, "GET", DATA))) for _ in range(3)]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(60)
    assert [r.status for r in results] == [200, 200, 200]
    conda_bytes += sum(len(r.body) for r in results)

    assert send("GET", LIB).status == 200        # hit (now published for the fast path)
    ranged = send("GET", LIB, {"Range": "bytes=0-9"})
    assert ranged.status == 206 and len(ranged.body) == 10  # hit
    head = send("HEAD", LIB)
    assert head.status == 200 and head.body == b""  # hit
    assert send("GET", "/nochannel/x").status == 404  # no cache involved

    # An upstream that is down: one error, a 502 for a package hoard does not hold.
    upstream.down()
    broken = send("GET", "/fixture/noarch/fx-lib-1.0-0.tar.bz2")
    assert broken.status == 502, broken.text

    m = scrape(port)
    req = lambda route, status: value(m, "hoard_requests_total", front="conda", route=route, status=str(status))
    assert req("repodata", 200) == 2
    assert req("package", 200) == 3 + 3  # GET miss, GET hit, HEAD; three fx-data GETs
    assert req("package", 206) == 1
    assert req("package", 502) == 1
    assert req("other", 404) == 1
    assert total(m, "hoard_requests_total", front="conda") == 2 + 6 + 1 + 1 + 1
    assert value(m, "hoard_requests_total", front="plain", route="metrics", status="200") == 1
    assert value(m, "hoard_requests_total", front="plain", route="health", status="200") == 1

    # Hits: repodata once, the package's GET, range and HEAD. Misses: the first repodata, the
    # first package, the three fx-data requests (one download, two coalesced), the .tar.bz2.
    assert value(m, "hoard_cache_hits_total", front="conda") == 4
    assert value(m, "hoard_cache_misses_total", front="conda") == 1 + 1 + 3 + 1
    assert value(m, "hoard_coalesced_waits_total") == 2

    assert value(m, "hoard_served_bytes_total", front="conda") == conda_bytes

    # What the upstream sent (every exchange it logged with a status, bodies of 200s) is what
    # hoard counted as fetched and timed.
    answered = [r for r in upstream.requests if r.status is not None]
    sent = sum(upstream.resolve(r.path).stat().st_size for r in answered if r.status == 200 and r.method == "GET")
    assert value(m, "hoard_upstream_fetched_bytes_total") == sent
    for status in {r.status for r in answered}:
        assert value(m, "hoard_upstream_responses_total", status=str(status)) == \
            sum(1 for r in answered if r.status == status)
    assert value(m, "hoard_upstream_request_duration_seconds_count") == len(answered)
    assert value(m, "hoard_upstream_request_duration_seconds_sum") > 0
    assert value(m, "hoard_upstream_errors_total", kind="unreachable") == 1
    assert total(m, "hoard_upstream_errors_total") == 1

    # The store: what `hoard status` reads from the index, and the blob files themselves.
    files = [p for p in (hoard.root / "blobs" / "sha256").rglob("*") if p.is_file()]
    status = status_json(hoard_bin, hoard.root, "--no-upstream-check")
    assert value(m, "hoard_store_blobs") == status["store"]["blobs"] == len(files)
    assert value(m, "hoard_store_bytes") == status["store"]["bytes"] == sum(p.stat().st_size for p in files)
    assert value(m, "hoard_evicted_blobs_total") == 0
    assert value(m, "hoard_upload_sessions") == 0


def test_metrics_route_is_get_only(start_hoard):
    hoard = start_hoard()
    assert http_request(hoard.port, "POST", "/metrics").status == 405
    head = http_request(hoard.port, "HEAD", "/metrics")
    assert head.status == 200 and head.body == b""


def test_upload_sessions_and_oci_requests(request: pytest.FixtureRequest, start_hoard, hoard_bin, upstream, tmp_path):
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        pytest.skip("htpasswd (apache2-utils) is not installed")
    entry = subprocess.run([htpasswd, "-nbB", "alice", "metrics-pass"], check=True, capture_output=True, text=True).stdout
    (tmp_path / "htpasswd").write_text(entry)
    hoard = start_with(request, hoard_bin, upstream.url, tmp_path, "--htpasswd", str(tmp_path / "htpasswd"))
    auth = {"Authorization": "Basic " + base64.b64encode(b"alice:metrics-pass").decode()}

    opened = [http_request(hoard.port, "POST", "/v2/team/app/blobs/uploads/", headers=auth) for _ in range(2)]
    assert [r.status for r in opened] == [202, 202]
    conn = http.client.HTTPConnection("127.0.0.1", hoard.port, timeout=30)
    conn.request("PATCH", opened[0].header("location"), body=b"x" * 600, headers={**auth, "Content-Range": "0-599"})
    patch = conn.getresponse()
    assert patch.status == 202, patch.read()
    conn.close()
    assert http_request(hoard.port, "GET", "/v2/").status == 401  # no credentials

    m = scrape(hoard.port)
    assert value(m, "hoard_upload_sessions") == 2
    assert value(m, "hoard_upload_session_bytes") == 600
    assert value(m, "hoard_requests_total", front="oci", route="upload", status="202") == 3
    assert value(m, "hoard_requests_total", front="oci", route="base", status="401") == 1

    # Cancelled: the session is gone from the gauge.
    assert http_request(hoard.port, "DELETE", opened[1].header("location"), headers=auth).status == 204
    m = scrape(hoard.port)
    assert value(m, "hoard_upload_sessions") == 1
    assert value(m, "hoard_requests_total", front="oci", route="upload", status="204") == 1
