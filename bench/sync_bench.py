"""`hoard sync` against conda-oci-mirror 0.3.0 and a plain `oras push`, to one docker-registry.

    python3 bench/sync_bench.py [small] [large]      (default: both)

- small: a channel of 1,000 small real packages (noarch, built with conda-package-handling,
  indexed with py-rattler): `hoard sync` from a store holding them vs `conda-oci mirror` of the
  same channel (served by a local http.server; its conda.anaconda.org URLs rewritten to it),
  each to a fresh registry; wall time, bytes the registry stored, and the ratio.
- large: 10 packages of 100 MiB (random payload): the same two, plus `oras push` (oras-py, the
  e2e venv) of the same 10 files: bytes/s of each.

hoard fills its store from the same http.server before the timed sync (timed separately and
reported: conda-oci-mirror's run includes its downloads, hoard's sync reads the store).
Both push with 4 workers; conda-oci-mirror with `--upload-delay 0`. The load average is
recorded with every figure. Work files go to $BENCH_WORK (default /tmp/hoard-bench/sync).
HOARD_BIN defaults to .build/release/hoard.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "Tests" / "e2e"))
import registry as reg  # noqa: E402
from hoard import free_port  # noqa: E402

WORK = Path(os.environ.get("BENCH_WORK", "/tmp/hoard-bench")) / "sync"
HOARD = os.environ.get("HOARD_BIN", str(REPO / ".build" / "release" / "hoard"))
E2E_PY = str(REPO / "Tests" / "e2e" / ".venv" / "bin" / "python")
COI_PY = str(REPO / "Tests" / "e2e" / ".venv-coi" / "bin" / "python")
RESULTS = WORK / "results.json"


def log(*a):
    print(*a, flush=True)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ---- channels ------------------------------------------------------------------------------------

BUILD = r'''
import asyncio, hashlib, json, os, random, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from fixture_channel import FixturePackage, build_package
out = Path(sys.argv[2]); count = int(sys.argv[3]); size = int(sys.argv[4]); prefix = sys.argv[5]
for i in range(count):
    payload = random.Random(i).randbytes(size)
    pkg = FixturePackage(name=f"{prefix}{i:04d}", subdir="noarch", files={f"share/{prefix}{i:04d}/data.bin": payload})
    build_package(pkg, out)
from rattler.index import index_fs
asyncio.run(index_fs(out, write_zst=True, write_shards=False, force=True))
'''


def make_channel(name: str, count: int, size: int) -> Path:
    root = WORK / "channels" / name
    if (root / "bench" / "noarch" / "repodata.json").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    (root / "bench" / "noarch").mkdir(parents=True)
    log(f"building {count} packages of {size} B into {root}")
    subprocess.run([E2E_PY, "-c", BUILD, str(REPO / "Tests" / "e2e"), str(root / "bench"), str(count), str(size), name[0]],
                   check=True)
    noarch = root / "bench" / "noarch"
    # conda-oci-mirror reads repodata_from_packages.json too.
    shutil.copy(noarch / "repodata.json", noarch / "repodata_from_packages.json")
    return root


class HttpServer:
    def __init__(self, directory: Path):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(self.port),
                                      "--directory", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=1)
                return
            except OSError:
                time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def files_of(channel: Path) -> list[str]:
    repodata = json.loads((channel / "bench" / "noarch" / "repodata.json").read_text())
    return sorted(repodata.get("packages.conda", {})) + sorted(repodata.get("packages", {}))


# ---- the contenders --------------------------------------------------------------------------------

def fill_store(channel: Path, http: HttpServer, root: Path) -> float:
    shutil.rmtree(root, ignore_errors=True)
    port = free_port()
    proc = subprocess.Popen([HOARD, "serve", "--root", str(root), "--port", str(port), "--log-level", "warning",
                             "--upstream", f"bench=http://127.0.0.1:{http.port}/bench"])
    try:
        base = f"http://127.0.0.1:{port}/bench/noarch/"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        start = time.monotonic()
        urllib.request.urlopen(base + "repodata.json", timeout=60).read()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda f: urllib.request.urlopen(base + f, timeout=300).read(), files_of(channel)))
        return time.monotonic() - start
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run_hoard_sync(root: Path, registry: reg.DockerRegistry) -> dict:
    start = time.monotonic()
    out = subprocess.run([HOARD, "sync", "--root", str(root), "--registry", f"http://127.0.0.1:{registry.port}/hoard",
                          "--jobs", "4"], capture_output=True, text=True)
    wall = time.monotonic() - start
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return {"wall_s": round(wall, 3), "summary": out.stdout.strip().splitlines()[-1], "load": loadavg()}


COI_WRAPPER = r'''
import sys, requests
upstream = sys.argv.pop(1)
original = requests.Session.request
def request(self, method, url, *a, **k):
    for prefix in ("https://conda.anaconda.org/", "https://conda-web.anaconda.org/"):
        if isinstance(url, str) and url.startswith(prefix):
            url = upstream + url[len(prefix):]
    return original(self, method, url, *a, **k)
requests.Session.request = request
from conda_oci_mirror.cli import main
sys.argv[0] = "conda-oci"
sys.exit(main())
'''


def run_coi(http: HttpServer, registry: reg.DockerRegistry, cache: Path) -> dict:
    shutil.rmtree(cache, ignore_errors=True)
    start = time.monotonic()
    out = subprocess.run([COI_PY, "-c", COI_WRAPPER, f"http://127.0.0.1:{http.port}/", "mirror", "--channel", "bench",
                          "--subdir", "noarch", "--registry", f"http://127.0.0.1:{registry.port}/coi", "--workers", "4",
                          "--upload-delay", "0", "--cache-dir", str(cache), "--quiet"],
                         capture_output=True, text=True, env={**os.environ, "ORAS_USER": "", "ORAS_PASS": ""})
    wall = time.monotonic() - start
    ok = out.returncode == 0
    return {"wall_s": round(wall, 3), "ok": ok, "tail": (out.stdout + out.stderr)[-600:] if not ok else "", "load": loadavg()}


ORAS = r'''
import sys, time, oras.client
port, files = sys.argv[1], sys.argv[2:]
client = oras.client.OrasClient(hostname=f"127.0.0.1:{port}", insecure=True)
start = time.monotonic()
client.push(target=f"127.0.0.1:{port}/oras/big:1", files=files, disable_path_validation=True)
print(time.monotonic() - start)
'''


def run_oras(files: list[Path], registry: reg.DockerRegistry) -> dict:
    start = time.monotonic()
    out = subprocess.run([E2E_PY, "-c", ORAS, str(registry.port), *map(str, files)], capture_output=True, text=True)
    wall = time.monotonic() - start
    assert out.returncode == 0, out.stderr[-2000:]
    return {"wall_s": round(wall, 3), "load": loadavg()}


def fresh_registry(name: str) -> reg.DockerRegistry:
    d = WORK / "registries" / name
    shutil.rmtree(d, ignore_errors=True)
    return reg.DockerRegistry(d).start()


def section(name: str, count: int, size: int, with_oras: bool) -> dict:
    channel = make_channel(name, count, size)
    files = [channel / "bench" / "noarch" / f for f in files_of(channel)]
    total = sum(f.stat().st_size for f in files)
    http = HttpServer(channel)
    result: dict = {"packages": len(files), "package_bytes": total, "load_start": loadavg()}
    try:
        root = WORK / f"store-{name}"
        result["hoard_fill_s"] = round(fill_store(channel, http, root), 3)
        r = fresh_registry(f"{name}-hoard")
        try:
            result["hoard_sync"] = run_hoard_sync(root, r)
            result["hoard_sync"]["registry_bytes"] = du(r.dir / "data")
            # Idempotence, timed: nothing to push.
            result["hoard_resync"] = run_hoard_sync(root, r)
        finally:
            r.stop()
        r = fresh_registry(f"{name}-coi")
        try:
            result["conda_oci_mirror"] = run_coi(http, r, WORK / f"coi-cache-{name}")
            result["conda_oci_mirror"]["registry_bytes"] = du(r.dir / "data")
        finally:
            r.stop()
        if with_oras:
            r = fresh_registry(f"{name}-oras")
            try:
                result["oras_push"] = run_oras(files, r)
                result["oras_push"]["registry_bytes"] = du(r.dir / "data")
            finally:
                r.stop()
    finally:
        http.stop()
    h, c = result["hoard_sync"]["wall_s"], result["conda_oci_mirror"]["wall_s"]
    result["ratio_coi_over_hoard"] = round(c / h, 2) if h else None
    result["hoard_bytes_per_s"] = round(total / h) if h else None
    if with_oras:
        result["oras_bytes_per_s"] = round(total / result["oras_push"]["wall_s"])
    result["load_end"] = loadavg()
    return result


def main(argv: list[str]) -> int:
    wanted = argv or ["small", "large"]
    WORK.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "small" in wanted:
        results["small"] = section("small", 1000, 512, with_oras=False)
        log(json.dumps(results["small"], indent=2))
    if "large" in wanted:
        results["large"] = section("large", 10, 100 << 20, with_oras=True)
        log(json.dumps(results["large"], indent=2))
    RESULTS.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
