"""`hoard mirror`: fill the store ahead of time, then serve it with the upstream gone.

The channel (mirror_fixtures.py) has several versions and builds per name, in noarch and
linux-64, served by the harness's real upstream (upstream.py), whose request log tells exactly
which packages hoard downloaded. Lock files are written by real tools: pixi.lock by rattler_lock
(py-rattler's LockFile, the library pixi writes pixi.lock with), conda-lock.yml and the md5
@EXPLICIT list by conda-lock's own model, writer and renderer (its solver needs conda or mamba,
which PyPI does not have: the records come from py-rattler's solve); the `#sha256:` @EXPLICIT list
is written by the test from the same records.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hoard import request
from rattler_client import run_client
from upstream import Upstream

HERE = Path(__file__).resolve().parent
PACKAGE_RE = re.compile(r"/channel/(noarch|linux-64)/([^/]+\.(?:conda|tar\.bz2))$")


@pytest.fixture(scope="module")
def mirror_channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mirror-channel")
    proc = subprocess.run([sys.executable, str(HERE / "mirror_fixtures.py"), "channel", str(out)],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"building the mirror channel failed:\n{proc.stderr}"
    return out


@pytest.fixture
def mx_upstream(mirror_channel: Path):
    server = Upstream(mirror_channel, prefix="/channel", max_age=60).start()
    yield server
    server.stop()


def run_mirror(hoard_bin: Path, root: Path, *args: str, upstream_url: str | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [str(hoard_bin), "mirror", "--root", str(root), *args]
    if upstream_url:
        cmd += ["--upstream", f"mx={upstream_url}"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def describe(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def package_gets(upstream: Upstream) -> list[str]:
    """`subdir/filename` of every package GET the upstream saw, in order."""
    out = []
    for entry in upstream.requests:
        match = PACKAGE_RE.search(entry.path.split("?")[0])
        if entry.method == "GET" and match:
            out.append(f"{match.group(1)}/{match.group(2)}")
    return out


def summary(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """The numbers of the summary line `mirror: N packages: F fetched (…, B bytes), P already
    present (…, B bytes), X failed`."""
    match = re.search(r"mirror: (\d+) packages: (\d+) fetched \([^,]*, (\d+) bytes\), (\d+) already present "
                      r"\([^,]*, (\d+) bytes\), (\d+) failed", proc.stdout)
    assert match, f"no summary line:\n{describe(proc)}"
    keys = ("total", "fetched", "fetched_bytes", "present", "present_bytes", "failed")
    return dict(zip(keys, map(int, match.groups())))


def size_of(channel: Path, *files: str) -> int:
    return sum((channel / f).stat().st_size for f in files)


def test_selection_with_deps_is_exact_resumable_and_installs_offline(
        hoard_bin, mx_upstream, mirror_channel, start_hoard, client_dirs, tmp_path):
    root = tmp_path / "root"
    proc = run_mirror(hoard_bin, root, "--channel", "mx", "--subdir", "linux-64", "--package", "mx-app >=2",
                      "--with-deps", "--latest", "1", "--jobs", "4", upstream_url=mx_upstream.url)
    assert proc.returncode == 0, describe(proc)
    wanted = {"linux-64/mx-app-2.0-0.conda", "noarch/mx-lib-2.0-0.conda", "noarch/mx-data-1.0-0.conda"}
    # Exactly the selection: mx-app 2.0 needs mx-lib >=2 (newest: 2.0) and mx-data.
    assert sorted(package_gets(mx_upstream)) == sorted(wanted), describe(proc)
    numbers = summary(proc)
    assert numbers == {"total": 3, "fetched": 3, "fetched_bytes": size_of(mirror_channel, *wanted),
                       "present": 0, "present_bytes": 0, "failed": 0}
    # Not a terminal: one plain line per package.
    for name in wanted:
        assert f"fetched mx/{name} ({size_of(mirror_channel, name)} bytes)" in proc.stdout

    # A re-run fetches nothing.
    mx_upstream.clear_log()
    again = run_mirror(hoard_bin, root, "--channel", "mx", "--subdir", "linux-64", "--package", "mx-app >=2",
                       "--with-deps", "--latest", "1", upstream_url=mx_upstream.url)
    assert again.returncode == 0, describe(again)
    assert package_gets(mx_upstream) == []
    assert summary(again) == {"total": 3, "fetched": 0, "fetched_bytes": 0, "present": 3,
                              "present_bytes": size_of(mirror_channel, *wanted), "failed": 0}

    # Upstream gone: the mirrored selection installs from hoard.
    dead_url = mx_upstream.url
    mx_upstream.stop()
    hoard = start_hoard(upstreams={"mx": dead_url}, root=root)
    prefix, cache = client_dirs()
    result = run_client(hoard.channel_url("mx"), prefix, cache, ["mx-app"], shards=False, max_retries=0)
    assert result.ok, result.describe()
    assert sorted((p["name"], p["version"]) for p in result.installed) == [
        ("mx-app", "2.0"), ("mx-data", "1.0"), ("mx-lib", "2.0")]
    script = Path(prefix) / "bin" / "mx-app"
    assert subprocess.run([str(script)], capture_output=True, text=True).stdout == "mx-app says hello\n"


def test_match_specs_select_versions_and_builds(hoard_bin, mx_upstream, tmp_path):
    root = tmp_path / "root"
    # Default subdirs: this machine's (linux-64 here) and noarch.
    proc = run_mirror(hoard_bin, root, "--channel", "mx", "--package", "mx-tool=3.*=*_1", "--package", "mx-lib 1.*",
                      upstream_url=mx_upstream.url)
    assert proc.returncode == 0, describe(proc)
    assert sorted(package_gets(mx_upstream)) == [
        "linux-64/mx-tool-3.1-h1_1.conda", "noarch/mx-lib-1.0-0.conda", "noarch/mx-lib-1.5-0.conda"]

    mx_upstream.clear_log()
    nothing = run_mirror(hoard_bin, root, "--channel", "mx", "--package", "mx-app >=9", upstream_url=mx_upstream.url)
    assert nothing.returncode != 0, describe(nothing)
    assert "mx-app >=9" in nothing.stderr and "nothing" in nothing.stderr
    assert package_gets(mx_upstream) == []

    bad = run_mirror(hoard_bin, root, "--channel", "mx", "--package", "mx-app >=", upstream_url=mx_upstream.url)
    assert bad.returncode != 0 and "invalid" in bad.stderr, describe(bad)
    unknown = run_mirror(hoard_bin, root, "--channel", "nope", upstream_url=mx_upstream.url)
    assert unknown.returncode != 0 and "nope" in unknown.stderr, describe(unknown)


def test_failure_gives_nonzero_exit_and_rerun_fetches_only_what_is_missing(hoard_bin, mx_upstream, mirror_channel, tmp_path):
    root = tmp_path / "root"
    mx_upstream.set_fault("/channel/noarch/mx-data-1.0-0.conda", "fail", status=503)
    proc = run_mirror(hoard_bin, root, "--channel", "mx", "--jobs", "3", upstream_url=mx_upstream.url)
    assert proc.returncode != 0, describe(proc)
    everything = {f"{subdir}/{p.name}" for subdir in ("linux-64", "noarch") for p in (mirror_channel / subdir).glob("*.conda")}
    numbers = summary(proc)
    assert numbers["total"] == len(everything) and numbers["failed"] == 1 and numbers["fetched"] == len(everything) - 1
    assert "failed: mx/noarch/mx-data-1.0-0.conda" in proc.stderr and "503" in proc.stderr

    mx_upstream.clear_faults()
    mx_upstream.clear_log()
    again = run_mirror(hoard_bin, root, "--channel", "mx", upstream_url=mx_upstream.url)
    assert again.returncode == 0, describe(again)
    assert package_gets(mx_upstream) == ["noarch/mx-data-1.0-0.conda"]
    numbers = summary(again)
    assert (numbers["fetched"], numbers["present"], numbers["failed"]) == (1, len(everything) - 1, 0)
    assert numbers["fetched_bytes"] == size_of(mirror_channel, "noarch/mx-data-1.0-0.conda")


def test_progress_line_on_a_terminal(hoard_bin, mx_upstream, tmp_path):
    """With standard error on a terminal: one progress line rewritten in place, no per-package
    lines on standard output; the summary stays on standard output."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.run([str(hoard_bin), "mirror", "--root", str(tmp_path / "root"), "--log-level", "warning",
                               "--upstream", f"mx={mx_upstream.url}", "--channel", "mx", "--package", "mx-lib"],
                              stdout=subprocess.PIPE, stderr=slave, timeout=120)
    finally:
        os.close(slave)
    terminal = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not chunk:
            break
        terminal += chunk
    os.close(master)
    out = proc.stdout.decode()
    assert proc.returncode == 0, f"{out}\n{terminal!r}"
    assert b"\r\x1b[K[1/3] fetched" in terminal and b"\r\x1b[K[3/3] fetched 3" in terminal, terminal
    assert "fetched mx/" not in out and summary(subprocess.CompletedProcess([], 0, out, ""))["fetched"] == 3


