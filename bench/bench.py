#!/usr/bin/env python3
"""hoard benchmarks against Debian nginx (static, proxy_store) and quetz-server's proxy channel.

Usage: bench.py SECTION...   (sections: setup cached repodata oci tls cold singleflight memory
                              pipeline summary stop; `all` runs them in order)

hoard runs twice where the fast path matters (cached, repodata, oci blobs, tls, memory): with it and
with `--no-fast-path`, side by side in the same runs as the reference server.

Everything lives under $BENCH_WORK (default /tmp/hoard-bench); results accumulate in
$BENCH_WORK/results.json (one entry per figure, with the load averages when it was taken) and
`summary` prints them as a markdown table. Servers bind 127.0.0.1 only; every load loop is
bounded in time. Environment: HOARD (binary), REPODATA_BENCH (binary), QUETZ_VENV,
COLD_RUNS (default 5), COLD_1G_RUNS (default 3, 0 skips), CURL_RUNS (default 7), WRK_SECONDS (10),
OCI_WRK_REPS (3), OCI_PULL_RUNS (3), BENCH_PORT_OFFSET (0).
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
W = os.environ.get("BENCH_WORK", "/tmp/hoard-bench")
HOARD = os.environ.get("HOARD", os.path.join(REPO, ".build/release/hoard"))
REPODATA_BENCH = os.environ.get("REPODATA_BENCH", os.path.join(REPO, ".build/release/hoard-repodata-bench"))
QUETZ_VENV = os.environ.get("QUETZ_VENV", "/tmp/quetz-venv")
COLD_RUNS = int(os.environ.get("COLD_RUNS", "5"))
COLD_1G_RUNS = int(os.environ.get("COLD_1G_RUNS", "3"))
CURL_RUNS = int(os.environ.get("CURL_RUNS", "7"))
WRK_SECONDS = int(os.environ.get("WRK_SECONDS", "10"))

# BENCH_PORT_OFFSET moves every port (two bench runs on one machine must not share them).
PORT_OFFSET = int(os.environ.get("BENCH_PORT_OFFSET", "0"))
UP, STATIC, PSTORE, HOARD_PORT, QUETZ_PORT = (p + PORT_OFFSET for p in (18081, 18082, 18083, 18090, 18095))
NGINX_TLS = 18084 + PORT_OFFSET                   # nginx over TLS: the same files as STATIC
CHANNEL = os.path.join(W, "www/channel")          # the upstream conda channel (noarch only)
BIGCHAN = os.path.join(W, "www/bigchan")          # upstream with the 500k-record repodata
MiB = 1 << 20
FILE_100M = "bench-1.0-0_100m.conda"
FILE_1G = "bench-1.0-0_1g.conda"
SMALL_PACKAGES = 12                               # makes noarch/repodata.json a few KB


def cold_name(kind: str, i) -> str:
    return f"cold{kind}-1.0-r{i}.conda"


# ---------------------------------------------------------------- helpers

def log(*a):
    print(*a, file=sys.stderr, flush=True)


def loadavg() -> str:
    return " ".join(open("/proc/loadavg").read().split()[:3])


def results() -> dict:
    path = os.path.join(W, "results.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def record(key: str, **fields):
    data = results()
    fields["load"] = fields.get("load", loadavg())
    fields["at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    data[key] = fields
    with open(os.path.join(W, "results.json.tmp"), "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(os.path.join(W, "results.json.tmp"), os.path.join(W, "results.json"))
    log(f"  == {key}: {fields}")


def curl(url: str, out: str = "/dev/null") -> dict:
    fmt = "%{http_code} %{time_starttransfer} %{time_total} %{size_download}"
    insecure = ["-k"] if url.startswith("https:") else []   # the bench's self-signed certificate
    p = subprocess.run(["curl", "-s", *insecure, "-o", out, "-w", fmt, url], capture_output=True, text=True, timeout=600)
    code, ttfb, total, size = p.stdout.split()
    return {"code": int(code), "ttfb": float(ttfb), "total": float(total), "size": int(size),
            "mibs": int(size) / MiB / float(total) if float(total) > 0 else 0.0}


def get_ok(url: str, size: int | None = None) -> dict:
    r = curl(url)
    if r["code"] != 200 or (size is not None and r["size"] != size):
        raise SystemExit(f"GET {url}: {r}")
    return r


def wrk(url: str, threads: int, conns: int, seconds: int = WRK_SECONDS, headers=()) -> dict:
    hargs = [a for h in headers for a in ("-H", h)]
    p = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", *hargs, url],
                       capture_output=True, text=True, timeout=seconds + 60)
    out = p.stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    m = re.search(r"Transfer/sec:\s*([\d.]+)(B|KB|MB|GB)", out)
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    return {"rps": rps, "mibs": float(m.group(1)) * scale / MiB, "non2xx": int(errors.group(1)) if errors else 0,
            "sockerr": sockerr.group(1) if sockerr else "", "p50": p50.group(1) if p50 else "",
            "p99": p99.group(1) if p99 else ""}


def wait_http(url: str, seconds: float = 60):
    import ssl
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as r:
                r.read()
                return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up in {seconds}s")


def vmhwm_kb(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def warm_page_cache(path: str):
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def median(values):
    return statistics.median(values)


# ---------------------------------------------------------------- hoard

class Hoard:
    """One hoard process on a fresh (or given) root."""

    def __init__(self, root: str | None = None, fresh: bool = True, upstreams=None, extra=(), fast: bool = True,
                 tls: bool = False, port: int | None = None):
        port = port or HOARD_PORT
        self.root = root or os.path.join(W, "hoard-root")
        if fresh and os.path.exists(self.root):
            shutil.rmtree(self.root)
        os.makedirs(self.root, exist_ok=True)
        upstreams = upstreams or {"bench": f"http://127.0.0.1:{UP}/channel"}
        args = [HOARD, "serve", "--root", self.root, "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning"]
        for name, url in upstreams.items():
            args += ["--upstream", f"{name}={url}"]
        args += list(extra)
        if not fast:
            args.append("--no-fast-path")
        if tls:
            cert, key = tls_files()
            args += ["--tls-cert", cert, "--tls-key", key]
        self.log = open(os.path.join(W, "logs/hoard.log"), "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        wait_http(self.base + "/healthz")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- nginx

NGINX_CONF = """
user root;  # the workers write proxy_store files into the bench work dir
worker_processes 2;
pid {w}/nginx/nginx.pid;
error_log {w}/nginx/error.log warn;
events {{ worker_connections 4096; }}
http {{
    default_type application/octet-stream;
    types {{ application/json json; }}
    sendfile on;
    tcp_nopush on;
    keepalive_requests 10000000;
    keepalive_timeout 65;
    access_log off;
    client_body_temp_path {w}/nginx/tmp/body;
    proxy_temp_path {w}/nginx/tmp/proxy;
    fastcgi_temp_path {w}/nginx/tmp/fastcgi;
    uwsgi_temp_path {w}/nginx/tmp/uwsgi;
    scgi_temp_path {w}/nginx/tmp/scgi;

    # The upstream conda channel(s); its access log counts upstream requests.
    server {{
        listen 127.0.0.1:{up};
        root {w}/www;
        access_log {w}/nginx/upstream.log;
    }}
    # The static reference for cached figures: the same files, no log.
    server {{
        listen 127.0.0.1:{static};
        root {w}/www;
    }}
    # The same files over TLS (the bench's self-signed certificate).
    server {{
        listen 127.0.0.1:{tls} ssl;
        ssl_certificate {w}/tls/cert.pem;
        ssl_certificate_key {w}/tls/key.pem;
        root {w}/www;
    }}
    # Pull-through reference: proxy_pass + proxy_store from the upstream.
    server {{
        listen 127.0.0.1:{pstore};
        location / {{
            root {w}/pstore;
            try_files $uri @fetch;
        }}
        location @fetch {{
            proxy_pass http://127.0.0.1:{up};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffer_size 256k;
            proxy_buffers 16 256k;
            proxy_busy_buffers_size 512k;
            proxy_store on;
            proxy_store_access user:rw group:rw all:r;
            proxy_temp_path {w}/pstore-tmp;
            root {w}/pstore;
        }}
    }}
}}
"""


def tls_files() -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 in the work dir (made once with openssl)."""
    d = os.path.join(W, "tls")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    if not os.path.exists(cert):
        os.makedirs(d, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def nginx_pid() -> int | None:
    path = os.path.join(W, "nginx/nginx.pid")
    if not os.path.exists(path):
        return None
    pid = int(open(path).read().strip() or 0)
    try:
        os.kill(pid, 0)
        return pid
    except OSError:
        return None


def start_nginx():
    if nginx_pid():
        return
    for d in ("nginx/tmp", "pstore", "pstore-tmp", "logs"):
        os.makedirs(os.path.join(W, d), exist_ok=True)
    conf = os.path.join(W, "nginx/nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(w=W, up=UP, static=STATIC, pstore=PSTORE, tls=NGINX_TLS))
    tls_files()
    subprocess.run(["nginx", "-c", conf, "-p", os.path.join(W, "nginx")], check=True)
    wait_http(f"http://127.0.0.1:{STATIC}/channel/noarch/repodata.json")


def stop_nginx():
    pid = nginx_pid()
    if pid:
        os.kill(pid, signal.SIGQUIT)


def fresh_pstore():
    for d in ("pstore", "pstore-tmp"):
        shutil.rmtree(os.path.join(W, d), ignore_errors=True)
        os.makedirs(os.path.join(W, d))


def upstream_requests(filename: str) -> int:
    path = os.path.join(W, "nginx/upstream.log")
    return sum(1 for line in open(path) if f"/{filename} " in line) if os.path.exists(path) else 0


# ---------------------------------------------------------------- quetz

def quetz_python() -> str:
    return os.path.join(QUETZ_VENV, "bin/python")


class Quetz:
    """quetz-server 0.10.4 with one proxy channel `fixture` mirroring the upstream channel."""

    def __init__(self):
        self.dir = os.path.join(W, "quetz")
        self.log = open(os.path.join(W, "logs/quetz.log"), "a")
        if not os.path.exists(os.path.join(self.dir, "ready")):
            subprocess.run([quetz_python(), os.path.join(HERE, "quetz_setup.py"), "init", self.dir],
                           check=True, stdout=self.log, stderr=subprocess.STDOUT)
        args = [os.path.join(QUETZ_VENV, "bin/quetz"), "start", self.dir, "--host", "127.0.0.1",
                "--port", str(QUETZ_PORT)]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir,
                                     env={**os.environ, "QUETZ_CONFIG_FILE": os.path.join(self.dir, "config.toml")},
                                     start_new_session=True)
        self.base = f"http://127.0.0.1:{QUETZ_PORT}"
        wait_http(self.base + "/api/channels", 90)
        if not os.path.exists(os.path.join(self.dir, "channel-made")):
            subprocess.run([quetz_python(), os.path.join(HERE, "quetz_setup.py"), "channel", self.dir,
                            self.base, f"http://127.0.0.1:{UP}/channel"], check=True, stdout=self.log, stderr=subprocess.STDOUT)
            open(os.path.join(self.dir, "channel-made"), "w").close()
        self.channel = self.base + "/get/fixture"

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def quetz_available() -> bool:
    return os.path.exists(os.path.join(QUETZ_VENV, "bin/quetz"))


# ---------------------------------------------------------------- sections

def setup():
    os.makedirs(os.path.join(W, "logs"), exist_ok=True)
    makes = [FILE_100M + "=100M", FILE_1G + "=1G"]
    makes += [f"small{i:02d}-1.{i}-0.conda=4K" for i in range(SMALL_PACKAGES)]
    makes += [cold_name("100m", i) + "=100M" for i in range(COLD_RUNS)]
    makes += [cold_name("100m", "sf") + "=100M", cold_name("1g", "mem") + "=1G"]
    makes += [cold_name("1g", i) + "=1G" for i in range(COLD_1G_RUNS)]
    args = [sys.executable, os.path.join(HERE, "index_channel.py"), CHANNEL]
    for m in makes:
        args += ["--make", m]
    subprocess.run(args, check=True)
    start_nginx()


def minflt(pid: int) -> int:
    return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[7])


