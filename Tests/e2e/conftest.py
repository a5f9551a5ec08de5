"""Shared fixtures: the fixture channel, the fake upstream, and hoard processes.

- `channel_dir` (session): the fixture channel, built once per run in a subprocess (so py-rattler
  is never imported into the pytest process).
- `upstream` (per test): an `Upstream` serving `channel_dir` at http://127.0.0.1:PORT/channel, with
  a fresh request log and no faults.
- `hoard_bin` (session): the hoard binary. Missing binary = test failure, unless the run sets
  `HOARD_E2E_SKIP=1`, which skips every test that needs hoard.
- `start_hoard` (per test): factory `start_hoard(upstreams=None, root=None, port=None)`; the
  default is channel `fixture` -> the test's upstream, root `<tmp>/hoard-root`. Call it twice with
  the same `root` to test a restart. Every process is SIGTERMed at teardown and must exit in 10 s
  (and must not have crashed); the logs of all of a test's hoards are attached to its report
  when it fails.
- `hoard`: one hoard started with the defaults.
- `client_dirs`: `client_dirs()` -> a fresh (prefix, cache) pair, i.e. a cold conda client.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hoard import Hoard, HoardError, hoard_binary  # noqa: E402
from upstream import Upstream  # noqa: E402

HOARD_PROCS = pytest.StashKey[list]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hoard: needs the hoard binary (files test_conda_*.py)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tag every test that uses hoard, so `-m hoard` / `-m 'not hoard'` select them."""
    for item in items:
        if "hoard_bin" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.hoard)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Attach the logs of the test's hoard processes to a failing report (setup or call)."""
    report = yield
    if report.failed and call.when in ("setup", "call"):
        for proc in item.stash.get(HOARD_PROCS, []):
            report.sections.append((f"hoard log (port {proc.port})", proc.log_tail(200)))
    return report


@pytest.fixture(scope="session")
def channel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fixture-channel")
    proc = subprocess.run([sys.executable, str(HERE / "fixture_channel.py"), str(out)],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"building the fixture channel failed ({proc.returncode}):\n{proc.stderr}")
    return out


@pytest.fixture
def upstream(channel_dir: Path):
    server = Upstream(channel_dir, prefix="/channel", max_age=60).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def hoard_bin() -> Path:
    if os.environ.get("HOARD_E2E_SKIP") == "1":
        pytest.skip("HOARD_E2E_SKIP=1: hoard end-to-end tests skipped on request")
    binary = hoard_binary()
    if not binary.is_file() or not os.access(binary, os.X_OK):
        pytest.fail(f"hoard binary not found or not executable: {binary} "
                    "(build it with `swift build`, or set HOARD_BIN; HOARD_E2E_SKIP=1 skips)")
    return binary


@pytest.fixture
def start_hoard(request: pytest.FixtureRequest, hoard_bin: Path, upstream: Upstream, tmp_path: Path):
    procs: list[Hoard] = request.node.stash.setdefault(HOARD_PROCS, [])
    counter = itertools.count(1)

    def start(upstreams: dict[str, str] | None = None, root: Path | None = None,
              port: int | None = None) -> Hoard:
        n = next(counter)
        proc = Hoard(hoard_bin, root or tmp_path / "hoard-root",
                     upstreams if upstreams is not None else {"fixture": upstream.url},
                     log_path=tmp_path / f"hoard-{n}.log", port=port)
        procs.append(proc)
        try:
            return proc.start()
        except HoardError as exc:
            pytest.fail(str(exc), pytrace=False)

    yield start

    problems = []
    for proc in procs:
        if not proc.ready:
            continue  # start-up failure, already reported by start()
        try:
            code = proc.stop()
        except HoardError as exc:
            problems.append(str(exc))
            continue
        if code not in (None, 0, -signal.SIGTERM):
            problems.append(f"hoard (port {proc.port}) exited with {code} on SIGTERM\n{proc.log_tail()}")
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture
def hoard(start_hoard) -> Hoard:
    return start_hoard()


@pytest.fixture
def client_dirs(tmp_path: Path):
    counter = itertools.count(1)

    def fresh() -> tuple[Path, Path]:
        n = next(counter)
        return tmp_path / f"env-{n}", tmp_path / f"client-cache-{n}"

    return fresh
