"""Hostile response headers from an upstream channel must never take hoard down (issue 7, defect 1).

The upstream answers `repodata.json` with a chosen Cache-Control, Last-Modified, ETag or Date
(`Upstream.set_headers`). Whatever it sends, hoard stays up, serves the repodata, and tells its
own clients a sane `Cache-Control: public, max-age=N` with N a whole number in 0...2^31.

RFC 9111 §1.2.2: max-age is delta-seconds (`1*DIGIT`); a value too large is the largest (2^31);
an invalid one (`1e400`, `-5`, `nan`, `inf`) is as if absent, so hoard's default (600 s) applies.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from hoard import request

REPODATA = "/fixture/linux-64/repodata.json"
# hoard may fetch the .zst or the .json: both carry the headers.
UPSTREAM_REPODATA = "/channel/linux-64/repodata.json*"
DEFAULT_TTL = 600
CEILING = 2**31

# Cache-Control sent by the upstream -> the max-age hoard must then announce.
CACHE_CONTROL = {
    "public, max-age=99999999999999999999999": CEILING,
    "public, max-age=1e400": DEFAULT_TTL,
    "public, max-age=-5": DEFAULT_TTL,
    "public, max-age=nan": DEFAULT_TTL,
    "public, max-age=inf": DEFAULT_TTL,
    "public, max-age=": DEFAULT_TTL,
    "max-age=2147483649, no-transform": CEILING,
    "public, MAX-AGE=30": 30,
    'private="a, b", max-age="45"': 45,
    "max-age=12 , max-age=99": 12,
    ',,, ;;; =, "unterminated': DEFAULT_TTL,
}

# Last-Modified / ETag / Date values no parser may trap on (huge and negative years, garbage).
HOSTILE_VALIDATORS = [
    {"Last-Modified": "Sun, 06 Nov -2147483648 08:49:37 GMT"},
    {"Last-Modified": "Sun, 06 Nov 99999999999999999999 08:49:37 GMT"},
    {"Last-Modified": "Sun, 06 Nov 2147483647 08:49:37 GMT"},
    {"Last-Modified": "Sun, 99 Nov 1994 99:99:99 GMT"},
    {"Last-Modified": "Fri, 31 Dec 9999 23:59:59 GMT"},
    {"Last-Modified": "garbage"},
    {"Last-Modified": ""},
    {"ETag": "not-quoted"},
    {"ETag": 'W/""'},
    {"ETag": '"' + "a" * 4000 + '"'},
    {"Date": "Mon, 01 Jan 99999999999999 00:00:00 GMT"},
    {"Date": "yesterday"},
]


def max_age_of(cache_control: str | None) -> int:
    match = re.fullmatch(r"public, max-age=(\d+)", cache_control or "")
    assert match, f"hoard's Cache-Control is not `public, max-age=N`: {cache_control!r}"
    return int(match.group(1))


def assert_serves_repodata(hoard, channel_dir, what: str) -> None:
    response = request(hoard.port, "GET", REPODATA)
    assert response.status == 200, f"{what}: {response.status} {response.text()[:300]}"
    served = json.loads(response.body)
    upstream = json.loads((channel_dir / "linux-64" / "repodata.json").read_bytes())
    assert sorted(served.get("packages.conda", {})) == sorted(upstream.get("packages.conda", {})), what
    max_age = max_age_of(response.header("cache-control"))
    assert 0 <= max_age <= CEILING, what
    last_modified = response.header("last-modified")
    assert last_modified is None or re.fullmatch(
        r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", last_modified), (what, last_modified)


def assert_still_up(hoard, what: str) -> None:
    assert hoard.running, f"{what}: hoard exited\n{hoard.log_tail()}"
    health = request(hoard.port, "GET", "/healthz")
    assert health.status == 200, f"{what}: /healthz answered {health.status}"


@pytest.mark.parametrize("cache_control", list(CACHE_CONTROL))
def test_upstream_max_age_is_parsed_safely(start_hoard, upstream, channel_dir, cache_control):
    upstream.set_headers(UPSTREAM_REPODATA, {"Cache-Control": cache_control})
    hoard = start_hoard()
    assert_serves_repodata(hoard, channel_dir, cache_control)
    response = request(hoard.port, "GET", REPODATA)  # from the snapshot now
    assert max_age_of(response.header("cache-control")) == CACHE_CONTROL[cache_control], cache_control
    # The .zst representation announces the same.
    zst = request(hoard.port, "GET", REPODATA + ".zst")
    assert zst.status == 200, cache_control
    assert max_age_of(zst.header("cache-control")) == CACHE_CONTROL[cache_control], cache_control
    assert upstream.count("GET", UPSTREAM_REPODATA) >= 1
    assert_still_up(hoard, cache_control)


def test_hostile_validators_never_trap(start_hoard, upstream, channel_dir):
    """Each hostile value is served, then revalidated (max-age=0 makes every request go upstream,
    sending the stored validators back), then asked for conditionally by a client."""
    hoard = start_hoard()
    for headers in HOSTILE_VALIDATORS:
        what = repr(headers)
        upstream.set_headers(UPSTREAM_REPODATA, {"Cache-Control": "max-age=0", **headers})
        before = upstream.count("GET", UPSTREAM_REPODATA)
        assert_serves_repodata(hoard, channel_dir, what)
        assert_serves_repodata(hoard, channel_dir, what + " (revalidated)")
        # Revalidation runs behind the answer and requests meanwhile join the one in flight (which
        # may have started before `before`): ask again until one reaches upstream.
        deadline = time.monotonic() + 10
        while upstream.count("GET", UPSTREAM_REPODATA) <= before and time.monotonic() < deadline:
            time.sleep(0.05)
            assert_serves_repodata(hoard, channel_dir, what + " (again)")
        assert upstream.count("GET", UPSTREAM_REPODATA) > before, \
            f"{what}: hoard never asked upstream; it saw {[(r.method, r.path, r.status) for r in upstream.requests[-6:]]}"
        for conditional in ({"If-Modified-Since": "Sun, 06 Nov 99999 08:49:37 GMT"},
                            {"If-Modified-Since": "Sun, 06 Nov -2147483648 08:49:37 GMT"},
                            {"If-Range": "Sun, 06 Nov 99999 08:49:37 GMT", "Range": "bytes=0-9"}):
            response = request(hoard.port, "GET", REPODATA, conditional)
            assert response.status in (200, 206, 304), (what, conditional, response.status)
        assert_still_up(hoard, what)