def cached_pair(url_of, url_n: str, size: int, label: str, tls: bool = False):
    """One cached file: hoard with the fast path, hoard without it, and nginx, side by side: one
    curl stream (interleaved runs) and wrk -t2 -c4. `url_of(hoard)` is the file's URL there."""
    hoards = {}
    try:
        for mode in ("fast", "nofast"):
            # Both processes run at once on their own roots (each pulled the file through once),
            # so their runs interleave with nginx's under the same load.
            h = Hoard(os.path.join(W, f"hoard-root-{label}-{mode}"), fast=(mode == "fast"), tls=tls,
                      port=HOARD_PORT + (0 if mode == "fast" else 1))
            hoards[mode] = h
            get_ok(url_of(h), size)                  # pull through once
        time.sleep(0.5)
        for _ in range(2):
            for h in hoards.values():
                get_ok(url_of(h), size)              # from the store (the second publishes it)
            get_ok(url_n, size)
        load = loadavg()
        runs = {"fast": [], "nofast": [], "nginx": []}
        cpu0 = {m: cpu_seconds(h.pid) for m, h in hoards.items()}
        flt0 = {m: minflt(h.pid) for m, h in hoards.items()}
        for _ in range(CURL_RUNS):                  # interleaved, so load hits all alike
            for m, h in hoards.items():
                runs[m].append(get_ok(url_of(h), size)["mibs"])
            runs["nginx"].append(get_ok(url_n, size)["mibs"])
        gib = CURL_RUNS * size / (1 << 30)
        fields = {}
        for m, h in hoards.items():
            fields[f"{m}_cpu_s_per_gib"] = round((cpu_seconds(h.pid) - cpu0[m]) / gib, 3)
            fields[f"{m}_minflt_per_gib"] = round((minflt(h.pid) - flt0[m]) / gib)
        record(f"{label}_curl", hoard=median(runs["fast"]), hoard_nofast=median(runs["nofast"]), nginx=median(runs["nginx"]),
               ratio=median(runs["fast"]) / median(runs["nginx"]), ratio_nofast=median(runs["nofast"]) / median(runs["nginx"]),
               hoard_runs=[round(x) for x in runs["fast"]], nofast_runs=[round(x) for x in runs["nofast"]],
               nginx_runs=[round(x) for x in runs["nginx"]], load=load, unit="MiB/s", **fields)
        load = loadavg()
        runs = {"fast": [], "nofast": [], "nginx": []}
        for _ in range(3):
            for m, h in hoards.items():
                runs[m].append(wrk(url_of(h), 2, 4)["mibs"])
            runs["nginx"].append(wrk(url_n, 2, 4)["mibs"])
        record(f"{label}_wrk", hoard=median(runs["fast"]), hoard_nofast=median(runs["nofast"]), nginx=median(runs["nginx"]),
               ratio=median(runs["fast"]) / median(runs["nginx"]), ratio_nofast=median(runs["nofast"]) / median(runs["nginx"]),
               hoard_runs=[round(x) for x in runs["fast"]], nofast_runs=[round(x) for x in runs["nofast"]],
               nginx_runs=[round(x) for x in runs["nginx"]], load=load, unit="MiB/s")
    finally:
        for h in hoards.values():
            h.stop()


