"""The web page at `/`, rendered by headless Chromium (Debian `chromium`).

The page is server-rendered HTML with no JavaScript: Chromium's `--dump-dom` (the DOM after
parsing) must hold the listing rows hoard should show, and `--screenshot` must write a PNG of
it. A listing link downloads the package through the conda front with the right sha256.
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from fixture_channel import load_repodata

def chromium(*args: str, timeout: float = 90) -> subprocess.CompletedProcess:
    """Headless Chromium as root in a container: no sandbox, no GPU, a throwaway profile."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("Debian chromium is not installed (`make deps` installs it)", pytrace=False)
    return subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--hide-scrollbars", *args],
        capture_output=True, text=True, timeout=timeout)


class Rows(html.parser.HTMLParser):
    """The listing rows (`tr.package`) with their cells' text and the download link."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict] = []
        self.scripts = 0
        self._row: dict | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "package" in (attrs.get("class") or "").split():
            self._row = {"filename": attrs.get("data-filename"), "cells": [], "href": None}
        elif self._row is not None and tag == "td":
            self._cell = []
        elif self._row is not None and tag == "a" and "download" in (attrs.get("class") or ""):
            self._row["href"] = attrs.get("href")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None


def rows_of(dom: str) -> list[dict]:
    parser = Rows()
    parser.feed(dom)
    assert parser.scripts == 0, "the page must not need JavaScript"
    return parser.rows


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def records(channel_dir: Path, subdir: str) -> dict[str, dict]:
    repodata = load_repodata(channel_dir, subdir)
    return {**repodata.get("packages", {}), **repodata.get("packages.conda", {})}


def test_page_renders_in_chromium_and_a_listing_link_downloads(hoard, channel_dir, tmp_path):
    # hoard lists what it holds: let a client fetch both subdirs' repodata, and one package.
    for subdir in ("noarch", "linux-64"):
        status, _, _ = get(f"{hoard.url}/fixture/{subdir}/repodata.json")
        assert status == 200
    noarch = records(channel_dir, "noarch")
    status, _, body = get(f"{hoard.url}/fixture/noarch/fx-lib-1.0-0.tar.bz2")
    assert status == 200 and hashlib.sha256(body).hexdigest() == noarch["fx-lib-1.0-0.tar.bz2"]["sha256"]

    # The overview: channels with their subdirs, the store's figures, the OCI section.
    overview = chromium("--dump-dom", hoard.url + "/")
    assert overview.returncode == 0, overview.stderr
    assert 'id="channel-fixture"' in overview.stdout
    assert "/?channel=fixture&amp;subdir=noarch" in overview.stdout
    assert 'id="stats"' in overview.stdout and 'id="oci"' in overview.stdout

    # One subdir's listing, as Chromium parsed it: exactly the repodata's files, each with its
    # name, version, build, size and sha256, and whether hoard holds it.
    page = f"{hoard.url}/?channel=fixture&subdir=noarch"
    dom = chromium("--dump-dom", page)
    assert dom.returncode == 0, dom.stderr
    rows = rows_of(dom.stdout)
    assert {r["filename"] for r in rows} == set(noarch)
    for row in rows:
        record = noarch[row["filename"]]
        name, version, build, filename, _size, sha256, cached = row["cells"]
        assert (name, version, build, sha256) == (record["name"], record["version"], record["build"], record["sha256"])
        assert filename == row["filename"]
        assert cached == ("cached" if row["filename"] == "fx-lib-1.0-0.tar.bz2" else "not cached"), row

    # The screenshot: Chromium writes a PNG of the listing.
    shot = tmp_path / "web-page.png"
    result = chromium("--window-size=1280,900", f"--screenshot={shot}", page)
    assert result.returncode == 0, result.stderr
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, len(png)
    overview_shot = tmp_path / "web-overview.png"
    result = chromium("--window-size=1280,900", f"--screenshot={overview_shot}", hoard.url + "/")
    assert result.returncode == 0, result.stderr
    assert overview_shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("HOARD_E2E_SCREENSHOTS")  # a directory, to look at them
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)
        shutil.copy(overview_shot, Path(keep) / overview_shot.name)

    # A listing link downloads through the conda front: the right bytes, and then it is cached.
    link = next(r for r in rows if r["filename"] == "fx-data-1.0-0.conda")
    assert link["href"] == "/fixture/noarch/fx-data-1.0-0.conda"
    status, headers, body = get(hoard.url + link["href"])
    assert status == 200, body[:200]
    assert hashlib.sha256(body).hexdigest() == noarch["fx-data-1.0-0.conda"]["sha256"]
    after = rows_of(chromium("--dump-dom", page).stdout)
    assert {r["filename"]: r["cells"][6] for r in after}["fx-data-1.0-0.conda"] == "cached"


def test_search_paging_and_escaping(hoard, channel_dir):
    assert get(f"{hoard.url}/fixture/noarch/repodata.json")[0] == 200
    noarch = records(channel_dir, "noarch")

    def listing(**query) -> list[dict]:
        status, headers, body = get(f"{hoard.url}/?" + urllib.parse.urlencode({"channel": "fixture", "subdir": "noarch", **query}))
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        return rows_of(body.decode())

    assert {r["filename"] for r in listing(q="LIB")} == {f for f in noarch if f.startswith("fx-lib-")}
    assert listing(q="nothing-like-this") == []
    # Paging: one file a page at most `per`, every file exactly once over the pages.
    per_page = [listing(per="10", page=str(p)) for p in (1, 2)]
    assert [r["filename"] for r in per_page[0]] and per_page[1] == []
    # Whatever the query holds is text on the page, never markup.
    status, _, body = get(f"{hoard.url}/?" + urllib.parse.urlencode(
        {"channel": "fixture", "subdir": "noarch", "q": "<script>alert(1)</script>"}))
    text = body.decode()
    assert status == 200 and "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # An unknown channel or a bad subdir is a 404 page naming the problem.
    status, _, body = get(f"{hoard.url}/?channel=nope&subdir=noarch")
    assert status == 404 and b"unknown channel &#39;nope&#39;" in body
    status, _, body = get(f"{hoard.url}/?channel=fixture&subdir=..%2Fetc")
    assert status == 404 and b"subdir" in body


def test_existing_routes_are_not_shadowed(hoard, channel_dir):
    status, headers, body = get(hoard.url + "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, _, body = get(hoard.url + "/fixture/noarch/repodata.json")
    assert status == 200 and "fx-lib-1.0-0.conda" in json.loads(body)["packages.conda"]
    status, _, body = get(hoard.url + "/v2/")
    assert status == 200
    # Only `/` itself is the page; other paths keep their answers.
    status, _, body = get(hoard.url + "//")
    assert status == 404 and b"unknown channel ''" in body
    status, _, body = get(hoard.url + "/nope")
    assert status == 404 and b"unknown channel 'nope'" in body
    req = urllib.request.Request(hoard.url + "/", method="POST", data=b"")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("POST / must not succeed")
    except urllib.error.HTTPError as e:
        assert e.code == 405 and e.headers["Allow"] == "GET, HEAD"
