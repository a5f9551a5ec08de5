"""A full cache disk (ENOSPC) on a real size-limited file system: a tmpfs mounted for the test.

hoard's root lives on the tmpfs; a filler file takes most of its free space. Then:
- a package larger than the free space is refused with a clear 503 (nothing partial kept: no temp
  file, no blob), hoard stays up and keeps serving what it has cached;
- once the filler is deleted the same package pulls through, and a real client installs through it;
- an OCI blob push larger than the free space gets 507 Insufficient Storage, keeps nothing, and
  succeeds once space is freed.

Mounting needs root (`.ci/run` runs as root); where it is not permitted the tests skip and say so.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import shutil
from pathlib import Path

import pytest

from fixture_channel import FX_APP_BANNER, package_record
from hoard import Hoard, HoardError, request
from rattler_client import run_client

DISK_SIZE = "8m"
USER, PASSWORD = "alice", "secret"


@pytest.fixture
def small_disk(tmp_path: Path):
    """An 8 MiB tmpfs at `tmp_path/disk`, unmounted at teardown."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount(8) here: cannot make a size-limited file system")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({proc.stderr.strip() or proc.returncode}); "
                    "run as root to test a full disk")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(disk: Path, leave: int) -> Path:
    """Writes a filler file so that about `leave` bytes stay free."""
    filler = disk / "filler"
    size = free_bytes(disk) - leave
    assert size > 0, f"the disk has only {free_bytes(disk)} bytes free"
    with open(filler, "wb") as out:
        out.write(b"\0" * size)  # tmpfs allocates on write: no sparse holes
    return filler


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


def blob_path(root: Path, sha256_hex: str) -> Path:
    return root / "blobs" / "sha256" / sha256_hex[:2] / sha256_hex


def test_pull_through_on_a_full_disk_is_a_clear_503_and_recovers(small_disk, upstream, hoard_bin, channel_dir,
                                                                   tmp_path, client_dirs):
    root = small_disk / "hoard-root"
    hoard = Hoard(hoard_bin, root, {"fixture": upstream.url}, log_path=tmp_path / "hoard.log")
    try:
        hoard.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    try:
        small = package_record(channel_dir, "noarch", "fx-lib-1.0-0.conda")
        big = package_record(channel_dir, "noarch", "fx-data-1.0-0.conda")
        first = request(hoard.port, "GET", "/fixture/noarch/fx-lib-1.0-0.conda")
        assert first.status == 200 and hashlib.sha256(first.body).hexdigest() == small["sha256"]

        filler = fill(small_disk, leave=512 * 1024)
        assert big["size"] > free_bytes(small_disk)

        refused = request(hoard.port, "GET", "/fixture/noarch/fx-data-1.0-0.conda")
        assert refused.status == 503, f"{refused.status}: {refused.text}\n{hoard.log_tail()}"
        assert "disk is full" in refused.text and "no space left" in refused.text, refused.text
        assert files_under(root / "tmp" / "ingest") == [], "a partial temp file was left behind"
        assert not blob_path(root, big["sha256"]).exists()
        assert hoard.running and request(hoard.port, "GET", "/healthz").status == 200

        # What is cached is still served, from the full disk.
        again = request(hoard.port, "GET", "/fixture/noarch/fx-lib-1.0-0.conda")
        assert again.status == 200 and hashlib.sha256(again.body).hexdigest() == small["sha256"]

        # Space freed: the same package pulls through, and a real client installs through hoard.
        filler.unlink()
        pulled = request(hoard.port, "GET", "/fixture/noarch/fx-data-1.0-0.conda")
        assert pulled.status == 200, f"{pulled.status}: {pulled.text}"
        assert hashlib.sha256(pulled.body).hexdigest() == big["sha256"]
        prefix, cache = client_dirs()
        result = run_client(hoard.channel_url(), prefix, cache, max_retries=0)
        assert result.ok, result.describe()
        app = subprocess.run([str(Path(prefix) / "bin" / "fx-app")], capture_output=True, text=True)
        assert FX_APP_BANNER in app.stdout
        assert files_under(root / "tmp" / "ingest") == []
    finally:
        code = hoard.stop()
    assert code in (0, None), f"hoard exited with {code}\n{hoard.log_tail()}"


@pytest.fixture
def htpasswd_file(tmp_path: Path) -> Path:
    tool = shutil.which("htpasswd")
    if tool is None:
        pytest.fail("htpasswd is not installed (make deps installs apache2-utils)")
    out = subprocess.run([tool, "-nbB", USER, PASSWORD], check=True, capture_output=True, text=True).stdout
    path = tmp_path / "htpasswd"
    path.write_text(out)
    return path