def cached():
    """Cached 100 MiB package: hoard (fast path on and off) vs nginx, one curl stream and wrk -t2 -c4."""
    warm_page_cache(os.path.join(CHANNEL, "noarch", FILE_100M))
    cached_pair(lambda h: f"{h.base}/bench/noarch/{FILE_100M}", f"http://127.0.0.1:{STATIC}/channel/noarch/{FILE_100M}",
                100 * MiB, "cached100")


def repodata_pair(label: str, conns_list=(64,), tls: bool = False):
    """Small repodata.json requests/s: hoard (fast path on and off) vs nginx serving the same bytes."""
    hoards = {}
    try:
        for mode in ("fast", "nofast"):
            hoards[mode] = Hoard(os.path.join(W, f"hoard-root-{label}-{mode}"), fast=(mode == "fast"), tls=tls,
                                 port=HOARD_PORT + (0 if mode == "fast" else 1))
        url_of = lambda h: f"{h.base}/bench/noarch/repodata.json"
        os.makedirs(os.path.join(W, "www/static"), exist_ok=True)
        served = os.path.join(W, "www/static/repodata.json")
        for h in hoards.values():
            get_ok(url_of(h))
        subprocess.run(["curl", "-s", "-k", "-o", served, url_of(hoards["fast"])], check=True)
        url_n = f"{'https' if tls else 'http'}://127.0.0.1:{NGINX_TLS if tls else STATIC}/static/repodata.json"
        size = os.path.getsize(served)
        for conns in conns_list:
            load = loadavg()
            runs = {"fast": [], "nofast": [], "nginx": []}
            extra = {}
            for _ in range(3):
                a = wrk(url_of(hoards["fast"]), 2, conns)
                b = wrk(url_of(hoards["nofast"]), 2, conns)
                c = wrk(url_n, 2, conns)
                runs["fast"].append(a["rps"])
                runs["nofast"].append(b["rps"])
                runs["nginx"].append(c["rps"])
                extra = {"hoard_p50_p99": f"{a['p50']} / {a['p99']}", "nofast_p50_p99": f"{b['p50']} / {b['p99']}",
                         "nginx_p50_p99": f"{c['p50']} / {c['p99']}",
                         "hoard_errors": f"{a['non2xx']} {a['sockerr']}; nofast {b['non2xx']} {b['sockerr']}".strip()}
            record(f"{label}_c{conns}", hoard=median(runs["fast"]), hoard_nofast=median(runs["nofast"]), nginx=median(runs["nginx"]),
                   ratio=median(runs["fast"]) / median(runs["nginx"]), ratio_nofast=median(runs["nofast"]) / median(runs["nginx"]),
                   hoard_runs=[round(x) for x in runs["fast"]], nofast_runs=[round(x) for x in runs["nofast"]],
                   nginx_runs=[round(x) for x in runs["nginx"]], size=size, load=load, unit="req/s", **extra)
    finally:
        for h in hoards.values():
            h.stop()


def repodata():
    repodata_pair("repodata", (32, 64))


