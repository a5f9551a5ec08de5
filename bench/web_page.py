#!/usr/bin/env python3
"""Time the web page's listing at conda-forge scale: one subdir of 25,000 package names and
500,000 files (bench/gen_repodata.py 500000, about 280 MB of repodata.json).

Usage: bench/web_page.py [WORK_DIR]   (HOARD_BIN picks the binary, default .build/debug/hoard)

Serves the generated repodata from a local static server (127.0.0.1), starts hoard with it as
channel `big`, lets hoard fetch the repodata once as a client would, then asks for listing
pages (first and deep pages, exact, prefix and substring searches, a search matching nothing)
and prints, per request, the median wall time of the HTTP GET over REPEAT runs and hoard's own
`Server-Timing` figure (search, paging, and the cached-or-not query of the page's rows). The
first listing request builds the subdir's index (once per repodata snapshot) and is shown apart.
"""
import functools
import http.server
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "Tests" / "e2e"))
from hoard import Hoard, free_port, hoard_binary  # noqa: E402

REPEAT = int(os.environ.get("REPEAT", "7"))


def get(url: str) -> tuple[float, str, int]:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as r:
        body = r.read()
        timing = r.headers.get("Server-Timing", "")
    return time.perf_counter() - start, timing, len(body)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/hoard-web-bench")
    subdir = work / "www" / "big" / "linux-64"
    subdir.mkdir(parents=True, exist_ok=True)
    repodata = subdir / "repodata.json"
    if not repodata.exists():
        subprocess.run([sys.executable, str(HERE / "gen_repodata.py"), "500000", str(repodata) + ".tmp"], check=True)
        os.replace(str(repodata) + ".tmp", repodata)
    print(f"repodata.json: {repodata.stat().st_size / 1e6:.0f} MB")

    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(work / "www"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    root = work / "hoard-root"
    subprocess.run(["rm", "-rf", str(root)], check=True)
    hoard = Hoard(hoard_binary(), root, {"big": f"http://127.0.0.1:{port}/big"}, log_path=work / "hoard.log",
                  extra_args=("--log-level", "warning")).start(timeout=60)
    try:
        t, _, size = get(f"{hoard.url}/big/linux-64/repodata.json")
        print(f"repodata through hoard: {t:.1f} s, {size / 1e6:.0f} MB; hoard RSS {rss_mib(hoard.proc.pid):.0f} MiB")
        page = f"{hoard.url}/?channel=big&subdir=linux-64"
        t, timing, _ = get(page)
        print(f"first listing (builds the index): {t * 1000:.0f} ms ({timing}); hoard RSS {rss_mib(hoard.proc.pid):.0f} MiB")
        cases = [
            ("page 1", ""),
            ("page 2", "&page=2"),
            ("page 5,000 of 10,000", "&page=5000"),
            ("last page", "&page=10000"),
            ("200 a page", "&per=200"),
            ("exact name 'pkg-01234'", "&q=pkg-01234"),
            ("prefix 'pkg-012' (110 names)", "&q=pkg-012"),
            ("substring '99', page 3", "&q=99&page=3"),
            ("substring 'lib' (3,572 names), page 100", "&q=lib&page=100"),
            ("no match", "&q=zzz-none"),
        ]
        print(f"\n{'request':45} {'median ms':>10} {'min ms':>8}  hoard's Server-Timing (last)")
        for label, query in cases:
            times, timing = [], ""
            for _ in range(REPEAT):
                t, timing, _ = get(page + query)
                times.append(t * 1000)
            print(f"{label:45} {statistics.median(times):10.1f} {min(times):8.1f}  {timing}")
        print(f"\nhoard RSS after: {rss_mib(hoard.proc.pid):.0f} MiB; binary {hoard_binary()}")
    finally:
        hoard.stop()
        server.shutdown()


if __name__ == "__main__":
    main()
