"""The access log: one line per request (method, path, status, bytes, duration, hit/miss,
upstream time) through swift-log; with `--log-format json` every log line is a JSON object."""

from __future__ import annotations

import json
import time

import pytest

from hoard import request as http
from ops_helpers import start_with, status_json

REPODATA = "/fixture/noarch/repodata.json"
LIB = "/fixture/noarch/fx-lib-1.0-0.conda"


def log_entries(hoard) -> list[dict]:
    lines = [line for line in hoard.log_path.read_text().splitlines() if line and not line.startswith("$ ")]
    # Every line hoard wrote is JSON (json.loads fails the test otherwise).
    return [json.loads(line) for line in lines]


def wait_stored(hoard_bin, root) -> None:
    """Until the package just pulled through is in the index, and its download is over (a GET
    may end while the store still commits; a request then would join it, not hit)."""
    deadline = time.monotonic() + 20
    while status_json(hoard_bin, root, "--no-upstream-check")["store"]["channels"] == []:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(0.3)


def test_json_access_log_line_per_request(request: pytest.FixtureRequest, start_hoard, hoard_bin, upstream, tmp_path):
    hoard = start_with(request, hoard_bin, upstream.url, tmp_path, "--log-format", "json")
    sent = [
        ("GET", REPODATA, {}),
        ("GET", REPODATA, {}),
        ("GET", LIB, {}),
        ("GET", LIB, {}),
        ("GET", LIB, {"Range": "bytes=0-99"}),
        ("HEAD", LIB, {}),
        ("GET", "/nochannel/x?q=1", {}),
        ("GET", "/t/s3cr3t-token/fixture/noarch/none.conda", {}),
    ]
    answers = []
    for method, path, headers in sent:
        answers.append(http(hoard.port, method, path, headers=headers))
        if len(answers) == 3:
            wait_stored(hoard_bin, hoard.root)
    assert hoard.stop() == 0

    entries = log_entries(hoard)
    assert all({"time", "level", "label", "message"} <= e.keys() for e in entries)
    assert all(e["time"].endswith("Z") for e in entries)
    access = [e for e in entries if e["label"] == "hoard.access"]
    # The readiness check, then ours, in order.
    assert access[0]["path"] == "/healthz"
    ours = access[1:]
    assert len(ours) == len(sent), ours
    for entry, (method, path, _), answer in zip(ours, sent, answers):
        assert entry["level"] == "info"
        assert entry["message"] == "request"
        assert entry["method"] == method
        assert entry["status"] == answer.status
        assert entry["bytes"] == len(answer.body)
        assert isinstance(entry["duration_ms"], (int, float)) and entry["duration_ms"] >= 0
        assert entry["via"] in ("fast", "app")
    assert [e["path"] for e in ours[:7]] == [p.split("?")[0] for _, p, _ in sent[:7]]
    # A token in the path is never written to the log.
    assert ours[7]["path"] == "/t/<redacted>/fixture/noarch/none.conda"
    assert "s3cr3t" not in hoard.log_path.read_text().split("\n", 1)[1]

    assert [e["cache"] for e in ours[:6]] == ["miss", "hit", "miss", "hit", "hit", "hit"]
    assert ours[6]["cache"] == "-"
    # Misses waited on upstream, hits did not.
    assert ours[0]["upstream_ms"] > 0 and ours[2]["upstream_ms"] > 0
    assert all("upstream_ms" not in e for e in ours[1:2] + ours[3:6])
    # Hot requests were answered by the fast path, and logged all the same.
    assert any(e["via"] == "fast" for e in ours[3:6])


def test_text_log_and_no_access_log(request: pytest.FixtureRequest, start_hoard, hoard_bin, upstream, tmp_path):
    hoard = start_with(request, hoard_bin, upstream.url, tmp_path)
    assert http(hoard.port, "GET", REPODATA).status == 200
    assert hoard.stop() == 0
    text = hoard.log_path.read_text()
    line = next(l for l in text.splitlines() if "hoard.access: request" in l and REPODATA in l)
    for field in ("method=GET", f"path={REPODATA}", "status=200", "cache=miss", "duration_ms=", "upstream_ms=", "bytes="):
        assert field in line, line

    quiet = start_with(request, hoard_bin, upstream.url, tmp_path, "--no-access-log", root=tmp_path / "quiet")
    assert http(quiet.port, "GET", REPODATA).status == 200
    assert quiet.stop() == 0
    assert "hoard.access" not in quiet.log_path.read_text()