def tls():
    """The cached GETs over TLS: hoard (fast path on and off; blobs go to Hummingbird under TLS) vs nginx with TLS."""
    warm_page_cache(os.path.join(CHANNEL, "noarch", FILE_100M))
    cached_pair(lambda h: f"{h.base}/bench/noarch/{FILE_100M}", f"https://127.0.0.1:{NGINX_TLS}/channel/noarch/{FILE_100M}",
                100 * MiB, "tls_cached100", tls=True)
    repodata_pair("tls_repodata", (64,), tls=True)


def cold_one(kind: str, i, quetz: "Quetz | None", order: int) -> dict:
    """One cold run of file i: direct, nginx proxy_store, hoard (fresh root), quetz."""
    name = cold_name(kind, i)
    size = os.path.getsize(os.path.join(CHANNEL, "noarch", name))
    warm_page_cache(os.path.join(CHANNEL, "noarch", name))
    out = {}

    def direct():
        out["direct"] = get_ok(f"http://127.0.0.1:{UP}/channel/noarch/{name}", size)

    def pstore():
        fresh_pstore()
        os.sync()
        out["nginx"] = get_ok(f"http://127.0.0.1:{PSTORE}/channel/noarch/{name}", size)
        assert os.path.getsize(os.path.join(W, "pstore/channel/noarch", name)) == size

    def hoard():
        with Hoard() as h:
            get_ok(f"{h.base}/bench/noarch/repodata.json")     # a client reads repodata first
            os.sync()
            cpu0 = cpu_seconds(h.pid)
            out["hoard"] = get_ok(f"{h.base}/bench/noarch/{name}", size)
            time.sleep(0.3)
            out["hoard"]["cpu_s_per_gib"] = (cpu_seconds(h.pid) - cpu0) / (size / (1 << 30))
            # the blob was stored: a second GET is served from the store
            again = get_ok(f"{h.base}/bench/noarch/{name}", size)
            out["hoard"]["second_get_mibs"] = again["mibs"]

    def quetz_run():
        if quetz:
            os.sync()
            out["quetz"] = get_ok(f"{quetz.channel}/noarch/{name}", size)

    steps = [direct, pstore, hoard, quetz_run]
    steps = steps[order % 4:] + steps[:order % 4]
    for step in steps:
        step()
    return out


def cold():
    """Cold miss: time to first byte and throughput, against direct and nginx proxy_store (and quetz)."""
    quetz = Quetz() if quetz_available() else None
    try:
        if quetz:
            # quetz fetches and caches repodata on first use: do that before timing packages
            get_ok(f"{quetz.channel}/noarch/repodata.json")
        for kind, runs in (("100m", COLD_RUNS), ("1g", COLD_1G_RUNS)):
            if runs == 0:
                continue
            load = loadavg()
            rows = [cold_one(kind, i, quetz, i) for i in range(runs)]
            servers = [s for s in ("direct", "nginx", "hoard", "quetz") if s in rows[0]]
            fields = {}
            for s in servers:
                fields[f"{s}_ttfb_ms"] = median(r[s]["ttfb"] for r in rows) * 1000
                fields[f"{s}_mibs"] = median(r[s]["mibs"] for r in rows)
                fields[f"{s}_runs_mibs"] = [round(r[s]["mibs"]) for r in rows]
                fields[f"{s}_runs_ttfb_ms"] = [round(r[s]["ttfb"] * 1000, 2) for r in rows]
            fields["hoard_cpu_s_per_gib"] = round(median(r["hoard"]["cpu_s_per_gib"] for r in rows), 2)
            fields["hoard_second_get_mibs"] = round(median(r["hoard"]["second_get_mibs"] for r in rows))
            fields["ttfb_delta_ms"] = fields["hoard_ttfb_ms"] - fields["direct_ttfb_ms"]
            fields["ratio_vs_nginx"] = fields["hoard_mibs"] / fields["nginx_mibs"]
            record(f"cold{kind}", load=load, **fields)
        if quetz:
            # quetz cached: the files it just pulled through
            url_q = f"{quetz.channel}/noarch/{cold_name('100m', 0)}"
            url_n = f"http://127.0.0.1:{STATIC}/channel/noarch/{cold_name('100m', 0)}"
            load = loadavg()
            qs = [get_ok(url_q, 100 * MiB)["mibs"] for _ in range(3)]
            ns = [get_ok(url_n, 100 * MiB)["mibs"] for _ in range(3)]
            qw, nw = wrk(url_q, 2, 4), wrk(url_n, 2, 4)
            record("quetz_cached100", quetz_curl=median(qs), nginx_curl=median(ns), quetz_wrk=qw["mibs"],
                   nginx_wrk=nw["mibs"], quetz_runs=[round(x) for x in qs], load=load, unit="MiB/s")
            url_q = f"{quetz.channel}/noarch/repodata.json"
            load = loadavg()
            q = wrk(url_q, 2, 32, 5)
            record("quetz_repodata_c32", quetz=q["rps"], errors=f"{q['non2xx']} {q['sockerr']}".strip(),
                   load=load, unit="req/s")
    finally:
        if quetz:
            quetz.stop()


def concurrent_clients(url: str, n: int) -> list[dict]:
    fmt = "%{http_code} %{size_download} %{time_total}"
    procs = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", fmt, "--max-time", "600", url],
                              stdout=subprocess.PIPE, text=True) for _ in range(n)]
    out = []
    for p in procs:
        code, size, total = p.communicate()[0].split()
        out.append({"code": int(code), "size": int(size), "total": float(total)})
    return out


def singleflight():
    """50 concurrent clients on one cold 100 MiB file: upstream requests must be 1."""
    name = cold_name("100m", "sf")
    size = os.path.getsize(os.path.join(CHANNEL, "noarch", name))
    with Hoard() as h:
        get_ok(f"{h.base}/bench/noarch/repodata.json")
        before = upstream_requests(name)
        load = loadavg()
        t0 = time.time()
        rs = concurrent_clients(f"{h.base}/bench/noarch/{name}", 50)
        wall = time.time() - t0
        time.sleep(0.5)
        count = upstream_requests(name) - before
        complete = sum(1 for r in rs if r["code"] == 200 and r["size"] == size)
        record("singleflight50", upstream_requests=count, complete_responses=complete, clients=50,
               wall_s=round(wall, 2), hoard_vmhwm_mb=round(vmhwm_kb(h.pid) / 1024, 1), load=load)


