#!/usr/bin/env python3
"""hoard on S3 (SeaweedFS) against Debian's docker-registry with its s3 storage driver on the same SeaweedFS.

Usage: s3_bench.py [SECTION...]   (sections: get pull push memory summary; none = all of them)

One run starts everything it needs and stops it again before it exits (nothing is left running):
- SeaweedFS (`weed mini`, loopback only, every port set) with one bucket `bench`;
- three hoard nodes (`--storage s3://bench/hoard --s3-endpoint http://127.0.0.1:PORT --s3-path-style`,
  each with its own --root) and three docker-registry 2.8.2 instances (s3 driver, rootdirectory
  /registry, one shared http secret) on that bucket;
- Debian nginx: a round-robin balancer over the three hoard nodes and another over the three
  registries (same settings for both);
- a third, local docker-registry on the filesystem: the upstream of both pull-through proxies.

Every figure is recorded in $BENCH_WORK/results.json (default /tmp/hoard-s3-bench) with the load
averages when it was taken; `summary` prints the table. hoard and docker-registry are measured
alternately in the same minutes. Every load loop is bounded (wrk -d, a fixed number of curls and blobs).

Environment: HOARD (binary, default .build/release/hoard), WEED (default Tests/e2e/.venv/bin/weed),
BENCH_WORK, S3_BENCH_PORT (first port, default 18300), CURL_RUNS (5), WRK_SECONDS (8), WRK_REPS (3),
PULL_RUNS (3), PUSH_BLOBS (1000), PUSH_JOBS (8), PUSH_REPS (2), MEM_CLIENTS (50).
"""
import concurrent.futures
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import bench as B  # noqa: E402  (curl, wrk, wait_http, vmhwm_kb, cpu_seconds, median, loadavg)

W = os.environ.get("BENCH_WORK", "/tmp/hoard-s3-bench")
HOARD = os.environ.get("HOARD", os.path.join(REPO, ".build/release/hoard"))
WEED = os.environ.get("WEED", os.path.join(REPO, "Tests/e2e/.venv/bin/weed"))
CURL_RUNS = int(os.environ.get("CURL_RUNS", "5"))
WRK_SECONDS = int(os.environ.get("WRK_SECONDS", "8"))
WRK_REPS = int(os.environ.get("WRK_REPS", "3"))
PULL_RUNS = int(os.environ.get("PULL_RUNS", "3"))
PUSH_BLOBS = int(os.environ.get("PUSH_BLOBS", "1000"))
PUSH_JOBS = int(os.environ.get("PUSH_JOBS", "8"))
PUSH_REPS = int(os.environ.get("PUSH_REPS", "2"))
MEM_CLIENTS = int(os.environ.get("MEM_CLIENTS", "50"))

BASE = int(os.environ.get("S3_BENCH_PORT", "18300"))
# weed mini: master, volume, filer, s3, admin (their gRPC ports are these + 10000).
WEED_PORTS = {"master": BASE + 1, "volume": BASE + 2, "filer": BASE + 3, "s3": BASE + 4, "admin": BASE + 5}
S3_URL = f"http://127.0.0.1:{WEED_PORTS['s3']}"
UPSTREAM_PORT = BASE + 10                           # filesystem docker-registry: the pull-through upstream
REG_PORTS = [BASE + 11, BASE + 12, BASE + 13]       # docker-registry on S3 (the first is "one node")
REG_PROXY_PORT = BASE + 14
HOARD_PORTS = [BASE + 21, BASE + 22, BASE + 23]     # hoard on S3 (the first is "one node")
HOARD_PULL_PORT, HOARD_MEM_PORT = BASE + 24, BASE + 25
LB_HOARD, LB_REG = BASE + 31, BASE + 32

