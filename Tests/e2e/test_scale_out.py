"""Several hoard nodes over one S3 bucket (SeaweedFS), behind a round-robin nginx balancer.

Each node has its own `--root` (its cache of the bucket's index, its lock, its spool) and the same
`--storage s3://BUCKET/hoard`. What must hold (issue 12):
- py-rattler installs through the balancer, and each package is fetched from the upstream once and
  stored in the bucket once, whichever nodes the client's requests land on; every node then serves
  every package without asking the upstream.
- oras pushes through one node and pulls through another; a tag pushed on A is served by B at once;
  pushes and pulls through the balancer work (a token from one node is accepted by the others).
- A node SIGKILLed in the middle of a pull-through leaves nothing visible under `blobs/`; the other
  nodes keep serving (and fetch the package themselves), and the killed node starts again.
- With the bucket stopped the nodes answer clear 503s (text on the conda front, the registry's JSON
  under /v2/, `Retry-After`) in bounded time, and serve again by themselves when it is back.
- `--s3-redirect` answers package and OCI blob GETs with a 307 whose presigned URL downloads the
  right bytes.
- A 100 MiB blob goes in and comes out through nodes with bounded memory (RSS sampled).
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from balancer import Balancer
from conftest import HOARD_PROCS
from fixture_channel import FX_APP_BANNER
from hoard import Hoard, HoardError, request
from rattler_client import run_client
from s3 import Seaweed
from test_conda_front import INSTALLED_BY_FX_APP, PACKAGES, pkg_path, run_installed_app, upstream_package_gets

PREFIX = "hoard"
USER, PASSWORD = "alice", "secret"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()}


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory):
    server = Seaweed(tmp_path_factory.mktemp("seaweed")).start()
    yield server
    server.stop()


@pytest.fixture
def htpasswd_file(tmp_path: Path) -> Path:
    import shutil
    tool = shutil.which("htpasswd")
    if tool is None:
        pytest.fail("htpasswd is not installed (make deps installs apache2-utils)")
    path = tmp_path / "htpasswd"
    path.write_text(subprocess.run([tool, "-nbB", USER, PASSWORD], check=True, capture_output=True, text=True).stdout)
    return path


class Cluster:
    """Nodes on one fresh bucket, and the balancer in front of them once asked for."""

    def __init__(self, request: pytest.FixtureRequest, seaweed: Seaweed, hoard_bin: Path, tmp_path: Path,
                 upstreams: dict[str, str]):
        self.seaweed = seaweed
        self.bucket = seaweed.make_bucket()
        self.hoard_bin = hoard_bin
        self.tmp = tmp_path
        self.upstreams = upstreams
        self.nodes: list[Hoard] = []
        self.balancer: Balancer | None = None
        self._procs = request.node.stash.setdefault(HOARD_PROCS, [])  # their logs show on failure

    def node(self, extra_args: tuple[str, ...] = (), root: Path | None = None) -> Hoard:
        n = len(self.nodes) + 1
        proc = Hoard(self.hoard_bin, root or self.tmp / f"node-{n}", self.upstreams, log_path=self.tmp / f"node-{n}.log",
                     extra_args=(*self.seaweed.storage_args(self.bucket, PREFIX), *extra_args), env=Seaweed.env())
        self.nodes.append(proc)
        self._procs.append(proc)
        try:
            return proc.start(timeout=60)
        except HoardError as exc:
            pytest.fail(str(exc), pytrace=False)

    def start(self, count: int, extra_args: tuple[str, ...] = ()) -> list[Hoard]:
        return [self.node(extra_args) for _ in range(count)]

    def balance(self) -> Balancer:
        self.balancer = Balancer(self.tmp / "balancer", [node.port for node in self.nodes if node.running]).start()
        return self.balancer

    def keys(self, under: str = "") -> dict[str, int]:
        return self.seaweed.keys(self.bucket, f"{PREFIX}/{under}")

    def blob_key(self, data: bytes) -> str:
        return f"{PREFIX}/blobs/sha256/{hashlib.sha256(data).hexdigest()}"

    def stop(self) -> list[str]:
        problems = []
        if self.balancer is not None:
            self.balancer.stop()
        for node in self.nodes:
            if not node.running:
                continue
            try:
                code = node.stop(timeout=30)
            except HoardError as exc:
                problems.append(str(exc))
                continue
            if code not in (0, None, -signal.SIGTERM):
                problems.append(f"node on port {node.port} exited with {code} on SIGTERM\n{node.log_tail()}")
        return problems


@pytest.fixture
def cluster(request, seaweed, hoard_bin, tmp_path, upstream):
    made: list[Cluster] = []

    def make(upstreams: dict[str, str] | None = None) -> Cluster:
        made.append(Cluster(request, seaweed, hoard_bin, tmp_path, {"fixture": upstream.url} if upstreams is None else upstreams))
        return made[-1]

    yield make
    problems = [problem for c in made for problem in c.stop()]
    if problems:
        pytest.fail("\n\n".join(problems))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def package_bytes(channel_dir: Path, name: str) -> bytes:
    return (channel_dir / PACKAGES[name] / name).read_bytes()


def assert_blobs_are_whole(c: Cluster) -> dict[str, int]:
    """Every object under blobs/ is complete and verified: its bytes hash to its key."""
    blobs = c.keys("blobs/")
    for key in blobs:
        data = c.seaweed.get(c.bucket, key)
        assert key == c.blob_key(data), f"{key} holds bytes that hash to {hashlib.sha256(data).hexdigest()}"
    return blobs


# ---- conda: py-rattler through the balancer ----------------------------------------------------

def test_rattler_installs_through_the_balancer_fetching_and_storing_each_package_once(
        cluster, upstream, channel_dir, client_dirs):
    c = cluster()
    nodes = c.start(3)
    lb = c.balance()
    channel = f"{lb.url}/fixture"
    for phase in ("cold", "warm, fresh client cache"):
        prefix, cache = client_dirs()
        result = run_client(channel, prefix, cache, max_retries=0)
        assert result.ok, f"{phase}: {result.describe()}"
        assert sorted(p["file_name"] for p in result.installed) == sorted(INSTALLED_BY_FX_APP), phase
        assert run_installed_app(prefix) == [FX_APP_BANNER, f"prefix={prefix}"], phase
    # The balancer spread the client's requests over the nodes.
    answered_by = {port for _, _, status, port in lb.requests() if status == 200}
    assert len(answered_by) >= 2, f"round robin used {answered_by} of {[n.port for n in nodes]}"
    # Every node serves every package, byte for byte, without going upstream again.
    for node in nodes:
        for name in INSTALLED_BY_FX_APP:
            resp = request(node.port, "GET", pkg_path(name))
            assert resp.status == 200, f"node {node.port} {name}: {resp.status} {resp.text[:200]}"
            assert resp.body == package_bytes(channel_dir, name)
    assert upstream_package_gets(upstream) == {name: 1 for name in INSTALLED_BY_FX_APP}
    # Stored once: one object per package, under its digest, and nothing half-done beside them.
    blobs = assert_blobs_are_whole(c)
    for name in INSTALLED_BY_FX_APP:
        data = package_bytes(channel_dir, name)
        assert blobs.get(c.blob_key(data)) == len(data), name
    assert c.keys("staging/") == {}
    assert c.seaweed.multipart_uploads(c.bucket, f"{PREFIX}/") == []


# ---- OCI: oras through different nodes -----------------------------------------------------------

def oras_client(port: int, auth: bool):
    import oras.client
    client = oras.client.OrasClient(hostname=f"127.0.0.1:{port}", insecure=True)
    if auth:
        client.auth.set_basic_auth(USER, PASSWORD)
    return client


def oras_push(port: int, work: Path, target: str, name: str, data: bytes):
    (work / name).write_bytes(data)
    cwd = os.getcwd()
    os.chdir(work)  # oras keeps the path as given as the layer title
    try:
        return oras_client(port, auth=True).push(files=[name], target=target)
    finally:
        os.chdir(cwd)


def test_oras_pushes_through_one_node_and_pulls_through_another(cluster, htpasswd_file, tmp_path):
    c = cluster(upstreams={})
    a, b, third = c.start(3, ("--htpasswd", str(htpasswd_file)))
    work = tmp_path / "oras"
    work.mkdir()
    payload = os.urandom(200_000) + b"pushed through node A\n"
    assert oras_push(a.port, work, f"127.0.0.1:{a.port}/e2e/files:v1", "artifact.bin", payload).status_code == 201

    # The tag pushed on A is served by B and the third node at once.
    for node in (b, third):
        resp = request(node.port, "GET", "/v2/e2e/files/manifests/v1", {"Accept": "application/vnd.oci.image.manifest.v1+json"})
        assert resp.status == 200, f"node {node.port}: {resp.status} {resp.text}"
        assert resp.header("docker-content-digest") == sha256(resp.body)
        tags = request(node.port, "GET", "/v2/e2e/files/tags/list")
        assert json.loads(tags.body)["tags"] == ["v1"]
    out = tmp_path / "pulled-from-b"
    files = oras_client(b.port, auth=False).pull(target=f"127.0.0.1:{b.port}/e2e/files:v1", outdir=str(out))
    assert [Path(f).name for f in files] == ["artifact.bin"]
    assert (out / "artifact.bin").read_bytes() == payload

    # A tag moved on B is what A serves next.
    moved = os.urandom(50_000)
    assert oras_push(b.port, work, f"127.0.0.1:{b.port}/e2e/files:v1", "artifact.bin", moved).status_code == 201
    out = tmp_path / "pulled-from-a"
    oras_client(a.port, auth=False).pull(target=f"127.0.0.1:{a.port}/e2e/files:v1", outdir=str(out))
    assert (out / "artifact.bin").read_bytes() == moved

    # Through the balancer: every request of the push (token, upload session, chunks, manifest)
    # may land on another node.
    lb = c.balance()
    through = os.urandom(300_000)
    assert oras_push(lb.port, work, f"127.0.0.1:{lb.port}/e2e/balanced:v1", "balanced.bin", through).status_code == 201
    out = tmp_path / "pulled-through-balancer"
    oras_client(lb.port, auth=False).pull(target=f"127.0.0.1:{lb.port}/e2e/balanced:v1", outdir=str(out))
    assert (out / "balanced.bin").read_bytes() == through
    assert len({port for *_, port in lb.requests()}) == 3
    assert_blobs_are_whole(c)


# ---- a node dies mid-ingest ----------------------------------------------------------------------

def test_a_node_killed_mid_ingest_leaves_nothing_visible_and_the_others_serve(cluster, upstream, channel_dir):
    c = cluster()
    a, b, third = c.start(3)
    name = "fx-data-1.0-0.conda"
    data = package_bytes(channel_dir, name)
    path = f"/channel/{PACKAGES[name]}/{name}"
    # The upstream sends half the package, then stalls: A is mid-ingest when it dies.
    upstream.set_fault(path, "stall", seconds=60, mid_body=True, times=1)
    received = threading.Event()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=90)
        try:
            conn.request("GET", pkg_path(name))
            resp = conn.getresponse()
            if resp.read(64 * 1024):
                received.set()
            resp.read()
        except (OSError, http.client.HTTPException):
            pass
        finally:
            received.set()
            conn.close()

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    assert received.wait(30), "node A sent nothing of the package"
    time.sleep(1)  # the half it got is being written to the bucket
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=10)
    thread.join(timeout=30)

    assert c.blob_key(data) not in c.keys("blobs/"), "a half-ingested package is visible under blobs/"
    assert_blobs_are_whole(c)

    # The others serve it (fetching it themselves: A never committed it), and the balancer routes around A.
    upstream.clear_faults()
    resp = request(b.port, "GET", pkg_path(name))
    assert resp.status == 200 and resp.body == data
    # B's commit (blob, then name) ends just after its client got the last, verified byte.
    wait_for_name(c, name)
    lb = c.balance()
    for _ in range(4):
        resp = request(lb.port, "GET", pkg_path(name))
        assert resp.status == 200 and resp.body == data
    assert c.keys("blobs/").get(c.blob_key(data)) == len(data)
    assert upstream.count("GET", path) == 2

    # A starts again on its root (its lock and spool left by the kill) and serves what B stored.
    a_again = c.node(root=a.root)
    resp = request(a_again.port, "GET", pkg_path(name))
    assert resp.status == 200 and resp.body == data
    assert upstream.count("GET", path) == 2
    assert_blobs_are_whole(c)


def wait_for_name(c: Cluster, filename: str, timeout: float = 10) -> None:
    """Until the bucket names `filename` (a node's commit is done: blob, then name)."""
    deadline = time.monotonic() + timeout
    while not any(key.endswith("/" + filename) for key in c.keys("index/conda/")):
        assert time.monotonic() < deadline, f"no shared name for {filename} after {timeout}s: {sorted(c.keys('index/'))}"
        time.sleep(0.1)


# ---- the bucket goes away and comes back -------------------------------------------------------

def push_blob(port: int, repository: str, data: bytes) -> str:
    """A monolithic OCI blob upload (POST, then PUT with the digest) with Basic credentials."""
    started = request(port, "POST", f"/v2/{repository}/blobs/uploads/", {**BASIC, "Content-Length": "0"})
    assert started.status == 202, f"{started.status}: {started.text}"
    location = started.header("Location")
    if "://" in location:
        location = location.split("://", 1)[1]
        location = location[location.index("/"):]
    digest = sha256(data)
    status, body = put(port, f"{location}{'&' if '?' in location else '?'}digest={digest}", data, BASIC)
    assert status == 201, f"{status}: {body}"
    return digest


def put(port: int, path: str, data: bytes, headers: dict[str, str], chunk: int = 1 << 20) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest("PUT", path, skip_accept_encoding=True)
        for key, value in {**headers, "Content-Type": "application/octet-stream", "Content-Length": str(len(data))}.items():
            conn.putheader(key, value)
        conn.endheaders()
        view = memoryview(data)
        for offset in range(0, len(data), chunk):
            conn.send(view[offset:offset + chunk])
        resp = conn.getresponse()
        return resp.status, resp.read().decode(errors="replace")
    finally:
        conn.close()


def push_image(port: int, repository: str, tag: str) -> tuple[str, bytes]:
    """An OCI image manifest with one layer, tagged; returns the layer digest and bytes."""
    layer = os.urandom(100_000)
    config = b"{}"
    layer_digest, config_digest = push_blob(port, repository, layer), push_blob(port, repository, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(layer)}],
    }).encode()
    status, body = put(port, f"/v2/{repository}/manifests/{tag}", manifest,
                       {**BASIC, "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    assert status == 201, f"{status}: {body}"
    return layer_digest, layer


def timed(port: int, method: str, path: str, headers: dict[str, str] | None = None):
    started = time.monotonic()
    resp = request(port, method, path, headers, timeout=90)
    return resp, time.monotonic() - started


def test_with_the_bucket_stopped_nodes_answer_503_and_recover_by_themselves(
        cluster, seaweed, upstream, channel_dir, htpasswd_file):
    c = cluster()
    nodes = c.start(2, ("--htpasswd", str(htpasswd_file)))
    stored = "fx-lib-1.0-0.conda"
    assert request(nodes[0].port, "GET", pkg_path(stored)).status == 200
    layer_digest, layer = push_image(nodes[0].port, "e2e/outage", "v1")
    pids = [node.proc.pid for node in nodes]

    seaweed.stop()
    try:
        for node in nodes:
            # A stored package, a package never fetched (the upstream is up), and the registry.
            for path in (pkg_path(stored), pkg_path("fx-lib-1.0-0.tar.bz2")):
                resp, took = timed(node.port, "GET", path)
                assert resp.status == 503, f"node {node.port} {path}: {resp.status} {resp.text[:300]}"
                assert resp.header("retry-after") == "5"
                assert "cannot reach its storage" in resp.text, resp.text
                assert took < 45, f"{path} took {took:.1f}s"
            resp, took = timed(node.port, "GET", "/v2/e2e/outage/manifests/v1",
                               {"Accept": "application/vnd.oci.image.manifest.v1+json"})
            assert resp.status == 503, f"node {node.port}: {resp.status} {resp.text[:300]}"
            assert resp.header("retry-after") == "5"
            error = json.loads(resp.body)["errors"][0]
            assert "cannot reach its storage" in error["message"], error
            assert took < 45
            resp, _ = timed(node.port, "GET", f"/v2/e2e/outage/blobs/{layer_digest}")
            assert resp.status == 503, f"node {node.port}: {resp.status} {resp.text[:300]}"
            assert node.running, f"node {node.port} died with the bucket away\n{node.log_tail()}"
    finally:
        seaweed.start()

    # Back by themselves: no restart, the same processes.
    deadline = time.monotonic() + 60
    for node in nodes:
        while True:
            resp = request(node.port, "GET", pkg_path(stored), timeout=60)
            if resp.status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert resp.status == 200, f"node {node.port} still answers {resp.status} {resp.text[:300]}"
        assert resp.body == package_bytes(channel_dir, stored)
        resp = request(node.port, "GET", f"/v2/e2e/outage/blobs/{layer_digest}")
        assert resp.status == 200 and resp.body == layer
        resp = request(node.port, "GET", pkg_path("fx-lib-1.0-0.tar.bz2"))
        assert resp.status == 200 and resp.body == package_bytes(channel_dir, "fx-lib-1.0-0.tar.bz2")
    assert [node.proc.pid for node in nodes] == pids
    assert_blobs_are_whole(c)


def test_with_the_bucket_stopped_a_channel_token_is_a_503_not_a_401(cluster, seaweed, upstream, htpasswd_file, tmp_path):
    """Channel tokens live in the bucket. While it is away a token cannot be checked: the client
    must hear "retry" (503, Retry-After), not "your token is bad" (401), on both fronts."""
    config = tmp_path / "private.toml"
    config.write_text(f'[channels.priv]\nurl = "{upstream.url}"\nreaders = "{htpasswd_file}"\n')
    c = cluster(upstreams={})
    node = c.node(("--config", str(config)))
    made = subprocess.run([str(node.binary), "token", "create", "--channel", "priv", "--expires", "1d", "--root", str(node.root),
                           *seaweed.storage_args(c.bucket, PREFIX)], capture_output=True, text=True, timeout=60, env=Seaweed.env())
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    path = "/priv/noarch/repodata.json"
    bearer = {"Authorization": f"Bearer {token}"}
    assert request(node.port, "GET", path, headers=bearer).status == 200
    assert request(node.port, "GET", path, headers={"Authorization": "Bearer hoard-" + "0" * 64}).status == 401
    basic = "Basic " + base64.b64encode(f"me:{token}".encode()).decode()

    seaweed.stop()
    try:
        resp, took = timed(node.port, "GET", path, bearer)
        assert resp.status == 503, f"{resp.status} {resp.text[:300]}"
        assert resp.header("retry-after") == "5"
        assert "cannot reach its storage" in resp.text, resp.text
        assert took < 45
        # The registry's token endpoint, asked for the private channel's OCI mirror repository.
        resp, _ = timed(node.port, "GET", "/token?service=hoard&scope=repository:conda/priv/noarch/repodata.json:pull",
                        {"Authorization": basic})
        assert resp.status == 503, f"{resp.status} {resp.text[:300]}"
        assert resp.header("retry-after") == "5"
        assert "cannot reach its storage" in json.loads(resp.body)["error_description"]
    finally:
        seaweed.start()
    deadline = time.monotonic() + 60
    while (resp := request(node.port, "GET", path, headers=bearer, timeout=60)).status != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert resp.status == 200, f"{resp.status} {resp.text[:300]}"


# ---- --s3-redirect -------------------------------------------------------------------------------

def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        return resp.read()


def test_s3_redirect_answers_307_to_a_presigned_url_of_the_right_bytes(cluster, channel_dir, htpasswd_file):
    c = cluster()
    a, b = c.start(2, ("--htpasswd", str(htpasswd_file), "--s3-redirect"))
    name = "fx-data-1.0-0.conda"
    data = package_bytes(channel_dir, name)
    first = request(a.port, "GET", pkg_path(name))  # a miss streams through the node
    assert first.status == 200 and first.body == data
    wait_for_name(c, name)  # until then A answers from its fill, B from its own
    for node in (a, b):
        resp = request(node.port, "GET", pkg_path(name))
        deadline = time.monotonic() + 5
        while resp.status == 200 and node is a and time.monotonic() < deadline:
            # A's fill ends once its local row is written too, a moment after the shared name.
            time.sleep(0.1)
            resp = request(node.port, "GET", pkg_path(name))
        assert resp.status == 307, f"{resp.status} {resp.text[:200]}"
        location = resp.header("location")
        assert location.startswith(c.seaweed.endpoint + "/") and "X-Amz-Signature=" in location, location
        assert resp.header("cache-control") == "no-store"
        assert fetch(location) == data
        head = request(node.port, "HEAD", pkg_path(name))
        assert head.status == 200 and head.header("content-length") == str(len(data))
        etag = f"\"{hashlib.sha256(data).hexdigest()}\""
        assert request(node.port, "GET", pkg_path(name), {"If-None-Match": etag}).status == 304

    layer_digest, layer = push_image(a.port, "e2e/redirect", "v1")
    resp = request(b.port, "GET", f"/v2/e2e/redirect/blobs/{layer_digest}")
    assert resp.status == 307, f"{resp.status} {resp.text[:200]}"
    assert resp.header("docker-content-digest") == layer_digest
    assert fetch(resp.header("location")) == layer


# ---- memory: a 100 MiB blob in and out --------------------------------------------------------------

def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class RSSWatch:
    """Samples a process's resident memory every 20 ms while in the `with` block."""

    def __init__(self, pid: int):
        self.pid = pid
        self.before = rss(pid)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss(self.pid))

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.before


def test_a_100_mib_blob_goes_in_and_out_through_nodes_with_bounded_memory(cluster, htpasswd_file):
    c = cluster(upstreams={})
    a, b = c.start(2, ("--htpasswd", str(htpasswd_file)))
    size = 100 << 20
    data = os.urandom(size)
    # Warm both processes up (first requests allocate their pools), then measure.
    push_blob(a.port, "e2e/big", os.urandom(1 << 20))
    with RSSWatch(a.proc.pid) as pushing:
        digest = push_blob(a.port, "e2e/big", data)
    assert c.keys("blobs/").get(c.blob_key(data)) == size

    for reader in (b, a):
        with RSSWatch(reader.proc.pid) as serving:
            conn = http.client.HTTPConnection("127.0.0.1", reader.port, timeout=120)
            try:
                conn.request("GET", f"/v2/e2e/big/blobs/{digest}")
                resp = conn.getresponse()
                assert resp.status == 200
                hasher = hashlib.sha256()
                got = 0
                while chunk := resp.read(1 << 20):
                    hasher.update(chunk)
                    got += len(chunk)
                    if got == 20 << 20:
                        time.sleep(2)  # a slow client: the node must wait, not buffer the rest
            finally:
                conn.close()
        assert got == size and "sha256:" + hasher.hexdigest() == digest
        assert serving.growth < 48 << 20, f"node {reader.port} grew by {serving.growth >> 20} MiB serving 100 MiB"
    assert pushing.growth < 48 << 20, f"node A grew by {pushing.growth >> 20} MiB taking a 100 MiB push"


def run_verify(c: Cluster, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(c.hoard_bin), "verify", "--root", str(c.tmp / "verifier"),
                           *c.seaweed.storage_args(c.bucket, PREFIX), *extra],
                          env=Seaweed.env(), capture_output=True, text=True, timeout=120)