def memory():
    """Peak RSS of hoard serving a 1 GiB file to 50 concurrent clients, cached and cold."""
    root = os.path.join(W, "hoard-root-mem")
    size = 1 << 30
    with Hoard(root) as h:
        get_ok(f"{h.base}/bench/noarch/{FILE_1G}", size)             # store it
        time.sleep(2)                 # the fill commits after the last byte went out: let it finish
    for fast in (True, False):
        with Hoard(root, fresh=False, fast=fast) as h:                # a new process: VmHWM from zero
            for _ in range(2):        # from the store (publishes it to the fast path's table)
                get_ok(f"{h.base}/bench/noarch/{FILE_1G}", size)
                time.sleep(1)
            idle = vmhwm_kb(h.pid)
            load = loadavg()
            cpu0, flt0 = cpu_seconds(h.pid), minflt(h.pid)
            t0 = time.time()
            rs = concurrent_clients(f"{h.base}/bench/noarch/{FILE_1G}", 50)
            wall = time.time() - t0
            complete = sum(1 for r in rs if r["code"] == 200 and r["size"] == size)
            record("memory_cached_1g_x50" + ("" if fast else "_nofast"), vmhwm_mb=round(vmhwm_kb(h.pid) / 1024, 1),
                   idle_vmhwm_mb=round(idle / 1024, 1), complete_responses=complete, wall_s=round(wall, 1),
                   aggregate_mibs=round(50 * 1024 / wall), cpu_s_per_gib=round((cpu_seconds(h.pid) - cpu0) / 50, 3),
                   minflt_per_gib=round((minflt(h.pid) - flt0) / 50), load=load)
    name = cold_name("1g", "mem")
    warm_page_cache(os.path.join(CHANNEL, "noarch", name))
    with Hoard() as h:
        get_ok(f"{h.base}/bench/noarch/repodata.json")
        before = upstream_requests(name)
        load = loadavg()
        t0 = time.time()
        rs = concurrent_clients(f"{h.base}/bench/noarch/{name}", 50)
        wall = time.time() - t0
        time.sleep(0.5)
        complete = sum(1 for r in rs if r["code"] == 200 and r["size"] == size)
        record("memory_cold_1g_x50", vmhwm_mb=round(vmhwm_kb(h.pid) / 1024, 1), complete_responses=complete,
               upstream_requests=upstream_requests(name) - before, wall_s=round(wall, 1), load=load)


def pipeline():
    """hoard-repodata-bench on a 500k-record repodata, then hoard pulling it through end to end."""
    big = os.path.join(BIGCHAN, "linux-64/repodata.json")
    os.makedirs(os.path.dirname(big), exist_ok=True)
    if not os.path.exists(big):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_repodata.py"), "500000", big + ".tmp"], check=True)
        os.replace(big + ".tmp", big)
    if not os.path.exists(big + ".zst") or os.path.getmtime(big + ".zst") < os.path.getmtime(big):
        subprocess.run(["zstd", "-19", "-T2", "-q", "-f", big, "-o", big + ".zst.tmp"], check=True)
        os.replace(big + ".zst.tmp", big + ".zst")
    warm_page_cache(big)
    load = loadavg()
    p = subprocess.run([REPODATA_BENCH, big], capture_output=True, text=True, check=True)
    open(os.path.join(W, "logs/repodata-bench.txt"), "w").write(p.stdout + p.stderr)
    log(p.stdout)
    text = p.stdout
    secs = lambda label: float(re.search(re.escape(label) + r".*?([\d.]+)\s*(ms|s)\b", text).group(1))
    record("pipeline_bench", output=text.strip().splitlines(), doc_mb=round(os.path.getsize(big) / 1e6, 1), load=load)
    with Hoard(upstreams={"big": f"http://127.0.0.1:{UP}/bigchan"}) as h:
        load = loadavg()
        r = get_ok(f"{h.base}/big/linux-64/repodata.json.zst")
        hwm = vmhwm_kb(h.pid)
        r2 = get_ok(f"{h.base}/big/linux-64/repodata.json.zst")
        r3 = get_ok(f"{h.base}/big/linux-64/repodata.json")
        record("pipeline_e2e", cold_zst_s=round(r["total"], 2), cold_zst_bytes=r["size"], vmhwm_mb=round(hwm / 1024, 1),
               vmhwm_after_json_mb=round(vmhwm_kb(h.pid) / 1024, 1), cached_zst_s=round(r2["total"], 3),
               cached_json_s=round(r3["total"], 3), upstream_zst_mb=round(os.path.getsize(big + ".zst") / 1e6, 1),
               doc_mb=round(os.path.getsize(big) / 1e6, 1), load=load)


# ---------------------------------------------------------------- OCI (hoard's /v2 front vs docker-registry)

REG_PORT, REG_PROXY_PORT = 18100 + PORT_OFFSET, 18101 + PORT_OFFSET
OCI_REPO = "bench/blobs"
OCI_USER, OCI_PASS = "bench", "bench-pass"
OCI_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
OCI_WRK_REPS = int(os.environ.get("OCI_WRK_REPS", "3"))
OCI_PULL_RUNS = int(os.environ.get("OCI_PULL_RUNS", "3"))

REGISTRY_CONF = """version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}
http: {{addr: 127.0.0.1:{port}}}
"""


