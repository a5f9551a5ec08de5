"""`hoard status` (text and --json) beside a running hoard: store totals, packages per channel,
when each document was fetched and confirmed, and upstream health."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest

from hoard import free_port, request as http
from ops_helpers import status_json

REPODATA = "/fixture/noarch/repodata.json"
LIB = "/fixture/noarch/fx-lib-1.0-0.conda"


def test_status_reports_store_channels_documents_and_upstreams(start_hoard, hoard_bin, upstream):
    hoard = start_hoard()
    started = datetime.now(timezone.utc)
    assert http(hoard.port, "GET", REPODATA).status == 200
    lib = http(hoard.port, "GET", LIB)
    assert lib.status == 200
    # conda-forge is always served; point it at a closed port so the test needs no network.
    dead = f"http://127.0.0.1:{free_port()}/conda-forge"
    args = ("--upstream", f"fixture={upstream.url}", "--upstream", f"conda-forge={dead}")

    report = status_json(hoard_bin, hoard.root, *args)
    store = report["store"]
    files = [p for p in (hoard.root / "blobs" / "sha256").rglob("*") if p.is_file()]
    assert store["blobs"] == len(files)
    assert store["bytes"] == sum(p.stat().st_size for p in files)
    assert store["pinned_blobs"] == 0
    assert store["channels"] == [{"name": "fixture", "packages": 1, "package_bytes": len(lib.body)}]
    docs = {(d["channel"], d["subdir"], d["name"]): d for d in store["documents"]}
    doc = docs[("fixture", "noarch", "repodata.json")]
    fetched = datetime.fromisoformat(doc["fetched_at"].replace("Z", "+00:00"))
    assert abs((fetched - started).total_seconds()) < 60
    assert doc["validated_at"] >= doc["fetched_at"]

    checks = {u["name"]: u for u in report["upstreams"]}
    assert checks["fixture"]["healthy"] is True and checks["fixture"]["status"] == 200
    assert checks["fixture"]["url"] == upstream.url + "/noarch/repodata.json"
    assert checks["fixture"]["latency_ms"] >= 0
    assert checks["conda-forge"]["healthy"] is False and "unreachable" in checks["conda-forge"]["error"]
    assert upstream.count("HEAD", "/channel/noarch/repodata.json") == 1

    # Text for people; exit 1 because an upstream failed, 0 when every check passed.
    text = subprocess.run([str(hoard_bin), "status", "--root", str(hoard.root), *args],
                          capture_output=True, text=True, timeout=60)
    assert text.returncode == 1
    assert f"{store['blobs']} blobs" in text.stdout
    assert "fixture: 1 packages" in text.stdout
    assert "fixture/noarch/repodata.json: fetched" in text.stdout
    assert "channel fixture" in text.stdout and ": ok (HTTP 200" in text.stdout
    assert "channel conda-forge" in text.stdout and "FAILED" in text.stdout
    only_fixture = subprocess.run(
        [str(hoard_bin), "status", "--root", str(hoard.root), "--upstream", f"fixture={upstream.url}",
         "--upstream", f"conda-forge={upstream.url}"], capture_output=True, text=True, timeout=60)
    assert only_fixture.returncode == 0, only_fixture.stdout + only_fixture.stderr

    # The upstream down: the check says so.
    upstream.down()
    report = status_json(hoard_bin, hoard.root, *args)
    assert {u["name"]: u["healthy"] for u in report["upstreams"]} == {"fixture": False, "conda-forge": False}


def test_status_of_a_missing_store_is_a_clear_error(hoard_bin, tmp_path):
    proc = subprocess.run([str(hoard_bin), "status", "--root", str(tmp_path / "none"), "--no-upstream-check"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "none" in proc.stderr
    assert not (tmp_path / "none").exists()