def push_blob(port: int, repository: str, data: bytes):
    """POST an upload session, then PUT the whole blob with its digest (monolithic upload)."""
    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    started = request(port, "POST", f"/v2/{repository}/blobs/uploads/", headers={**auth, "Content-Length": "0"})
    assert started.status == 202, f"{started.status}: {started.text}"
    location = started.header("Location")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    separator = "&" if "?" in location else "?"
    path = location.split("://", 1)[-1]
    path = path[path.index("/"):] if not location.startswith("/") else location
    return upload(port, f"{path}{separator}digest={digest}", data, auth), digest


def upload(port: int, path: str, data: bytes, headers: dict[str, str]):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for name, value in {**headers, "Content-Type": "application/octet-stream",
                            "Content-Length": str(len(data))}.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for offset in range(0, len(data), 64 * 1024):
                conn.send(data[offset:offset + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass  # hoard may answer before reading the whole body
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def test_oci_blob_push_on_a_full_disk_is_507_and_recovers(small_disk, hoard_bin, htpasswd_file, tmp_path):
    root = small_disk / "hoard-root"
    hoard = Hoard(hoard_bin, root, {}, log_path=tmp_path / "hoard.log", extra_args=("--htpasswd", str(htpasswd_file)))
    try:
        hoard.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    try:
        filler = fill(small_disk, leave=1024 * 1024)
        data = os.urandom(3 * 1024 * 1024)
        (status, text), digest = push_blob(hoard.port, "team/big", data)
        assert status == 507, f"{status}: {text}\n{hoard.log_tail()}"
        assert "no space left" in text, text
        hex_digest = digest.split(":", 1)[1]
        assert not blob_path(root, hex_digest).exists()
        assert files_under(root / "tmp" / "ingest") == [], "a partial temp file was left behind"
        assert request(hoard.port, "HEAD", f"/v2/team/big/blobs/{digest}").status == 404
        assert hoard.running and request(hoard.port, "GET", "/healthz").status == 200

        filler.unlink()
        (status, text), _ = push_blob(hoard.port, "team/big", data)
        assert status == 201, f"{status}: {text}"
        assert blob_path(root, hex_digest).exists()
        fetched = request(hoard.port, "GET", f"/v2/team/big/blobs/{digest}")
        assert fetched.status == 200 and fetched.body == data
    finally:
        code = hoard.stop()
    assert code in (0, None), f"hoard exited with {code}\n{hoard.log_tail()}"


def patch_chunk(port: int, path: str, data: bytes, auth: dict[str, str]):
    """PATCH one chunk (the whole of `data`) to an upload session."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest("PATCH", path, skip_accept_encoding=True)
        for name, value in {**auth, "Content-Type": "application/octet-stream", "Content-Length": str(len(data)),
                            "Content-Range": f"0-{len(data) - 1}"}.items():
            conn.putheader(name, value)
        conn.endheaders()
        try:
            for offset in range(0, len(data), 64 * 1024):
                conn.send(data[offset:offset + 64 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass  # hoard may answer before reading the whole body
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def test_oci_chunk_on_a_full_disk_is_507_and_the_session_goes(small_disk, hoard_bin, htpasswd_file, tmp_path):
    """A PATCH chunk the disk cannot hold: 507, the session's bytes are removed, and chunked
    uploads work again once space is freed."""
    root = small_disk / "hoard-root"
    hoard = Hoard(hoard_bin, root, {}, log_path=tmp_path / "hoard.log", extra_args=("--htpasswd", str(htpasswd_file)))
    try:
        hoard.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    auth = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}
    try:
        filler = fill(small_disk, leave=1024 * 1024)
        data = os.urandom(3 * 1024 * 1024)
        started = request(hoard.port, "POST", "/v2/team/chunks/blobs/uploads/", headers={**auth, "Content-Length": "0"})
        assert started.status == 202, f"{started.status}: {started.text}"
        location = started.header("Location")
        status, text = patch_chunk(hoard.port, location, data, auth)
        assert status == 507, f"{status}: {text}\n{hoard.log_tail()}"
        assert "no space left" in text, text
        assert request(hoard.port, "GET", location, headers=auth).status == 404
        assert files_under(root / "tmp" / "uploads") == [], "the refused session's bytes were kept"
        assert hoard.running and request(hoard.port, "GET", "/healthz").status == 200

        filler.unlink()
        started = request(hoard.port, "POST", "/v2/team/chunks/blobs/uploads/", headers={**auth, "Content-Length": "0"})
        location = started.header("Location")
        status, text = patch_chunk(hoard.port, location, data, auth)
        assert status == 202, f"{status}: {text}"
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        closed = request(hoard.port, "PUT", f"{location}?digest={digest}", headers={**auth, "Content-Length": "0"})
        assert closed.status == 201, f"{closed.status}: {closed.text}"
        fetched = request(hoard.port, "GET", f"/v2/team/chunks/blobs/{digest}")
        assert fetched.status == 200 and fetched.body == data
        assert files_under(root / "tmp" / "uploads") == []
    finally:
        code = hoard.stop()
    assert code in (0, None), f"hoard exited with {code}\n{hoard.log_tail()}"
