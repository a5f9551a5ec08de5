#!/usr/bin/env python3
"""Time the web page's listing at conda-forge scale: one subdir of 25,000 package names and
500,000 files (bench/gen_repodata.py 500000, about 280 MB of repodata.json).

Usage: bench/web_page.py [WORK_DIR]   (HOARD_BIN picks the binary, default .build/debug/hoard)

Serves the generated repodata from a local static server (127.0.0.1), starts hoard with it as
channel `big`, lets hoard fetch the repodata once as a client would, then asks for listing
pages (first and deep pages, exact, prefix and substring searches, a search matching nothing)
and prints, per request, the median wall time of the HTTP GET over REPEAT runs and hoard's own
`Server-Timing` figure (search, paging, and the cached-or-not query of the page's rows), and
hoard's CPU time per request (not inflated by other load on the machine). The subdir's record
map (which package checks build too) and its listing index (built by the first listing request,
once per repodata snapshot) are shown apart.
"""
import functools
import http.server
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
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


def cpu_ms(pid: int) -> float:
    """The process's user + system CPU time so far: unlike wall time, not inflated by other
    load on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


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
        pid = hoard.proc.pid
        # A package listed in the repodata but absent upstream: hoard builds the subdir's record
        # map to check it (what the listing then reuses), and upstream answers 404.
        with open(repodata, "rb") as f:
            listed = re.search(rb'"([^"/]+\.(?:conda|tar\.bz2))":', f.read(1 << 16)).group(1).decode()
        cpu, start = cpu_ms(pid), time.perf_counter()
        try:
            urllib.request.urlopen(f"{hoard.url}/big/linux-64/{listed}", timeout=600).read()
        except urllib.error.HTTPError:
            pass
        print(f"record map (package check of {listed}): {(time.perf_counter() - start) * 1000:.0f} ms wall, "
              f"{cpu_ms(pid) - cpu:.0f} ms CPU; hoard RSS {rss_mib(pid):.0f} MiB")
        page = f"{hoard.url}/?channel=big&subdir=linux-64"
        cpu = cpu_ms(pid)
        t, timing, _ = get(page)
        print(f"first listing (groups and sorts the records): {t * 1000:.0f} ms wall, {cpu_ms(pid) - cpu:.0f} ms CPU "
              f"({timing}); hoard RSS {rss_mib(pid):.0f} MiB")
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
        print(f"\n{'request':42} {'wall median':>11} {'wall min':>9} {'CPU median':>10} {'listing median':>14}  (ms)")
        for label, query in cases:
            times, cpus, listings = [], [], []
            for _ in range(REPEAT):
                cpu = cpu_ms(pid)
                t, timing, _ = get(page + query)
                cpus.append(cpu_ms(pid) - cpu)
                times.append(t * 1000)
                listings.append(float(re.search(r"dur=([0-9.]+)", timing).group(1)))
            print(f"{label:42} {statistics.median(times):11.1f} {min(times):9.1f} {statistics.median(cpus):10.0f} "
                  f"{statistics.median(listings):14.1f}")
        print(f"(CPU: hoard's user+system time per request, {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms ticks; "
              "listing: its Server-Timing, search + paging + the cached-or-not query)")
        print(f"\nhoard RSS after: {rss_mib(hoard.proc.pid):.0f} MiB; binary {hoard_binary()}")
    finally:
        hoard.stop()
        server.shutdown()


if __name__ == "__main__":
    main()