BUCKET = "bench"
ACCESS_KEY, SECRET_KEY = "benchkey", "benchsecret"
REG_SECRET = "s3-bench-shared-secret"               # one http.secret, so any registry instance accepts any upload state
OCI_USER, OCI_PASS = "bench", "bench-pass"
REPO_NAME = "bench/blobs"
MiB = 1 << 20


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def results() -> dict:
    path = os.path.join(W, "results.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def record(key: str, **fields):
    data = results()
    fields["load"] = fields.get("load", B.loadavg())
    fields["at"] = time.strftime("%Y-%m-%d %H:%M:%S")
    data[key] = fields
    with open(os.path.join(W, "results.json.tmp"), "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(os.path.join(W, "results.json.tmp"), os.path.join(W, "results.json"))
    log(f"  == {key}: {fields}")


def wait_answer(url: str, seconds: float = 60):
    """Up when it answers HTTP at all (SeaweedFS answers an unsigned request with 403)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {seconds}s")


class Proc:
    """A child process with a log file; stop() = signal, wait, then SIGKILL."""

    stop_signal = signal.SIGTERM

    def start(self, args, name: str, env=None):
        self.log = open(os.path.join(W, f"logs/{name}.log"), "a")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def ready(self, wait):
        """Run the readiness check; a process that never gets ready is stopped, not left behind."""
        try:
            wait()
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Weed(Proc):
    """SeaweedFS `weed mini` on a fresh data dir, loopback only, one bucket; needs SIGINT to stop promptly."""

    stop_signal = signal.SIGINT

    def __init__(self):
        d = os.path.join(W, "weed")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "data"))
        ids = os.path.join(d, "identities.json")
        json.dump({"identities": [{"name": "bench", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                                   "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, open(ids, "w"))
        p = WEED_PORTS
        self.start([WEED, "mini", f"-dir={d}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
                    f"-master.port={p['master']}", f"-volume.port={p['volume']}", f"-filer.port={p['filer']}",
                    f"-s3.port={p['s3']}", f"-admin.port={p['admin']}", "-admin.ui=false", "-webdav=false",
                    "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={ids}", f"-bucket={BUCKET}"], "weed")
        self.ready(self.wait)

    @staticmethod
    def wait():
        wait_answer(S3_URL + "/", 90)
        # The bucket is made at start-up, after the port opens: wait until a signed request sees it.
        deadline = time.time() + 60
        while not s3_bucket_exists():
            if time.time() > deadline:
                raise SystemExit(f"bucket {BUCKET} not created by weed mini (see {W}/logs/weed.log)")
            time.sleep(0.5)


def s3_bucket_exists() -> bool:
    """HEAD the bucket with a SigV4 signature made here (no boto3 in the system python)."""
    import datetime
    import hmac
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = f"127.0.0.1:{WEED_PORTS['s3']}"
    empty = hashlib.sha256(b"").hexdigest()
    canonical = f"HEAD\n/{BUCKET}\n\nhost:{host}\nx-amz-content-sha256:{empty}\nx-amz-date:{amz}\n\nhost;x-amz-content-sha256;x-amz-date\n{empty}"
    scope = f"{day}/us-east-1/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + SECRET_KEY).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    auth = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"
    try:
        c = http.client.HTTPConnection("127.0.0.1", WEED_PORTS["s3"], timeout=5)
        c.request("HEAD", f"/{BUCKET}", headers={"Host": host, "x-amz-date": amz, "x-amz-content-sha256": empty,
                                                  "Authorization": auth})
        st = c.getresponse().status
        c.close()
        return st == 200
    except OSError:
        return False


REGISTRY_S3_CONF = """version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage:
  s3: {{regionendpoint: "{s3}", bucket: {bucket}, region: us-east-1, accesskey: {ak}, secretkey: {sk}, secure: false, v4auth: true, rootdirectory: {root}}}
  redirect: {{disable: true}}
  delete: {{enabled: true}}
  cache: {{blobdescriptor: inmemory}}
http: {{addr: "127.0.0.1:{port}", secret: {secret}}}
"""

REGISTRY_FS_CONF = """version: 0.1
log: {{level: warn, accesslog: {{disabled: true}}}}
storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}
http: {{addr: "127.0.0.1:{port}"}}
"""


class Registry(Proc):
    """Debian docker-registry 2.8.2: on the bucket under `rootdirectory` (s3 driver, redirects off, the
    in-memory blob descriptor cache of its stock config), or on a local dir (fs=True); proxy=URL makes it
    a pull-through cache. `env -u AWS_CA_BUNDLE`: with it set, its AWS SDK panics at start-up."""

    def __init__(self, name: str, port: int, root: str = "/registry", proxy: str | None = None, fs: bool = False):
        d = os.path.join(W, "registry", name)
        os.makedirs(d, exist_ok=True)
        if fs:
            conf = REGISTRY_FS_CONF.format(root=os.path.join(d, "data"), port=port)
        else:
            conf = REGISTRY_S3_CONF.format(s3=S3_URL, bucket=BUCKET, ak=ACCESS_KEY, sk=SECRET_KEY, root=root,
                                           port=port, secret=REG_SECRET)
        if proxy:
            conf += f"proxy: {{remoteurl: \"{proxy}\"}}\n"
        open(os.path.join(d, "config.yml"), "w").write(conf)
        env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
        self.start(["docker-registry", "serve", os.path.join(d, "config.yml")], f"registry-{name}", env)
        self.base = f"http://127.0.0.1:{port}"
        self.ready(lambda: B.wait_http(self.base + "/v2/"))
        self.auth = None


def htpasswd_file() -> str:
    path = os.path.join(W, "htpasswd")
    if not os.path.exists(path):
        p = subprocess.run(["htpasswd", "-Bbn", OCI_USER, OCI_PASS], capture_output=True, text=True, check=True)
        open(path, "w").write(p.stdout)
    return path


class HoardNode(Proc):
    """`hoard serve` on the bucket under PREFIX, its own (fresh) --root, push users from htpasswd."""

    def __init__(self, name: str, port: int, prefix: str = "hoard", extra=(), fresh: bool = True):
        self.root = os.path.join(W, "hoard", name)
        if fresh:
            shutil.rmtree(self.root, ignore_errors=True)
        os.makedirs(self.root, exist_ok=True)
        args = [HOARD, "serve", "--root", self.root, "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--htpasswd", htpasswd_file(),
                "--storage", f"s3://{BUCKET}/{prefix}", "--s3-endpoint", S3_URL, "--s3-path-style", *extra]
        env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
        env.pop("AWS_SESSION_TOKEN", None)
        self.start(args, f"hoard-{name}", env)
        self.base = f"http://127.0.0.1:{port}"
        self.ready(lambda: B.wait_http(self.base + "/healthz"))
        self.auth = (OCI_USER, OCI_PASS)


# ---------------------------------------------------------------- nginx balancer

NGINX_CONF = """
worker_processes 2;
pid {w}/nginx/nginx.pid;
error_log {w}/nginx/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path {w}/nginx/tmp/body;
    proxy_temp_path {w}/nginx/tmp/proxy;
    fastcgi_temp_path {w}/nginx/tmp/fastcgi;
    uwsgi_temp_path {w}/nginx/tmp/uwsgi;
    scgi_temp_path {w}/nginx/tmp/scgi;
    # The same proxy settings for both: round robin, kept-alive upstream connections, 256 KiB
    # buffers, never a temp file, request bodies streamed through.
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_buffer_size 256k;
    proxy_buffers 16 256k;
    proxy_busy_buffers_size 512k;
    proxy_max_temp_file_size 0;
    proxy_request_buffering off;
    client_max_body_size 0;
    upstream hoard {{ {hoard} keepalive 32; }}
    upstream registry {{ {registry} keepalive 32; }}
    server {{ listen 127.0.0.1:{lb_hoard}; location / {{ proxy_pass http://hoard; }} }}
    server {{ listen 127.0.0.1:{lb_reg}; location / {{ proxy_pass http://registry; }} }}
}}
"""


class Balancer(Proc):
    def __init__(self):
        d = os.path.join(W, "nginx")
        os.makedirs(os.path.join(d, "tmp"), exist_ok=True)
        conf = os.path.join(d, "nginx.conf")
        open(conf, "w").write(NGINX_CONF.format(
            w=W, lb_hoard=LB_HOARD, lb_reg=LB_REG,
            hoard=" ".join(f"server 127.0.0.1:{p};" for p in HOARD_PORTS),
            registry=" ".join(f"server 127.0.0.1:{p};" for p in REG_PORTS)))
        # In the foreground (`daemon off`) so it is our child and stops with us.
        self.start(["nginx", "-c", conf, "-p", d, "-g", "daemon off;"], "nginx")
        self.hoard = f"http://127.0.0.1:{LB_HOARD}"
        self.registry = f"http://127.0.0.1:{LB_REG}"
        self.ready(lambda: B.wait_http(self.registry + "/v2/"))

    def pids(self) -> list[int]:
        """The master and its workers (CPU time is the workers')."""
        out = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True).stdout.split()
        return [self.pid] + [int(x) for x in out]


# ---------------------------------------------------------------- OCI client

class Conn:
    """One kept-alive HTTP/1.1 connection to a server; request() returns (status, headers, body)."""

    def __init__(self, base: str, auth=None):
        u = urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=300)
        self.auth = None
        if auth:
            import base64
            self.auth = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()

    def request(self, method: str, path: str, body=None, length: int | None = None, headers=None):
        h = dict(headers or {})
        if self.auth:
            h["Authorization"] = self.auth
        if body is not None:
            h["Content-Length"] = str(length if length is not None else len(body))
        elif method in ("POST", "PUT"):
            h["Content-Length"] = "0"
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A kept-alive connection the server closed while idle: reconnect once (bodies are
                # bytes or rewindable files here).
                self.c.close()
                if attempt or hasattr(body, "read"):
                    raise
        raise AssertionError("unreachable")

    def close(self):
        self.c.close()


def upload_path(location: str, digest: str) -> str:
    u = urlsplit(location)
    return u.path + "?" + (u.query + "&" if u.query else "") + "digest=" + digest


def push_blob(conn: Conn, data=None, path: str | None = None, size: int | None = None, digest: str = ""):
    """POST an upload, then PUT <location>?digest= with the whole blob (monolithic), as in bench.py oci."""
    st, hd, body = conn.request("POST", f"/v2/{REPO_NAME}/blobs/uploads/")
    if st != 202:
        raise SystemExit(f"POST upload at {conn.host}:{conn.port}: {st} {body[:300]!r}")
    target = upload_path(hd["location"], digest)
    if path:
        with open(path, "rb") as f:
            st, _, body = conn.request("PUT", target, body=f, length=size,
                                       headers={"Content-Type": "application/octet-stream"})
    else:
        st, _, body = conn.request("PUT", target, body=data, headers={"Content-Type": "application/octet-stream"})
    if st != 201:
        raise SystemExit(f"PUT blob at {conn.host}:{conn.port}: {st} {body[:300]!r}")


def make_blob(name: str, size: int) -> dict:
    d = os.path.join(W, "blobs")
    os.makedirs(d, exist_ok=True)
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
    B.warm_page_cache(path)
    return {"path": path, "size": size, "digest": "sha256:" + h.hexdigest()}


def blob_url(base: str, blob: dict, repo: str = REPO_NAME) -> str:
    return f"{base}/v2/{repo}/blobs/{blob['digest']}"


# ---------------------------------------------------------------- the set-up every section shares

class Stack:
    """SeaweedFS, 3 hoard nodes, 3 registries on the bucket, and the balancer in front of each trio."""

    def __init__(self):
        self.procs = []
        try:
            self.weed = self.add(Weed())
            self.regs = [self.add(Registry(f"s3-{i}", p)) for i, p in enumerate(REG_PORTS)]
            self.hoards = [self.add(HoardNode(f"node{i}", p)) for i, p in enumerate(HOARD_PORTS)]
            self.lb = self.add(Balancer())
        except BaseException:
            self.stop()
            raise
        self.blobs = {k: make_blob(k, n * MiB) for k, n in (("4m", 4), ("100m", 100))}
        self.pushed = False

    def add(self, p):
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                log(f"stopping {p}: {e}")

    def push_get_blobs(self):
        """The 4 MiB and 100 MiB blobs, pushed once through the first hoard node and the first registry."""
        if self.pushed:
            return
        for srv in (self.hoards[0], self.regs[0]):
            c = Conn(srv.base, srv.auth)
            for b in self.blobs.values():
                push_blob(c, path=b["path"], size=b["size"], digest=b["digest"])
            c.close()
        self.pushed = True


def wrk(url: str, seconds: int = WRK_SECONDS) -> dict:
    """bench.py's wrk -t2 -c4 with a 60 s request timeout: a 100 MiB answer through the balancer on a
    loaded machine takes longer than wrk's default 2 s, which would count as a socket error."""
    p = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "--timeout", "60s", "--latency", url],
                       capture_output=True, text=True, timeout=seconds + 120)
    out = p.stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    m = re.search(r"Transfer/sec:\s*([\d.]+)(B|KB|MB|GB)", out)
    scale = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockerr = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "mibs": float(m.group(1)) * scale / MiB, "non2xx": int(errors.group(1)) if errors else 0,
            "sockerr": sockerr.group(1) if sockerr else ""}


def cpu_of(pids) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += B.cpu_seconds(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


# ---------------------------------------------------------------- sections

def get_case(st: Stack):
    """Cached blob GETs (the blob is in the bucket): 4 MiB and 100 MiB, through one node and through the
    balancer; CURL_RUNS single curl streams, then WRK_REPS x wrk -t2 -c4, hoard and registry alternating."""
    st.push_get_blobs()
    for key, b in st.blobs.items():
        for where in ("node", "lb"):
            if where == "node":
                url_h, url_r = blob_url(st.hoards[0].base, b), blob_url(st.regs[0].base, b)
                pids_h, pids_r = [st.hoards[0].pid], [st.regs[0].pid]
            else:
                url_h, url_r = blob_url(st.lb.hoard, b), blob_url(st.lb.registry, b)
                pids_h, pids_r = [h.pid for h in st.hoards], [r.pid for r in st.regs]
            for _ in range(3 if where == "node" else 7):      # every node of the trio has seen it
                B.get_ok(url_h, b["size"])
                B.get_ok(url_r, b["size"])
            load = B.loadavg()
            hc, rc = [], []
            for i in range(CURL_RUNS):
                order = [(url_h, hc), (url_r, rc)] if i % 2 == 0 else [(url_r, rc), (url_h, hc)]
                for url, out in order:
                    out.append(B.get_ok(url, b["size"])["mibs"])
            record(f"get{key}_{where}_curl", hoard=B.median(hc), registry=B.median(rc), ratio=B.median(hc) / B.median(rc),
                   hoard_runs=[round(x) for x in hc], registry_runs=[round(x) for x in rc], load=load, unit="MiB/s")
            load = B.loadavg()
            hw, rw, cpu = [], [], {"hoard": 0.0, "registry": 0.0, "weed": 0.0, "hoard_bytes": 0.0, "registry_bytes": 0.0}
            for i in range(WRK_REPS):
                for who in (("hoard", "registry") if i % 2 == 0 else ("registry", "hoard")):
                    url, pids = (url_h, pids_h) if who == "hoard" else (url_r, pids_r)
                    c0, w0 = cpu_of(pids), cpu_of([st.weed.pid])
                    r = wrk(url)
                    cpu[who] += cpu_of(pids) - c0
                    cpu[f"weed_{who}"] = cpu.get(f"weed_{who}", 0.0) + cpu_of([st.weed.pid]) - w0
                    cpu[f"{who}_bytes"] += r["mibs"] * MiB * WRK_SECONDS
                    if r["non2xx"] or r["sockerr"]:
                        raise SystemExit(f"{who} under wrk {url}: {r}")
                    (hw if who == "hoard" else rw).append(r["mibs"])
            gib = lambda who: cpu[f"{who}_bytes"] / (1 << 30)  # noqa: E731
            record(f"get{key}_{where}_wrk", hoard=B.median(hw), registry=B.median(rw), ratio=B.median(hw) / B.median(rw),
                   hoard_runs=[round(x) for x in hw], registry_runs=[round(x) for x in rw], load=load, unit="MiB/s",
                   hoard_cpu_s_per_gib=round(cpu["hoard"] / gib("hoard"), 2),
                   registry_cpu_s_per_gib=round(cpu["registry"] / gib("registry"), 2),
                   weed_cpu_s_per_gib_hoard=round(cpu["weed_hoard"] / gib("hoard"), 2),
                   weed_cpu_s_per_gib_registry=round(cpu["weed_registry"] / gib("registry"), 2))
    record("rss_after_get", hoard_vmhwm_mb=[round(B.vmhwm_kb(h.pid) / 1024, 1) for h in st.hoards],
           registry_vmhwm_mb=[round(B.vmhwm_kb(r.pid) / 1024, 1) for r in st.regs])


def system_cpu() -> tuple[float, float]:
    """The machine's busy and total CPU seconds so far (all cores, from /proc/stat)."""
    ticks = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


def timed_get(url: str, size: int, pid: int) -> dict:
    """One GET, with the CPU seconds the server and the whole machine spent while it ran: a pull
    that leaves cores idle waits on its own hand-offs; one that does not is bound by CPU."""
    busy0, total0 = system_cpu()
    own0 = cpu_of([pid])
    r = B.get_ok(url, size)
    busy1, total1 = system_cpu()
    r["server_cpu_s"] = round(cpu_of([pid]) - own0, 3)
    r["machine_busy_cpu_s"] = round(busy1 - busy0, 3)
    r["machine_cpu_s"] = round(total1 - total0, 3)
    return r


def pull_case(st: Stack):
    """Cold pull-through of a 100 MiB blob from a local filesystem docker-registry: hoard (`--registry
    up=URL`, GET /v2/up/REPO/blobs/D) and docker-registry (`proxy: remoteurl:`), each run on a fresh
    prefix of the bucket, a fresh root and a new process; then a second GET (now cached)."""
    b = make_blob("pull100m", 100 * MiB)
    with Registry("upstream", UPSTREAM_PORT, fs=True) as up:
        c = Conn(up.base)
        push_blob(c, path=b["path"], size=b["size"], digest=b["digest"])
        c.close()
        B.get_ok(blob_url(up.base, b), b["size"])
        load = B.loadavg()
        rows = []
        stamp = time.strftime("%H%M%S")
        for i in range(PULL_RUNS):
            out = {}

            def via_hoard():
                with HoardNode("pull", HOARD_PULL_PORT, prefix=f"pull-{stamp}-{i}",
                               extra=["--registry", f"up={up.base}"]) as h:
                    os.sync()
                    url = blob_url(h.base, b, repo="up/" + REPO_NAME)
                    out["hoard"] = timed_get(url, b["size"], h.pid)
                    out["hoard"]["vmhwm_mb"] = round(B.vmhwm_kb(h.pid) / 1024, 1)
                    time.sleep(0.5)
                    out["hoard"]["second_mibs"] = B.get_ok(url, b["size"])["mibs"]

            def via_registry():
                with Registry("proxy", REG_PROXY_PORT, root=f"/pull-{stamp}-{i}", proxy=up.base) as px:
                    os.sync()
                    url = blob_url(px.base, b)
                    out["registry"] = timed_get(url, b["size"], px.pid)
                    out["registry"]["vmhwm_mb"] = round(B.vmhwm_kb(px.pid) / 1024, 1)
                    time.sleep(0.5)
                    out["registry"]["second_mibs"] = B.get_ok(url, b["size"])["mibs"]

            for step in ([via_hoard, via_registry] if i % 2 == 0 else [via_registry, via_hoard]):
                step()
            rows.append(out)
        fields = {}
        for s in ("hoard", "registry"):
            fields[f"{s}_s"] = B.median(r[s]["total"] for r in rows)
            fields[f"{s}_ttfb_ms"] = B.median(r[s]["ttfb"] for r in rows) * 1000
            fields[f"{s}_mibs"] = B.median(r[s]["mibs"] for r in rows)
            fields[f"{s}_runs_mibs"] = [round(r[s]["mibs"]) for r in rows]
            fields[f"{s}_second_get_mibs"] = round(B.median(r[s]["second_mibs"] for r in rows))
            fields[f"{s}_vmhwm_mb"] = max(r[s]["vmhwm_mb"] for r in rows)
            for k in ("server_cpu_s", "machine_busy_cpu_s", "machine_cpu_s"):
                fields[f"{s}_{k}"] = [r[s][k] for r in rows]
        fields["ratio"] = fields["hoard_mibs"] / fields["registry_mibs"]
        record("pull100m", load=load, **fields)


def push_many(base: str, auth, blobs: list[bytes]) -> float:
    """PUSH_JOBS threads, each on its own kept-alive connection, push their share of the blobs; seconds."""
    digests = ["sha256:" + hashlib.sha256(x).hexdigest() for x in blobs]
    local = threading.local()
    conns = []
    lock = threading.Lock()

    def one(i):
        if not hasattr(local, "c"):
            local.c = Conn(base, auth)
            with lock:
                conns.append(local.c)
        push_blob(local.c, data=blobs[i], digest=digests[i])

    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(PUSH_JOBS) as ex:
        list(ex.map(one, range(len(blobs))))
    took = time.time() - t0
    for c in conns:
        c.close()
    # Every blob is there (a HEAD of each, afterwards, not timed).
    c = Conn(base, auth)
    for d in digests:
        st, _, _ = c.request("HEAD", f"/v2/{REPO_NAME}/blobs/{d}")
        if st != 200:
            raise SystemExit(f"HEAD {d} at {base} after the push: {st}")
    c.close()
    return took


def push_case(st: Stack):
    """PUSH_BLOBS small blobs (random, 512 B - 8 KiB, new content every rep) pushed by PUSH_JOBS concurrent
    clients (POST + PUT ?digest=, monolithic), through one node and through the balancer."""
    rng = random.Random(12)
    for where in ("node", "lb"):
        targets = {"hoard": (st.hoards[0].base if where == "node" else st.lb.hoard, st.hoards[0].auth),
                   "registry": (st.regs[0].base if where == "node" else st.lb.registry, None)}
        load = B.loadavg()
        times = {"hoard": [], "registry": []}
        for i in range(PUSH_REPS):
            blobs = [os.urandom(rng.randint(512, 8192)) for _ in range(PUSH_BLOBS)]
            for who in (("hoard", "registry") if i % 2 == 0 else ("registry", "hoard")):
                times[who].append(push_many(*targets[who], blobs))
        h, r = B.median(times["hoard"]), B.median(times["registry"])
        record(f"push_{where}", hoard_s=round(h, 2), registry_s=round(r, 2), ratio=r / h,
               hoard_blobs_per_s=round(PUSH_BLOBS / h), registry_blobs_per_s=round(PUSH_BLOBS / r),
               hoard_runs_s=[round(x, 2) for x in times["hoard"]], registry_runs_s=[round(x, 2) for x in times["registry"]],
               blobs=PUSH_BLOBS, jobs=PUSH_JOBS, load=load)


def memory_case(st: Stack):
    """Peak RSS: a new hoard process (and a new docker-registry) on the same bucket, two GETs, then
    MEM_CLIENTS concurrent curls of the cached 100 MiB blob; VmHWM from /proc/PID/status."""
    st.push_get_blobs()
    b = st.blobs["100m"]
    out = {}
    for who in ("hoard", "registry"):
        srv = HoardNode("mem", HOARD_MEM_PORT) if who == "hoard" else Registry("mem", REG_PROXY_PORT)
        with srv:
            url = blob_url(srv.base, b)
            B.get_ok(url, b["size"])
            B.get_ok(url, b["size"])
            before = B.vmhwm_kb(srv.pid)
            t0, c0 = time.time(), B.cpu_seconds(srv.pid)
            rs = B.concurrent_clients(url, MEM_CLIENTS)
            took = time.time() - t0
            ok = sum(1 for r in rs if r["code"] == 200 and r["size"] == b["size"])
            out[who] = {"vmhwm_mb": round(B.vmhwm_kb(srv.pid) / 1024, 1), "before_mb": round(before / 1024, 1),
                        "complete": ok, "aggregate_mibs": round(MEM_CLIENTS * 100 / took),
                        "cpu_s_per_gib": round((B.cpu_seconds(srv.pid) - c0) / (MEM_CLIENTS * 100 / 1024), 2)}
    record(f"memory_100m_x{MEM_CLIENTS}", clients=MEM_CLIENTS, **{f"{w}_{k}": v for w, d in out.items() for k, v in d.items()})


def summary():
    r = results()
    rows = []

    def row(what, hoard, ref, ratio, goal, met, load):
        rows.append(f"| {what} | {hoard} | {ref} | {ratio} | {goal} | {met} | {load} |")

    fmt = B.fmt
    for key, label in (("4m", "4 MiB"), ("100m", "100 MiB")):
        for where, wlabel in (("node", "one node"), ("lb", "balancer over 3")):
            for how, hlabel in (("curl", "1 curl stream, median MiB/s"), ("wrk", "wrk -t2 -c4, MiB/s")):
                k = f"get{key}_{where}_{how}"
                if k in r:
                    x = r[k]
                    cpu = (f" ({x['hoard_cpu_s_per_gib']} CPU-s/GiB)" if "hoard_cpu_s_per_gib" in x else "")
                    rcpu = (f" ({x['registry_cpu_s_per_gib']} CPU-s/GiB)" if "registry_cpu_s_per_gib" in x else "")
                    row(f"cached {label} blob GET, {wlabel}, {hlabel}", fmt(x["hoard"]) + cpu, fmt(x["registry"]) + rcpu,
                        f"{x['ratio']:.2f}", "≥ 1.2", "yes" if x["ratio"] >= 1.2 else "NO", x["load"])
    if "pull100m" in r:
        x = r["pull100m"]
        row("cold pull-through, 100 MiB blob: s / MiB/s / first byte ms (then cached MiB/s)",
            f"{x['hoard_s']:.3f} / {fmt(x['hoard_mibs'])} / {x['hoard_ttfb_ms']:.1f} ({x['hoard_second_get_mibs']})",
            f"{x['registry_s']:.3f} / {fmt(x['registry_mibs'])} / {x['registry_ttfb_ms']:.1f} ({x['registry_second_get_mibs']})",
            f"{x['ratio']:.2f}", "≥ 1.2", "yes" if x["ratio"] >= 1.2 else "NO", x["load"])
    for where, wlabel in (("node", "one node"), ("lb", "balancer over 3")):
        k = f"push_{where}"
        if k in r:
            x = r[k]
            row(f"push {x['blobs']} small blobs, {x['jobs']} clients, {wlabel}: s (blobs/s)",
                f"{x['hoard_s']:.2f} ({x['hoard_blobs_per_s']})", f"{x['registry_s']:.2f} ({x['registry_blobs_per_s']})",
                f"{x['ratio']:.2f}", "≥ 1.2", "yes" if x["ratio"] >= 1.2 else "NO", x["load"])
    for k in sorted(r):
        if k.startswith("memory_100m_x"):
            x = r[k]
            row(f"peak RSS, cached 100 MiB to {x['clients']} clients at once (MB; aggregate MiB/s)",
                f"{x['hoard_vmhwm_mb']} ({x['hoard_complete']}/{x['clients']}; {x['hoard_aggregate_mibs']})",
                f"{x['registry_vmhwm_mb']} ({x['registry_complete']}/{x['clients']}; {x['registry_aggregate_mibs']})",
                "", "< 150", "yes" if x["hoard_vmhwm_mb"] < 150 else "NO", x["load"])
    if "pull100m" in r:
        x = r["pull100m"]
        row("peak RSS, cold pull-through of 100 MiB (MB)", fmt(x["hoard_vmhwm_mb"]), fmt(x["registry_vmhwm_mb"]),
            "", "< 150", "yes" if x["hoard_vmhwm_mb"] < 150 else "NO", x["load"])
    print("| what | hoard | docker-registry | ratio | goal | met? | load (1/5/15 min) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


SECTIONS = {"get": get_case, "pull": pull_case, "push": push_case, "memory": memory_case}


def main():
    names = sys.argv[1:] or ["get", "pull", "push", "memory", "summary"]
    for n in names:
        if n not in SECTIONS and n != "summary":
            raise SystemExit(__doc__)
    os.makedirs(os.path.join(W, "logs"), exist_ok=True)
    work = [n for n in names if n in SECTIONS]
    if work:
        if not os.path.exists(HOARD):
            raise SystemExit(f"no hoard binary at {HOARD}: build it with `swift build -c release --product hoard`")
        st = Stack()
        try:
            for n in work:
                log(f"== {n} (load {B.loadavg()})")
                SECTIONS[n](st)
        finally:
            st.stop()
    if "summary" in names:
        summary()


if __name__ == "__main__":
    main()