class Registry:
    """Debian's docker-registry (distribution 2.8) on a fresh storage dir; proxy=URL makes it a pull-through cache."""

    def __init__(self, name: str, port: int, proxy: str | None = None, fresh: bool = True):
        self.dir = os.path.join(W, "oci", name)
        if fresh and os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        conf = REGISTRY_CONF.format(root=os.path.join(self.dir, "data"), port=port)
        if proxy:
            conf += f"proxy: {{remoteurl: {proxy}}}\n"
        open(os.path.join(self.dir, "config.yml"), "w").write(conf)
        self.log = open(os.path.join(W, f"logs/registry-{name}.log"), "a")
        self.proc = subprocess.Popen(["docker-registry", "serve", os.path.join(self.dir, "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        wait_http(self.base + "/v2/")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def oci_blobs() -> dict:
    """The blobs to push: random 4 MiB and 100 MiB layers, a tiny config, and the manifest (bytes, digest)."""
    import hashlib
    d = os.path.join(W, "oci/blobs")
    os.makedirs(d, exist_ok=True)
    out = {}
    for name, size in (("4m", 4 * MiB), ("100m", 100 * MiB)):
        path = os.path.join(d, name)
        if not os.path.exists(path) or os.path.getsize(path) != size:
            with open(path + ".tmp", "wb") as f:
                for _ in range(size // MiB):
                    f.write(os.urandom(MiB))
            os.replace(path + ".tmp", path)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(8 * MiB):
                h.update(chunk)
        out[name] = {"path": path, "size": size, "digest": "sha256:" + h.hexdigest()}
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cpath = os.path.join(d, "config")
    open(cpath, "wb").write(config)
    out["config"] = {"path": cpath, "size": len(config), "digest": "sha256:" + hashlib.sha256(config).hexdigest()}
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": out["config"]["digest"],
                   "size": out["config"]["size"]},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": out[k]["digest"],
                    "size": out[k]["size"]} for k in ("4m", "100m")],
    }, separators=(",", ":")).encode()
    out["manifest"] = {"bytes": manifest, "size": len(manifest), "digest": "sha256:" + hashlib.sha256(manifest).hexdigest()}
    return out


def oci_request(base: str, method: str, path: str, body=None, length: int | None = None, headers=None, auth=None):
    """One plain HTTP request (http.client, so a file body streams); returns (status, headers, body)."""
    import base64
    import http.client
    from urllib.parse import urlsplit
    u = urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    if body is not None:
        h["Content-Length"] = str(length if length is not None else len(body))
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


def oci_push(base: str, blobs: dict, auth=None):
    """Distribution spec push: POST an upload, PUT <location>?digest= with the whole blob; then PUT the manifest as v1."""
    from urllib.parse import urlsplit
    for key in ("config", "4m", "100m"):
        b = blobs[key]
        st, hd, data = oci_request(base, "POST", f"/v2/{OCI_REPO}/blobs/uploads/", body=b"", auth=auth)
        if st != 202:
            raise SystemExit(f"POST upload at {base}: {st} {data[:300]!r}")
        loc = {k.lower(): v for k, v in hd.items()}["location"]
        u = urlsplit(loc)
        path = u.path + "?" + (u.query + "&" if u.query else "") + "digest=" + b["digest"]
        with open(b["path"], "rb") as f:
            st, _, data = oci_request(base, "PUT", path, body=f, length=b["size"], auth=auth,
                                      headers={"Content-Type": "application/octet-stream"})
        if st != 201:
            raise SystemExit(f"PUT blob {key} at {base}: {st} {data[:300]!r}")
    m = blobs["manifest"]
    st, _, data = oci_request(base, "PUT", f"/v2/{OCI_REPO}/manifests/v1", body=m["bytes"], auth=auth,
                              headers={"Content-Type": OCI_MANIFEST_TYPE})
    if st != 201:
        raise SystemExit(f"PUT manifest at {base}: {st} {data[:300]!r}")
    for key in ("4m", "100m"):
        get_ok(f"{base}/v2/{OCI_REPO}/blobs/{blobs[key]['digest']}", blobs[key]["size"])


def oci_hoard(root: str, fresh: bool, extra=(), fast: bool = True, port: int | None = None) -> Hoard:
    htpasswd = os.path.join(W, "oci/htpasswd")
    if not os.path.exists(htpasswd):
        os.makedirs(os.path.dirname(htpasswd), exist_ok=True)
        p = subprocess.run(["htpasswd", "-Bbn", OCI_USER, OCI_PASS], capture_output=True, text=True, check=True)
        open(htpasswd, "w").write(p.stdout)
    return Hoard(root, fresh=fresh, extra=["--htpasswd", htpasswd, *extra], fast=fast, port=port)