def test_verify_reads_the_bucket_beside_a_live_node_and_names_a_corrupt_blob(cluster, channel_dir):
    c = cluster()
    (node,) = c.start(1)
    name = "fx-data-1.0-0.conda"
    data = package_bytes(channel_dir, name)
    resp = request(node.port, "GET", pkg_path(name))
    assert resp.status == 200 and resp.body == data
    wait_for_name(c, name)

    clean = run_verify(c)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "bucket is clean" in clean.stdout
    checked = re.search(r"verified (\d+) blobs", clean.stdout)
    assert checked and int(checked.group(1)) == len(c.keys("blobs/")), clean.stdout
    # It read the bucket, not the root it was given: nothing was made there.
    assert not (c.tmp / "verifier").exists()

    # Bytes that are not the package under its name (bit rot, or a copy made by hand).
    c.seaweed.client().put_object(Bucket=c.bucket, Key=c.blob_key(data), Body=data[:-1] + bytes([data[-1] ^ 1]))
    damaged = run_verify(c)
    assert damaged.returncode == 1, damaged.stdout + damaged.stderr
    assert "corrupt: 1" in damaged.stdout and c.blob_key(data).removeprefix(f"{PREFIX}/") in damaged.stdout
    assert "delete these objects" in damaged.stdout

    refused = run_verify(c, "--repair")
    assert refused.returncode != 0 and "--repair" in refused.stderr

    # What the report says to do works: with the object deleted, the node (serving all along)
    # fetches the package again, and the bucket is clean once more.
    c.seaweed.client().delete_object(Bucket=c.bucket, Key=c.blob_key(data))
    resp = request(node.port, "GET", pkg_path(name))
    assert resp.status == 200 and resp.body == data
    deadline = time.monotonic() + 10
    while c.keys("blobs/").get(c.blob_key(data)) != len(data):
        assert time.monotonic() < deadline, "the package was not stored again"
        time.sleep(0.1)
    again = run_verify(c)
    assert again.returncode == 0 and "bucket is clean" in again.stdout, again.stdout + again.stderr
