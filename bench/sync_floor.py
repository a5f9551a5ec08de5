"""The floor of a small-package sync: docker-registry's own time and CPU for the minimum
requests a correct push of 1,000 small conda packages needs, sent by a thin client.

    python3 bench/sync_floor.py min|heads THREADS [PACKAGES]

Per package (what `hoard sync` sends to a repository the catalog does not list): three blobs
(archive, info.tar.gz, info/index.json; 1,500/600/400 random bytes) each uploaded with POST +
PUT, the shared empty config mounted from the first repository, the manifest PUT: 8 requests.
`heads` adds the five HEADs hoard sent before (manifest, config, each blob): 13 requests.
The client is Python's http.client on keep-alive connections, THREADS at once; the registry's
CPU (from /proc) is what bounds any producer on two cores. Prints one JSON line.
"""
import os, sys, time, json, hashlib, threading, http.client, random, urllib.parse
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sync_bench as sb
variant = sys.argv[1]; threads = int(sys.argv[2]); n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
r = sb.fresh_registry("floor-" + variant)
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
local = threading.local()
def conn():
    if not hasattr(local, "c"): local.c = http.client.HTTPConnection("127.0.0.1", r.port)
    return local.c
def req(method, path, body=None, headers={}):
    c = conn(); c.request(method, path, body=body, headers=headers); resp = c.getresponse(); data = resp.read(); return resp, data
def d(b): return "sha256:" + hashlib.sha256(b).hexdigest()
def upload(repo, b, head):
    if head: req("HEAD", f"/v2/{repo}/blobs/{d(b)}")
    resp, _ = req("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"})
    loc = urllib.parse.urlsplit(resp.headers["Location"]); path = loc.path + "?" + loc.query + "&digest=" + d(b)
    resp, _ = req("PUT", path, b, {"Content-Type": "application/octet-stream"}); assert resp.status == 201, resp.status
EMPTY = b""
def package(i):
    repo = f"floor/ch/noarch/p{i:04d}"; head = variant == "heads"
    rnd = random.Random(i); blobs = [rnd.randbytes(1500), rnd.randbytes(600), rnd.randbytes(400)]
    if head: req("HEAD", f"/v2/{repo}/manifests/1.0-0", headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    if i == 0: upload(repo, EMPTY, head)
    else:
        if head: req("HEAD", f"/v2/{repo}/blobs/{d(EMPTY)}")
        resp, _ = req("POST", f"/v2/{repo}/blobs/uploads/?mount={d(EMPTY)}&from=floor/ch/noarch/p0000", b"", {"Content-Length": "0"}); assert resp.status == 201, resp.status
    for b in blobs: upload(repo, b, head)
    m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.unknown.config.v1+json", "digest": d(EMPTY), "size": 0},
        "layers": [{"mediaType": "application/vnd.conda.package.v2", "digest": d(b), "size": len(b)} for b in blobs]}).encode()
    resp, _ = req("PUT", f"/v2/{repo}/manifests/1.0-0", m, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}); assert resp.status == 201
try:
    package(0)
    c0 = cpu(r.proc.pid); t0 = os.times(); start = time.monotonic(); l0 = os.getloadavg()
    it = iter(range(1, n)); lock = threading.Lock()
    def worker():
        while True:
            with lock: i = next(it, None)
            if i is None: return
            package(i)
    ts = [threading.Thread(target=worker) for _ in range(threads)]; [t.start() for t in ts]; [t.join() for t in ts]
    wall = time.monotonic() - start; t1 = os.times()
    print(json.dumps({"variant": variant, "threads": threads, "packages": n - 1, "wall_s": round(wall, 2),
        "registry_cpu_s": round(cpu(r.proc.pid) - c0, 2), "client_cpu_s": round(t1.user - t0.user + t1.system - t0.system, 2),
        "load_before": l0, "load_after": os.getloadavg()}))
finally:
    r.stop()