def oci():
    """hoard's OCI front vs docker-registry: pushed blobs and manifest under wrk, then a 100 MiB pull-through."""
    blobs = oci_blobs()
    hroot = os.path.join(W, "hoard-root-oci")
    with oci_hoard(hroot, True) as h, Registry("reg", REG_PORT) as reg, \
            oci_hoard(hroot + "-nofast", True, fast=False, port=HOARD_PORT + 1) as h2:
        load = loadavg()
        t0 = time.time(); oci_push(h.base, blobs, auth=(OCI_USER, OCI_PASS)); th = time.time() - t0
        t0 = time.time(); oci_push(reg.base, blobs); tr = time.time() - t0
        oci_push(h2.base, blobs, auth=(OCI_USER, OCI_PASS))
        record("oci_push", hoard_s=round(th, 2), registry_s=round(tr, 2), load=load,
               note="config + 4 MiB + 100 MiB (POST, PUT ?digest=) + manifest, one client")
        for key in ("4m", "100m"):
            url_h = f"{h.base}/v2/{OCI_REPO}/blobs/{blobs[key]['digest']}"
            url_h2 = f"{h2.base}/v2/{OCI_REPO}/blobs/{blobs[key]['digest']}"
            url_r = f"{reg.base}/v2/{OCI_REPO}/blobs/{blobs[key]['digest']}"
            for _ in range(2):
                get_ok(url_h, blobs[key]["size"])
                get_ok(url_h2, blobs[key]["size"])
                get_ok(url_r, blobs[key]["size"])
            load = loadavg()
            hw, h2w, rw = [], [], []
            for _ in range(OCI_WRK_REPS):
                a, a2, b = wrk(url_h, 2, 4), wrk(url_h2, 2, 4), wrk(url_r, 2, 4)
                hw.append(a["mibs"])
                h2w.append(a2["mibs"])
                rw.append(b["mibs"])
                if a["non2xx"] or a2["non2xx"] or b["non2xx"]:
                    raise SystemExit(f"non-2xx under wrk: hoard {a} nofast {a2} registry {b}")
            record(f"oci_blob{key}_wrk", hoard=median(hw), hoard_nofast=median(h2w), registry=median(rw),
                   ratio=median(hw) / median(rw), ratio_nofast=median(h2w) / median(rw),
                   hoard_runs=[round(x) for x in hw], nofast_runs=[round(x) for x in h2w],
                   registry_runs=[round(x) for x in rw], load=load, unit="MiB/s")
        accept = f"Accept: {OCI_MANIFEST_TYPE}"
        url_h = f"{h.base}/v2/{OCI_REPO}/manifests/v1"
        url_r = f"{reg.base}/v2/{OCI_REPO}/manifests/v1"
        for url in (url_h, url_r):
            st, _, data = oci_request(url.rsplit("/v2/", 1)[0], "GET", "/v2/" + url.rsplit("/v2/", 1)[1],
                                      headers={"Accept": OCI_MANIFEST_TYPE})
            if st != 200 or data != blobs["manifest"]["bytes"]:
                raise SystemExit(f"GET {url}: {st} {data[:200]!r}")
        load = loadavg()
        hr, rr, extra = [], [], {}
        for _ in range(OCI_WRK_REPS):
            a, b = wrk(url_h, 2, 64, headers=[accept]), wrk(url_r, 2, 64, headers=[accept])
            hr.append(a["rps"])
            rr.append(b["rps"])
            extra = {"hoard_p50_p99": f"{a['p50']} / {a['p99']}", "registry_p50_p99": f"{b['p50']} / {b['p99']}",
                     "errors": f"hoard {a['non2xx']} {a['sockerr']}; registry {b['non2xx']} {b['sockerr']}"}
        record("oci_manifest_c64", hoard=median(hr), registry=median(rr), ratio=median(hr) / median(rr),
               hoard_runs=[round(x) for x in hr], registry_runs=[round(x) for x in rr], size=blobs["manifest"]["size"],
               load=load, unit="req/s", **extra)
    # Pull-through: the registry above (its storage kept) is the upstream of both.
    b = blobs["100m"]
    with Registry("reg", REG_PORT, fresh=False) as reg:
        get_ok(f"{reg.base}/v2/{OCI_REPO}/blobs/{b['digest']}", b["size"])
        load = loadavg()
        rows = []
        for i in range(OCI_PULL_RUNS):
            out = {}

            def via_hoard():
                with oci_hoard(os.path.join(W, "hoard-root-oci-pull"), True,
                               ["--registry", f"up=http://127.0.0.1:{REG_PORT}"]) as h:
                    os.sync()
                    out["hoard"] = get_ok(f"{h.base}/v2/up/{OCI_REPO}/blobs/{b['digest']}", b["size"])
                    out["hoard"]["second_mibs"] = get_ok(f"{h.base}/v2/up/{OCI_REPO}/blobs/{b['digest']}", b["size"])["mibs"]

            def via_registry():
                with Registry("proxy", REG_PROXY_PORT, proxy=f"http://127.0.0.1:{REG_PORT}") as px:
                    os.sync()
                    out["registry"] = get_ok(f"{px.base}/v2/{OCI_REPO}/blobs/{b['digest']}", b["size"])
                    time.sleep(0.5)
                    out["registry"]["second_mibs"] = get_ok(f"{px.base}/v2/{OCI_REPO}/blobs/{b['digest']}", b["size"])["mibs"]

            steps = [via_hoard, via_registry] if i % 2 == 0 else [via_registry, via_hoard]
            for step in steps:
                step()
            rows.append(out)
        fields = {}
        for s in ("hoard", "registry"):
            fields[f"{s}_s"] = median(r[s]["total"] for r in rows)
            fields[f"{s}_ttfb_ms"] = median(r[s]["ttfb"] for r in rows) * 1000
            fields[f"{s}_mibs"] = median(r[s]["mibs"] for r in rows)
            fields[f"{s}_runs_mibs"] = [round(r[s]["mibs"]) for r in rows]
            fields[f"{s}_runs_ttfb_ms"] = [round(r[s]["ttfb"] * 1000, 2) for r in rows]
            fields[f"{s}_second_get_mibs"] = round(median(r[s]["second_mibs"] for r in rows))
        fields["ratio"] = fields["hoard_mibs"] / fields["registry_mibs"]
        record("oci_pull100m", load=load, **fields)


def fmt(x, unit=""):
    if isinstance(x, float):
        return f"{x:,.0f}{unit}" if abs(x) >= 100 else f"{x:.2f}{unit}"
    return f"{x}{unit}"


