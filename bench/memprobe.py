#!/usr/bin/env python3
"""Where hoard's memory goes when it serves the cached 1 GiB file (run after `bench.py memory`).

Usage: memprobe.py [slow] [one] [ten] [fifty] [arena] [arena10] [mmap10] [heap10] [mmap50]
Each probe starts hoard on the store the memory section filled, runs the curls, prints VmHWM.
"""
import os, sys, time, subprocess
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench
root = os.path.join(bench.W, "hoard-root-mem")   # has the 1 GiB blob from the memory section
def probe(label, n, rate=None, seconds=None, env=None):
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        with bench.Hoard(root, fresh=False) as h:
            url = f"{h.base}/bench/noarch/{bench.FILE_1G}"
            args = ["curl", "-s", "-o", "/dev/null"] + (["--limit-rate", rate] if rate else []) + (["--max-time", str(seconds)] if seconds else []) + [url]
            t0 = time.time()
            ps = [subprocess.Popen(args) for _ in range(n)]
            samples = []
            for p in ps: p.wait()
            print(f"{label}: n={n} rate={rate} VmHWM={bench.vmhwm_kb(h.pid)/1024:.0f} MB wall={time.time()-t0:.1f}s load={bench.loadavg()}", flush=True)
    finally:
        os.environ.clear(); os.environ.update(old)
which = sys.argv[1:]
if "slow" in which: probe("slow clients", 10, rate="20M", seconds=5)
if "one" in which: probe("1 fast client", 1)
if "ten" in which: probe("10 fast clients", 10)
if "arena" in which: probe("50 fast, MALLOC_ARENA_MAX=2", 50, env={"MALLOC_ARENA_MAX": "2"})
if "fifty" in which: probe("50 fast", 50)
if "arena10" in which: probe("10 fast, MALLOC_ARENA_MAX=1", 10, env={"MALLOC_ARENA_MAX": "1"})
if "mmap10" in which: probe("10 fast, MALLOC_MMAP_THRESHOLD_=131072", 10, env={"MALLOC_MMAP_THRESHOLD_": "131072"})
if "trim10" in which: probe("10 fast, MALLOC_TRIM_THRESHOLD_=0 ", 10, env={"MALLOC_TRIM_THRESHOLD_": "0"})
if "mmap50" in which: probe("50 fast, MALLOC_MMAP_THRESHOLD_=131072", 50, env={"MALLOC_MMAP_THRESHOLD_": "131072"})
if "heap10" in which: probe("10 fast, MALLOC_MMAP_THRESHOLD_=1048576 (static; trim at 128K)", 10, env={"MALLOC_MMAP_THRESHOLD_": "1048576"})
