"""The hardening limits, set from the command line of a real hoard process.

- `--oci-max-upload-size`: a chunk that would take an upload past it gets 413 and the session is gone.
- `--oci-max-upload-sessions`: a POST beyond it gets 429 with Retry-After (TOOMANYREQUESTS).
- `--oci-auth-failures-per-minute`: wrong Basic credentials past it get 429 with Retry-After,
  while anonymous reads go on.
"""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hoard import Hoard, HoardError

USER, PASSWORD = "alice", "limits-pass"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def send(port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body or None, headers={"Content-Length": str(len(body)), **(headers or {})})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def error_code(body: bytes) -> str:
    return json.loads(body)["errors"][0]["code"]


@pytest.fixture
def limited_hoard(hoard_bin: Path, tmp_path: Path):
    htpasswd = shutil.which("htpasswd")
    if htpasswd is None:
        pytest.skip("htpasswd (apache2-utils) is not installed")
    entry = subprocess.run([htpasswd, "-nbB", USER, PASSWORD], check=True, capture_output=True, text=True).stdout
    (tmp_path / "htpasswd").write_text(entry)
    proc = Hoard(hoard_bin, tmp_path / "hoard-root", {}, log_path=tmp_path / "hoard.log",
                 extra_args=("--htpasswd", str(tmp_path / "htpasswd"), "--oci-max-upload-size", "1KiB",
                             "--oci-max-upload-sessions", "2", "--oci-auth-failures-per-minute", "3"))
    try:
        proc.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    yield proc
    code = proc.stop()
    assert code in (0, None), f"hoard exited with {code}\n{proc.log_tail()}"


def test_upload_limits(limited_hoard: Hoard):
    port, auth = limited_hoard.port, {"Authorization": basic(USER, PASSWORD)}
    status, headers, _ = send(port, "POST", "/v2/team/app/blobs/uploads/", headers=auth)
    assert status == 202
    first = headers["location"]
    status, _, _ = send(port, "PATCH", first, b"x" * 600, {**auth, "Content-Range": "0-599"})
    assert status == 202
    status, _, body = send(port, "PATCH", first, b"x" * 600, {**auth, "Content-Range": "600-1199"})
    assert status == 413 and error_code(body) == "BLOB_UPLOAD_INVALID", body
    assert send(port, "GET", first, headers=auth)[0] == 404

    locations = []
    for _ in range(2):
        status, headers, _ = send(port, "POST", "/v2/team/app/blobs/uploads/", headers=auth)
        assert status == 202
        locations.append(headers["location"])
    status, headers, body = send(port, "POST", "/v2/team/app/blobs/uploads/", headers=auth)
    assert status == 429 and error_code(body) == "TOOMANYREQUESTS", body
    assert int(headers["retry-after"]) > 0
    assert send(port, "DELETE", locations[0], headers=auth)[0] == 204
    assert send(port, "POST", "/v2/team/app/blobs/uploads/", headers=auth)[0] == 202


def test_wrong_passwords_are_held_back(limited_hoard: Hoard):
    port = limited_hoard.port
    for password in ("nope-1", "nope-2", "nope-3"):
        assert send(port, "GET", "/v2/", headers={"Authorization": basic(USER, password)})[0] == 401
    status, headers, body = send(port, "GET", "/v2/", headers={"Authorization": basic(USER, "nope-4")})
    assert status == 429 and error_code(body) == "TOOMANYREQUESTS", body
    assert 1 <= int(headers["retry-after"]) <= 60
    status, headers, _ = send(port, "GET", "/token?service=hoard&scope=repository:a:pull",
                              headers={"Authorization": basic(USER, "nope-5")})
    assert status == 429 and "retry-after" in headers
    # Serving goes on for everyone else: anonymous token and health.
    assert send(port, "GET", "/token?service=hoard&scope=repository:a:pull")[0] == 200
    assert send(port, "GET", "/healthz")[0] == 200