def summary():
    r = results()
    rows = []

    def row(what, hoard, ref, ratio, goal, met, load):
        rows.append(f"| {what} | {hoard} | {ref} | {ratio} | {goal} | {met} | {load} |")

    def both(x, key="hoard"):
        """`fast (no fast path: slow)` where the run measured both."""
        if f"{key}_nofast" in x:
            return f"{fmt(x[key])} (no fast path {fmt(x[key + '_nofast'])})"
        return fmt(x[key])

    def ratios(x):
        return f"{x['ratio']:.2f}" + (f" ({x['ratio_nofast']:.2f})" if "ratio_nofast" in x else "")

    for key, what, ref, goal, need in (
            ("cached100_curl", "cached 100 MiB, 1 curl stream (median MiB/s)", "nginx", "≥ 0.9", 0.9),
            ("cached100_wrk", "cached 100 MiB, wrk -t2 -c4 (MiB/s)", "nginx", "≥ 0.9", 0.9),
            ("repodata_c32", "repodata.json, wrk -t2 -c32 (req/s)", "nginx", "≥ 0.6", 0.6),
            ("repodata_c64", "repodata.json, wrk -t2 -c64 (req/s)", "nginx", "≥ 0.6", 0.6),
            ("tls_cached100_curl", "TLS: cached 100 MiB, 1 curl stream (MiB/s)", "nginx TLS", "report", None),
            ("tls_cached100_wrk", "TLS: cached 100 MiB, wrk -t2 -c4 (MiB/s)", "nginx TLS", "report", None),
            ("tls_repodata_c64", "TLS: repodata.json, wrk -t2 -c64 (req/s)", "nginx TLS", "report", None)):
        if key in r:
            x = r[key]
            size = f" {x['size']} B" if "size" in x else ""
            met = "" if need is None else ("yes" if x["ratio"] >= need else "NO")
            row(what.replace("repodata.json", f"{size.strip()} repodata.json") if size else what, both(x),
                f"{ref} {fmt(x['nginx'])}", ratios(x), goal, met, x["load"])
    for kind, label in (("100m", "100 MiB"), ("1g", "1 GiB")):
        k = f"cold{kind}"
        if k in r:
            x = r[k]
            row(f"cold {label}: time to first byte (ms)", f"{x['hoard_ttfb_ms']:.2f}",
                f"direct {x['direct_ttfb_ms']:.2f}; nginx proxy_store {x['nginx_ttfb_ms']:.2f}"
                + (f"; quetz {x['quetz_ttfb_ms']:,.0f}" if "quetz_ttfb_ms" in x else ""),
                f"+{x['ttfb_delta_ms']:.2f} ms", "≤ +5 ms", "yes" if x["ttfb_delta_ms"] <= 5 else "NO", x["load"])
            row(f"cold {label}: throughput (MiB/s)", fmt(x["hoard_mibs"]),
                f"nginx proxy_store {fmt(x['nginx_mibs'])}; direct {fmt(x['direct_mibs'])}"
                + (f"; quetz {fmt(x['quetz_mibs'])}" if "quetz_mibs" in x else ""),
                f"{x['ratio_vs_nginx']:.2f}", "≥ 1.2", "yes" if x["ratio_vs_nginx"] >= 1.2 else "NO", x["load"])
    if "quetz_cached100" in r:
        x = r["quetz_cached100"]
        row("quetz cached 100 MiB, curl / wrk -t2 -c4 (MiB/s)", "(see cached rows)",
            f"quetz {fmt(x['quetz_curl'])} / {fmt(x['quetz_wrk'])}; nginx {fmt(x['nginx_curl'])} / {fmt(x['nginx_wrk'])}",
            "", "", "", x["load"])
    if "quetz_repodata_c32" in r:
        x = r["quetz_repodata_c32"]
        row("quetz repodata.json, wrk -t2 -c32 (req/s)", "(see repodata rows)", f"quetz {fmt(x['quetz'])} ({x['errors'] or 'no'} errors)",
            "", "", "", x["load"])
    if "singleflight50" in r:
        x = r["singleflight50"]
        row("50 clients, one cold 100 MiB file: upstream requests", f"{x['upstream_requests']} ({x['complete_responses']}/50 complete)",
            "", "", "= 1", "yes" if x["upstream_requests"] == 1 and x["complete_responses"] == 50 else "NO", x["load"])
    for k, label in (("memory_cached_1g_x50", "cached"), ("memory_cached_1g_x50_nofast", "cached, no fast path"),
                     ("memory_cold_1g_x50", "cold")):
        if k in r:
            x = r[k]
            extra = f", {x['upstream_requests']} upstream req" if "upstream_requests" in x else ""
            row(f"peak RSS, 1 GiB to 50 clients, {label} (MB)", f"{x['vmhwm_mb']}",
                f"{x['complete_responses']}/50 complete{extra}", "", "< 150", "yes" if x["vmhwm_mb"] < 150 else "NO", x["load"])
    if "pipeline_bench" in r:
        x = r["pipeline_bench"]
        row(f"repodata pipeline, {x['doc_mb']} MB (hoard-repodata-bench)", "see stage times", "", "", "< 2 s, < 2× doc", "see below", x["load"])
    if "pipeline_e2e" in r:
        x = r["pipeline_e2e"]
        row(f"cold GET repodata.json.zst ({x['doc_mb']} MB doc, upstream .zst {x['upstream_zst_mb']} MB)",
            f"{x['cold_zst_s']} s, VmHWM {x['vmhwm_mb']} MB", f"cached: {x['cached_zst_s']} s", "",
            "< 2× doc memory", "yes" if x["vmhwm_mb"] < 2 * x["doc_mb"] else "NO", x["load"])
    for key, label in (("4m", "4 MiB"), ("100m", "100 MiB")):
        if f"oci_blob{key}_wrk" in r:
            x = r[f"oci_blob{key}_wrk"]
            row(f"OCI blob GET {label}, wrk -t2 -c4 (MiB/s)", both(x), f"docker-registry {fmt(x['registry'])}",
                ratios(x), "≥ 1.5", "yes" if x["ratio"] >= 1.5 else "NO", x["load"])
    if "oci_manifest_c64" in r:
        x = r["oci_manifest_c64"]
        row(f"OCI manifest GET ({x['size']} B, tag v1), wrk -t2 -c64 (req/s)", fmt(x["hoard"]),
            f"docker-registry {fmt(x['registry'])}", f"{x['ratio']:.2f}", "≥ 2", "yes" if x["ratio"] >= 2 else "NO", x["load"])
    if "oci_pull100m" in r:
        x = r["oci_pull100m"]
        row("OCI pull-through, cold 100 MiB blob: time (s) / MiB/s / first byte (ms)",
            f"{x['hoard_s']:.3f} s / {fmt(x['hoard_mibs'])} / {x['hoard_ttfb_ms']:.1f}",
            f"docker-registry proxy {x['registry_s']:.3f} s / {fmt(x['registry_mibs'])} / {x['registry_ttfb_ms']:.1f}",
            f"{x['ratio']:.2f}", "≥ 1.2", "yes" if x["ratio"] >= 1.2 else "NO", x["load"])
    print("| what | hoard | reference | ratio | goal | met? | load (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if "pipeline_bench" in r:
        print("\nhoard-repodata-bench:\n```\n" + "\n".join(r["pipeline_bench"]["output"]) + "\n```")


def stop():
    stop_nginx()


SECTIONS = {"setup": setup, "cached": cached, "repodata": repodata, "cold": cold, "singleflight": singleflight,
            "memory": memory, "pipeline": pipeline, "oci": oci, "tls": tls, "summary": summary, "stop": stop}


def main():
    names = sys.argv[1:] or ["all"]
    if names == ["all"]:
        names = ["setup", "cached", "repodata", "oci", "tls", "cold", "singleflight", "memory", "pipeline", "summary", "stop"]
    os.makedirs(os.path.join(W, "logs"), exist_ok=True)
    for name in names:
        if name not in SECTIONS:
            raise SystemExit(__doc__)
        if name not in ("setup", "summary", "stop"):
            start_nginx()
        log(f"== {name} (load {loadavg()})")
        SECTIONS[name]()


if __name__ == "__main__":
    main()
