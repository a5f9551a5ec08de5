"""conda (classic solver) through hoard once the upstream is gone.

conda 26.x asks for `current_repodata.json` first and falls back to `repodata.json` only on a 404;
any 5xx is fatal. hoard must remember the upstream's 404 for a document it has no copy of and
answer it again while the upstream is down, after a restart too (the index keeps it).

- `test_conda_request_sequence_survives_upstream_loss_and_restart` replays conda's requests with
  plain HTTP: it runs everywhere.
- `test_real_conda_installs_through_hoard_with_upstream_down` runs conda itself; it needs
  `HOARD_TEST_CONDA` naming the python of a conda 26.x install (built from its source, see
  ../shared/reference/test-peers.md "Real conda as a client") and is skipped without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from fixture_channel import FX_APP_BANNER
from hoard import Hoard, request
from upstream import Upstream

SUBDIRS = ("linux-64", "noarch")
FX_APP_PACKAGES = {  # what `conda create fx-app` downloads: file name -> subdir
    "fx-app-1.0-0.conda": "linux-64",
    "fx-lib-1.0-0.conda": "noarch",
    "fx-data-1.0-0.conda": "noarch",
}
# Documents the fixture channel does not have: hoard must answer 404 for them, never 5xx.
ABSENT = ("current_repodata.json", "repodata.json.bz2")


def replay_conda(port: int, channel_dir: Path, what: str) -> None:
    """What conda's classic solver asks, and what it needs to hear, for `create fx-app`."""
    for subdir in SUBDIRS:
        for name in ABSENT:
            resp = request(port, "GET", f"/fixture/{subdir}/{name}")
            assert resp.status == 404, \
                f"{what}: {subdir}/{name} answered {resp.status} (conda only falls back on a 404): {resp.text[:300]}"
        resp = request(port, "GET", f"/fixture/{subdir}/repodata.json")
        assert resp.status == 200, f"{what}: {subdir}/repodata.json answered {resp.status}: {resp.text[:300]}"
    for name, subdir in FX_APP_PACKAGES.items():
        resp = request(port, "GET", f"/fixture/{subdir}/{name}")
        assert resp.status == 200, f"{what}: {name} answered {resp.status}"
        expected = hashlib.sha256((channel_dir / subdir / name).read_bytes()).hexdigest()
        assert hashlib.sha256(resp.body).hexdigest() == expected, f"{what}: {name} has the wrong bytes"


def test_conda_request_sequence_survives_upstream_loss_and_restart(start_hoard, upstream, channel_dir, tmp_path):
    root = tmp_path / "hoard-root"
    hoard = start_hoard(root=root)
    replay_conda(hoard.port, channel_dir, "upstream up")
    assert upstream.count("GET", "/channel/linux-64/current_repodata.json") == 1

    upstream.stop()
    replay_conda(hoard.port, channel_dir, "upstream down")

    # A site restarts hoard while offline: the 404s come from the index now.
    hoard.stop()
    hoard = start_hoard(root=root)
    replay_conda(hoard.port, channel_dir, "upstream down, after a restart")


def test_a_remembered_404_is_asked_again_once_stale(hoard_bin, channel_dir, tmp_path):
    """Revalidated like a document: fresh for the TTL, then asked again; a document that appears
    upstream replaces it, in the index too (served after a restart with the upstream down)."""
    channel = tmp_path / "channel"
    shutil.copytree(channel_dir, channel)
    up = Upstream(channel, prefix="/channel", max_age=60).start()
    hoard = Hoard(hoard_bin, tmp_path / "root", {"fixture": up.url}, tmp_path / "hoard.log",
                  extra_args=("--repodata-ttl", "1s"))
    path = "/fixture/linux-64/current_repodata.json"
    try:
        hoard.start()
        assert request(hoard.port, "GET", path).status == 404
        (channel / "linux-64" / "current_repodata.json").write_bytes(
            (channel / "linux-64" / "repodata.json").read_bytes())
        assert request(hoard.port, "GET", path).status == 404, "a fresh 404 is answered without asking upstream"
        assert up.count("GET", "/channel/linux-64/current_repodata.json") == 1

        # Once stale, a request starts the one revalidation (and gets what hoard holds meanwhile).
        time.sleep(1.1)
        deadline = time.monotonic() + 15
        resp = request(hoard.port, "GET", path)
        while resp.status != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            resp = request(hoard.port, "GET", path)
        assert resp.status == 200, f"the document upstream now has was never served: {resp.status} {resp.text[:300]}"
        assert json.loads(resp.body)["packages.conda"], "not the repodata written upstream"

        up.stop()
        hoard.stop()
        hoard.start()
        resp = request(hoard.port, "GET", path)
        assert resp.status == 200, f"after a restart with upstream down: {resp.status} {resp.text[:300]}"
    except Exception:
        print(hoard.log_tail(120))
        raise
    finally:
        hoard.stop()
        up.stop()


# ---- conda itself ---------------------------------------------------------------------------------

CONDA_PYTHON = os.environ.get("HOARD_TEST_CONDA")


def conda_create(python: str, channel_url: str, prefix: Path, scratch: Path, pkgs: Path) -> subprocess.CompletedProcess:
    """`conda create fx-app` with nothing read or written outside `scratch`."""
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    condarc = scratch / "condarc"
    condarc.write_text("channels: []\nsolver: classic\nauto_update_conda: false\nreport_errors: false\n"
                       "notify_outdated_conda: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "_CE_", "MAMBA"))}
    env.update(HOME=str(home), CONDARC=str(condarc), CONDA_PKGS_DIRS=str(pkgs))
    return subprocess.run(
        [python, "-m", "conda", "create", "-y", "-p", str(prefix), "--override-channels", "-c", channel_url,
         "--solver", "classic", "fx-app"],
        env=env, capture_output=True, text=True, timeout=600)


def assert_installed(result: subprocess.CompletedProcess, prefix: Path, what: str) -> None:
    assert result.returncode == 0, f"{what}: conda create failed ({result.returncode})\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True, timeout=10, check=True)
    assert out.stdout.splitlines()[:2] == [FX_APP_BANNER, f"prefix={prefix}"], f"{what}: {out.stdout}"


@pytest.mark.skipif(not CONDA_PYTHON, reason="HOARD_TEST_CONDA is not set: it names the python of a conda 26.x "
                    "built from source (see ../shared/reference/test-peers.md, 'Real conda as a client')")
def test_real_conda_installs_through_hoard_with_upstream_down(start_hoard, upstream, tmp_path):
    root = tmp_path / "hoard-root"
    hoard = start_hoard(root=root)
    scratch = tmp_path / "conda"

    prefix = tmp_path / "env-up"
    assert_installed(conda_create(CONDA_PYTHON, hoard.channel_url(), prefix, scratch, tmp_path / "pkgs-up"),
                     prefix, "upstream up")

    upstream.stop()
    prefix = tmp_path / "env-down"  # a new prefix and a cold package cache: everything from hoard
    assert_installed(conda_create(CONDA_PYTHON, hoard.channel_url(), prefix, scratch, tmp_path / "pkgs-down"),
                     prefix, "upstream down")

    hoard.stop()
    hoard = start_hoard(root=root)
    prefix = tmp_path / "env-restarted"
    assert_installed(conda_create(CONDA_PYTHON, hoard.channel_url(), prefix, scratch, tmp_path / "pkgs-restarted"),
                     prefix, "upstream down, after a hoard restart")