def test_rerun_sees_what_the_channel_gained(hoard_bin, mirror_channel, tmp_path):
    """A re-run revalidates the repodata it holds once stale (here: at once, max-age=0) before
    selecting, so a release published since the last run is mirrored."""
    channel = tmp_path / "channel"
    shutil.copytree(mirror_channel, channel)
    root = tmp_path / "root"
    with Upstream(channel, prefix="/channel", max_age=0) as upstream:
        first = run_mirror(hoard_bin, root, "--channel", "mx", "--package", "mx-lib", "--latest", "1",
                           upstream_url=upstream.url)
        assert first.returncode == 0, describe(first)
        assert package_gets(upstream) == ["noarch/mx-lib-2.0-0.conda"]

        added = subprocess.run([sys.executable, str(HERE / "mirror_fixtures.py"), "add", str(channel), "mx-lib", "3.0"],
                               capture_output=True, text=True, timeout=120)
        assert added.returncode == 0, added.stderr
        upstream.clear_log()
        second = run_mirror(hoard_bin, root, "--channel", "mx", "--package", "mx-lib", "--latest", "1",
                            upstream_url=upstream.url)
        assert second.returncode == 0, describe(second)
        assert package_gets(upstream) == ["noarch/mx-lib-3.0-0.conda"], describe(second)


@pytest.fixture
def lock_files(mx_upstream, tmp_path) -> dict:
    out = tmp_path / "locks"
    proc = subprocess.run([sys.executable, str(HERE / "mirror_fixtures.py"), "locks", mx_upstream.url, str(out), "mx-app"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, f"writing the lock files failed:\n{proc.stdout}\n{proc.stderr}"
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    mx_upstream.clear_log()
    return {"dir": out, **info}


@pytest.mark.parametrize("name", ["pixi.lock", "conda-lock.yml", "explicit-md5.txt", "explicit-sha256.txt"])
def test_lockfile_mirrors_exactly_what_it_names(name, hoard_bin, mx_upstream, mirror_channel, lock_files,
                                                start_hoard, client_dirs, tmp_path):
    root = tmp_path / "root"
    lock = lock_files["dir"] / name
    wanted = sorted(p["url"].split("/channel/")[1] for p in lock_files["packages"])
    assert wanted == ["linux-64/mx-app-2.0-0.conda", "noarch/mx-data-1.0-0.conda", "noarch/mx-lib-2.0-0.conda"]
    proc = run_mirror(hoard_bin, root, "--lockfile", str(lock), upstream_url=mx_upstream.url)
    assert proc.returncode == 0, describe(proc) + "\n--- lock file\n" + lock.read_text()
    assert sorted(package_gets(mx_upstream)) == wanted
    assert summary(proc)["fetched"] == 3 and summary(proc)["fetched_bytes"] == size_of(mirror_channel, *wanted)

    mx_upstream.clear_log()
    again = run_mirror(hoard_bin, root, "--lockfile", str(lock), upstream_url=mx_upstream.url)
    assert again.returncode == 0, describe(again)
    assert package_gets(mx_upstream) == [] and summary(again)["present"] == 3

    # With the upstream gone, hoard serves exactly those bytes.
    dead_url = mx_upstream.url
    mx_upstream.stop()
    hoard = start_hoard(upstreams={"mx": dead_url}, root=root)
    for package in lock_files["packages"]:
        path = "/mx/" + package["url"].split("/channel/")[1]
        resp = request(hoard.port, "GET", path)
        assert resp.status == 200, path
        assert hashlib.sha256(resp.body).hexdigest() == package["sha256"]


def test_lockfile_digest_mismatch_is_reported_and_nothing_wrong_is_stored(
        hoard_bin, mx_upstream, mirror_channel, lock_files, start_hoard, tmp_path):
    root = tmp_path / "root"
    packages = {p["url"].rsplit("/", 1)[1]: p for p in lock_files["packages"]}
    wrong = "0" * 64
    lines = ["@EXPLICIT"]
    for filename, p in packages.items():
        lines.append(f"{p['url']}#sha256:{wrong if filename.startswith('mx-data') else p['sha256']}")
    lock = tmp_path / "bad-sha256.txt"
    lock.write_text("\n".join(lines) + "\n")
    proc = run_mirror(hoard_bin, root, "--lockfile", str(lock), upstream_url=mx_upstream.url)
    assert proc.returncode != 0, describe(proc)
    assert "failed: mx/noarch/mx-data-1.0-0.conda" in proc.stderr and wrong in proc.stderr, describe(proc)
    numbers = summary(proc)
    assert (numbers["fetched"], numbers["failed"]) == (2, 1)

    # An md5 that disagrees with the channel's repodata fails before any download.
    mx_upstream.clear_log()
    md5_lock = tmp_path / "bad-md5.txt"
    md5_lock.write_text("@EXPLICIT\n" + packages["mx-lib-2.0-0.conda"]["url"].replace("mx-lib-2.0", "mx-lib-1.5")
                        + "#" + "f" * 32 + "\n")
    md5_proc = run_mirror(hoard_bin, root, "--lockfile", str(md5_lock), upstream_url=mx_upstream.url)
    assert md5_proc.returncode != 0 and "md5" in md5_proc.stderr and "mismatch" in md5_proc.stderr, describe(md5_proc)
    assert package_gets(mx_upstream) == []

    # Nothing wrong was stored: with the upstream gone, hoard has neither file.
    dead_url = mx_upstream.url
    mx_upstream.stop()
    hoard = start_hoard(upstreams={"mx": dead_url}, root=root)
    assert request(hoard.port, "GET", "/mx/noarch/mx-data-1.0-0.conda").status != 200
    assert request(hoard.port, "GET", "/mx/noarch/mx-lib-1.5-0.conda").status != 200
    assert request(hoard.port, "GET", "/mx/noarch/mx-lib-2.0-0.conda").status == 200
    blobs = [p.name for p in root.rglob("*") if p.is_file()]
    data_sha = packages["mx-data-1.0-0.conda"]["sha256"]
    assert not any(data_sha in name for name in blobs)
