"""`hoard sync`: publish the store to a real OCI registry as a conda mirror, and read it back.

hoard pulls the fixture channel through (repodata and every package), stops, and `hoard sync
--registry` pushes the store to Debian's docker-registry on loopback (without and with htpasswd)
or to a second `hoard serve`. Then:
- every package tag's manifest is byte for byte the one hoard's own OCI view (`/v2/conda/...`)
  synthesises, its layers are the channel's files, and `repodata.json:latest` (and the dated
  tag) lists exactly the packages the registry holds;
- a second sync pushes nothing; a package deleted from the registry stays gone for a shallow
  sync (the published inventory says it is there) and is restored by a deep one;
- a sync killed mid-way and run again completes without uploading any blob twice;
- hoard with that registry as its OCI upstream serves the channel to py-rattler;
- `hoard sync --from` seeds a fresh store that serves py-rattler with the upstream gone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import msgpack
import pytest
import zstandard

from hoard import Hoard, HoardError, request
from rattler_client import run_client
from test_oci_mirror import make_certificates, port_443  # noqa: F401 - port_443 is a fixture
import registry as reg

pytestmark = pytest.mark.skipif(not reg.available(), reason="docker-registry (Debian package) is not installed")

ACCEPT = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
SUBDIRS = ("noarch", "linux-64")
# The fixture's package tags: fx-lib has both formats under one tag.
TAGS = {("noarch", "fx-lib"), ("noarch", "fx-data"), ("linux-64", "fx-app")}


# ---- helpers --------------------------------------------------------------------------------------

def channel_files(channel_dir: Path) -> dict[tuple[str, str], dict]:
    """(subdir, filename) -> repodata record, both formats."""
    out = {}
    for subdir in SUBDIRS:
        repodata = json.loads((channel_dir / subdir / "repodata.json").read_text())
        for section in ("packages", "packages.conda"):
            for filename, record in repodata.get(section, {}).items():
                out[(subdir, filename)] = record
    return out


def fill_store(hoard: Hoard, channel_dir: Path, only: set[str] | None = None) -> None:
    """Pulls the repodata, the shard index and every shard, and every (or `only` these) package
    of the fixture through hoard."""
    for subdir in SUBDIRS:
        assert request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json").status == 200
        index = request(hoard.port, "GET", f"/fixture/{subdir}/repodata_shards.msgpack.zst")
        assert index.status == 200, index.text
        shards = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(index.body, max_output_size=1 << 24), raw=False)["shards"]
        for digest in shards.values():
            hexdigest = digest.hex() if isinstance(digest, bytes) else digest
            assert request(hoard.port, "GET", f"/fixture/{subdir}/shards/{hexdigest}.msgpack.zst").status == 200
    for (subdir, filename) in channel_files(channel_dir):
        if only is None or filename in only:
            resp = request(hoard.port, "GET", f"/fixture/{subdir}/{filename}")
            assert resp.status == 200, resp.text


def run_sync(hoard_bin: Path, root: Path, *args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    cmd = [str(hoard_bin), "sync", "--root", str(root), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def summary_counts(stdout: str) -> dict[str, int]:
    m = re.search(r"(?:pushed|would push|pulled) (\d+) package\(s\), (\d+) already present, (\d+) skipped, (\d+) failed", stdout)
    assert m, stdout
    return dict(zip(("pushed", "present", "skipped", "failed"), map(int, m.groups())))


class RegistryReader:
    """Reads a registry as a client would (Basic credentials when it has htpasswd)."""

    def __init__(self, base: str, user: str | None = None, password: str | None = None):
        self.base = base
        self.auth = None
        if user:
            self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def get(self, path: str, method: str = "GET") -> tuple[int, dict, bytes]:
        req = urllib.request.Request(self.base + path, method=method, headers=dict(ACCEPT))
        if self.auth:
            req.add_header("Authorization", self.auth)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()

    def manifest(self, repo: str, ref: str) -> tuple[bytes, str] | None:
        status, headers, body = self.get(f"/v2/{repo}/manifests/{ref}")
        if status == 404:
            return None
        assert status == 200, body
        return body, headers.get("docker-content-digest")

    def blob(self, repo: str, digest: str) -> bytes:
        status, _, body = self.get(f"/v2/{repo}/blobs/{digest}")
        assert status == 200, (repo, digest, body)
        assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
        return body

    def delete(self, repo: str, digest: str) -> None:
        status, _, body = self.get(f"/v2/{repo}/manifests/{digest}", method="DELETE")
        assert status == 202, body

    def published(self, prefix: str, subdir: str) -> tuple[dict, bytes]:
        """The repodata layer of `repodata.json:latest` (parsed) and the manifest bytes."""
        got = self.manifest(f"{prefix}/{subdir}/repodata.json", "latest")
        assert got is not None, f"{prefix}/{subdir}/repodata.json:latest is missing"
        manifest = json.loads(got[0])
        layers = {layer["mediaType"]: layer for layer in manifest["layers"]}
        raw = self.blob(f"{prefix}/{subdir}/repodata.json", layers["application/vnd.conda.repodata.v1+json"]["digest"])
        zst = self.blob(f"{prefix}/{subdir}/repodata.json", layers["application/vnd.conda.repodata.v1+json+zst"]["digest"])
        assert zstandard.ZstdDecompressor().decompress(zst, max_output_size=1 << 28) == raw
        return json.loads(raw), got[0]


def published_files(repodata: dict) -> set[str]:
    return set(repodata.get("packages", {})) | set(repodata.get("packages.conda", {}))


def write_requests(registry: reg.DockerRegistry) -> list[str]:
    return [f"{m} {u}" for m in ("PUT", "POST", "PATCH", "DELETE") for u in registry.requests(m)]


@pytest.fixture
def registries(tmp_path: Path):
    started: list[reg.DockerRegistry] = []

    def start(name: str = "registry", **auth) -> reg.DockerRegistry:
        r = reg.DockerRegistry(tmp_path / name, **auth).start()
        started.append(r)
        return r

    yield start
    for r in started:
        r.stop()


@pytest.fixture
def filled_root(start_hoard, channel_dir: Path, tmp_path: Path) -> Path:
    """A store holding the whole fixture channel, its hoard stopped (sync takes the store's lock)."""
    hoard = start_hoard()
    fill_store(hoard, channel_dir)
    hoard.stop()
    return hoard.root


# ---- tests ------------------------------------------------------------------------------------------

def test_sync_publishes_the_store_as_the_oci_view_does(filled_root: Path, registries, hoard_bin: Path, channel_dir: Path,
                                                       start_hoard):
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/mirror"
    first = run_sync(hoard_bin, filled_root, "--registry", target)
    assert first.returncode == 0, first.stdout + first.stderr
    assert summary_counts(first.stdout) == {"pushed": 3, "present": 0, "skipped": 0, "failed": 0}

    reader = RegistryReader(registry.url)
    files = channel_files(channel_dir)
    for subdir in SUBDIRS:
        repodata, _ = reader.published("mirror/fixture", subdir)
        assert published_files(repodata) == {f for (s, f) in files if s == subdir}
    # Every archive layer is the channel's file; its digest is the repodata sha256.
    for (subdir, filename), record in files.items():
        tag = reg.oci_tag(record["version"], record["build"])
        body, digest = reader.manifest(f"mirror/fixture/{subdir}/{record['name']}", tag)
        assert digest == "sha256:" + hashlib.sha256(body).hexdigest()
        manifest = json.loads(body)
        assert "artifactType" not in manifest and "subject" not in manifest
        layer = next(l for l in manifest["layers"] if l["annotations"]["org.opencontainers.image.title"] == filename)
        assert layer["digest"] == "sha256:" + record["sha256"]
        assert layer["annotations"]["org.conda.md5"] == record["md5"]
        assert reader.blob(f"mirror/fixture/{subdir}/{record['name']}", layer["digest"]) == (channel_dir / subdir / filename).read_bytes()

    # One manifest builder: hoard's read-only OCI view hands out the very same bytes.
    view = start_hoard(root=filled_root)
    for subdir, name in TAGS:
        record = next(r for (s, f), r in files.items() if s == subdir and r["name"] == name)
        tag = reg.oci_tag(record["version"], record["build"])
        ours = request(view.port, "GET", f"/v2/conda/fixture/{subdir}/{name}/manifests/{tag}", headers=ACCEPT)
        assert ours.status == 200, ours.text
        assert reader.manifest(f"mirror/fixture/{subdir}/{name}", tag)[0] == ours.body
    for subdir in SUBDIRS:
        ours = request(view.port, "GET", f"/v2/conda/fixture/{subdir}/repodata.json/manifests/latest", headers=ACCEPT)
        _, published = reader.published("mirror/fixture", subdir)
        assert published == ours.body  # complete mirror: the snapshot hoard serves, as is
        # §1.5: the shard index is its third layer, and every shard it names is a tag of its own.
        index_layer = json.loads(published)["layers"][2]
        assert index_layer["mediaType"] == "application/vnd.conda.repodata.shards.v1+msgpack+zst"
        index = msgpack.unpackb(zstandard.ZstdDecompressor().decompress(
            reader.blob(f"mirror/fixture/{subdir}/repodata.json", index_layer["digest"]), max_output_size=1 << 24), raw=False)
        for digest in index["shards"].values():
            hexdigest = digest.hex() if isinstance(digest, bytes) else digest
            shard = reader.manifest(f"mirror/fixture/{subdir}/repodata.json/shards", hexdigest)
            assert shard is not None, hexdigest
            mine = request(view.port, "GET", f"/v2/conda/fixture/{subdir}/repodata.json/shards/manifests/{hexdigest}", headers=ACCEPT)
            assert mine.status == 200 and mine.body == shard[0]
        dated = json.loads(ours.body)["layers"][0]["annotations"]["creationTime"]
        assert reader.manifest(f"mirror/fixture/{subdir}/repodata.json", dated)[0] == ours.body
    view.stop()

    # A second sync pushes nothing: no write reaches the registry.
    writes = write_requests(registry)
    second = run_sync(hoard_bin, filled_root, "--registry", target)
    assert second.returncode == 0, second.stdout + second.stderr
    assert summary_counts(second.stdout) == {"pushed": 0, "present": 3, "skipped": 0, "failed": 0}
    assert "already current" in second.stdout
    assert write_requests(registry) == writes

    # A package deleted from the registry: shallow trusts the published inventory, deep repairs.
    data = next(r for (s, f), r in files.items() if r["name"] == "fx-data")
    repo, tag = "mirror/fixture/noarch/fx-data", reg.oci_tag(data["version"], data["build"])
    body, digest = reader.manifest(repo, tag)
    reader.delete(repo, digest)
    assert reader.manifest(repo, tag) is None
    shallow = run_sync(hoard_bin, filled_root, "--registry", target)
    assert summary_counts(shallow.stdout)["pushed"] == 0
    assert reader.manifest(repo, tag) is None
    uploads_before = [u for u in registry.requests("PUT") if "/blobs/uploads/" in u]
    deep = run_sync(hoard_bin, filled_root, "--registry", target, "--mode", "deep")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    assert summary_counts(deep.stdout) == {"pushed": 1, "present": 2, "skipped": 0, "failed": 0}
    assert reader.manifest(repo, tag) == (body, digest)
    # The blob was still there (HEAD): only the manifest moved.
    assert [u for u in registry.requests("PUT") if "/blobs/uploads/" in u] == uploads_before


def test_sync_filters_dry_run_and_partial_repodata(filled_root: Path, registries, hoard_bin: Path, channel_dir: Path):
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/part"
    plan = run_sync(hoard_bin, filled_root, "--registry", target, "--package", "fx-lib@1\\.0", "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert summary_counts(plan.stdout)["pushed"] == 1
    assert "would push fixture/noarch/fx-lib:1.0-0" in plan.stdout
    assert write_requests(registry) == []

    assert run_sync(hoard_bin, filled_root, "--registry", target, "--package", "fx-lib@2.*").stdout.count("pushed 0 package(s)") == 1
    only = run_sync(hoard_bin, filled_root, "--registry", target, "--package", "fx-lib", "--subdir", "noarch")
    assert only.returncode == 0, only.stdout + only.stderr
    assert summary_counts(only.stdout)["pushed"] == 1
    reader = RegistryReader(registry.url)
    repodata, _ = reader.published("part/fixture", "noarch")
    # Only what the registry really holds is listed: a client never resolves to a missing package.
    assert published_files(repodata) == {"fx-lib-1.0-0.conda", "fx-lib-1.0-0.tar.bz2"}
    assert reader.manifest("part/fixture/linux-64/repodata.json", "latest") is None

    # A later full sync keeps fx-lib listed (the inventory) and adds the rest.
    full = run_sync(hoard_bin, filled_root, "--registry", target)
    assert summary_counts(full.stdout) == {"pushed": 2, "present": 1, "skipped": 0, "failed": 0}
    repodata, _ = reader.published("part/fixture", "noarch")
    assert published_files(repodata) == {"fx-lib-1.0-0.conda", "fx-lib-1.0-0.tar.bz2", "fx-data-1.0-0.conda"}


def test_sync_with_htpasswd_and_health(filled_root: Path, registries, hoard_bin: Path):
    registry = registries(user="alice", password="wonderland")
    target = f"http://127.0.0.1:{registry.port}/mirror"
    health = subprocess.run([str(hoard_bin), "health", "--registry", target], capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if not k.startswith("HOARD_REGISTRY")})
    assert health.returncode == 1 and "wants Basic credentials" in health.stderr, health.stdout + health.stderr
    denied = run_sync(hoard_bin, filled_root, "--registry", target)
    assert denied.returncode == 1
    assert "refused" in denied.stdout + denied.stderr
    assert registry.requests("PUT") == []

    creds = {"HOARD_REGISTRY_USER": "alice", "HOARD_REGISTRY_PASSWORD": "wonderland"}
    wrong = run_sync(hoard_bin, filled_root, "--registry", target, env={**creds, "HOARD_REGISTRY_PASSWORD": "nope"})
    assert wrong.returncode == 1
    ok = subprocess.run([str(hoard_bin), "health", "--registry", target], capture_output=True, text=True, timeout=60,
                        env={**os.environ, **creds})
    assert ok.returncode == 0 and "Basic" in ok.stdout, ok.stdout + ok.stderr
    pushed = run_sync(hoard_bin, filled_root, "--registry", target, env=creds)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert summary_counts(pushed.stdout) == {"pushed": 3, "present": 0, "skipped": 0, "failed": 0}
    reader = RegistryReader(registry.url, "alice", "wonderland")
    repodata, _ = reader.published("mirror/fixture", "noarch")
    assert published_files(repodata) == {"fx-lib-1.0-0.conda", "fx-lib-1.0-0.tar.bz2", "fx-data-1.0-0.conda"}


def test_sync_to_a_second_hoard(filled_root: Path, hoard_bin: Path, tmp_path: Path, start_hoard):
    htpasswd = tmp_path / "users.htpasswd"
    entry = subprocess.run(["htpasswd", "-Bbn", "bob", "builder"], capture_output=True, text=True, check=True).stdout
    htpasswd.write_text(entry)
    target_hoard = Hoard(hoard_bin, tmp_path / "target-root", {}, log_path=tmp_path / "target.log",
                         extra_args=("--htpasswd", str(htpasswd)))
    try:
        target_hoard.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    try:
        creds = {"HOARD_REGISTRY_USER": "bob", "HOARD_REGISTRY_PASSWORD": "builder"}
        target = f"http://127.0.0.1:{target_hoard.port}/team"
        pushed = run_sync(hoard_bin, filled_root, "--registry", target, env=creds)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr + target_hoard.log_tail()
        assert summary_counts(pushed.stdout)["pushed"] == 3
        again = run_sync(hoard_bin, filled_root, "--registry", target, env=creds)
        assert summary_counts(again.stdout) == {"pushed": 0, "present": 3, "skipped": 0, "failed": 0}
        got = request(target_hoard.port, "GET", "/v2/team/fixture/noarch/fx-lib/manifests/1.0-0", headers=ACCEPT)
        assert got.status == 200, got.text
        view = start_hoard(root=filled_root)
        ours = request(view.port, "GET", "/v2/conda/fixture/noarch/fx-lib/manifests/1.0-0", headers=ACCEPT)
        assert ours.body == got.body
    finally:
        target_hoard.stop()


def test_sync_to_a_new_registry_sends_only_the_requests_it_needs(filled_root: Path, registries, hoard_bin: Path):
    """docker-registry's CPU per request bounds a sync of small packages: a package whose
    repository the catalog does not list gets no HEAD (manifest or blob), its shared empty config
    is mounted, and each other blob costs one POST and one PUT."""
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/mirror"
    pushed = run_sync(hoard_bin, filled_root, "--registry", target, "--jobs", "1")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert summary_counts(pushed.stdout) == {"pushed": 3, "present": 0, "skipped": 0, "failed": 0}
    package_repos = {f"/v2/mirror/fixture/{subdir}/{name}/" for subdir, name in TAGS}

    def of_packages(method: str) -> list[str]:
        return [u for u in registry.requests(method) if any(u.startswith(p) for p in package_repos)]

    assert of_packages("HEAD") == []
    assert [u for u in registry.requests("GET") if u.startswith("/v2/_catalog")] == ["/v2/_catalog?n=1000&last=mirror"]
    manifest_puts = [u for u in of_packages("PUT") if "/manifests/" in u]
    uploads = [u for u in of_packages("PUT") if "/blobs/uploads/" in u]
    posts = of_packages("POST")
    mounts = [u for u in posts if "mount=" in u]
    assert len(manifest_puts) == 3
    # Per package: the empty config (uploaded by the first package, mounted by the others) and
    # the archive(s), info.tar.gz and info/index.json, each uploaded once.
    layers = 4 + 3 + 3  # fx-lib has two archives
    assert len(mounts) == 2
    assert len(uploads) == layers + 1
    assert len(posts) == len(uploads) + len(mounts)


def test_sync_killed_midway_resumes_without_duplicates(filled_root: Path, registries, hoard_bin: Path):
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/mirror"
    proc = subprocess.Popen([str(hoard_bin), "sync", "--root", str(filled_root), "--registry", target, "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # the first package finished
    assert "pushed" in line, line + proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    reader = RegistryReader(registry.url)
    killed_midway = reader.manifest("mirror/fixture/noarch/repodata.json", "latest") is None

    rerun = run_sync(hoard_bin, filled_root, "--registry", target)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    counts = summary_counts(rerun.stdout)
    assert counts["failed"] == 0 and counts["pushed"] + counts["present"] == 3
    if killed_midway:
        assert counts["present"] >= 1  # what the killed run pushed is found by HEAD, not pushed again
    # No blob was uploaded twice to a repository.
    uploads = [u for u in registry.requests("PUT") if "/blobs/uploads/" in u]
    keys = [(u.split("/blobs/uploads/")[0], re.search(r"digest=([^&]+)", u).group(1)) for u in uploads]
    assert len(keys) == len(set(keys)), uploads
    for subdir in SUBDIRS:
        assert reader.manifest(f"mirror/fixture/{subdir}/repodata.json", "latest") is not None


def test_hoard_serves_the_synced_registry_and_sync_from_seeds_a_store(filled_root: Path, registries, hoard_bin: Path,
                                                                       tmp_path: Path, start_hoard, client_dirs):
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/mirror"
    assert run_sync(hoard_bin, filled_root, "--registry", target).returncode == 0

    # hoard with the registry as its OCI upstream serves the channel to py-rattler.
    via_oci = start_hoard(upstreams={"fixture": f"oci+http://127.0.0.1:{registry.port}/mirror/fixture"},
                          root=tmp_path / "oci-root")
    prefix, cache = client_dirs()
    result = run_client(via_oci.channel_url("fixture"), prefix, cache, shards=False)
    assert result.ok, result.stderr + via_oci.log_tail()
    assert {p["file_name"] for p in result.installed} >= {"fx-app-1.0-0.conda", "fx-data-1.0-0.conda"}
    via_oci.stop()

    # --from seeds a fresh store; hoard then serves it with the upstream gone.
    seeded = tmp_path / "seeded-root"
    pulled = run_sync(hoard_bin, seeded, "--from", target, "--channel", "fixture")
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert summary_counts(pulled.stdout) == {"pushed": 4, "present": 0, "skipped": 0, "failed": 0}
    again = run_sync(hoard_bin, seeded, "--from", target, "--channel", "fixture")
    assert summary_counts(again.stdout) == {"pushed": 0, "present": 4, "skipped": 0, "failed": 0}
    registry.stop()
    offline = start_hoard(upstreams={"fixture": "http://127.0.0.1:9/gone"}, root=seeded)
    prefix, cache = client_dirs()
    result = run_client(offline.channel_url("fixture"), prefix, cache, shards=False, max_retries=0)
    assert result.ok, result.stderr + offline.log_tail()
    assert {p["file_name"] for p in result.installed} >= {"fx-app-1.0-0.conda", "fx-data-1.0-0.conda"}


COI = Path(__file__).resolve().parent / ".venv-coi" / "bin" / "conda-oci"


@pytest.mark.skipif(not COI.exists(), reason="conda-oci-mirror's venv (Tests/e2e/.venv-coi, made by `make e2e-deps`) is missing")
def test_conda_oci_mirror_pull_cache_reads_the_sync_back(filled_root: Path, registries, hoard_bin: Path, channel_dir: Path,
                                                         tmp_path: Path):
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/mirror"
    # Chunked uploads too: fx-data (3 MiB) goes up in 1 MiB PATCHes.
    pushed = run_sync(hoard_bin, filled_root, "--registry", target, "--chunk-size", "1MiB")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert len(registry.requests("PATCH")) >= 3
    cache = tmp_path / "coi-cache"
    pulled = subprocess.run([str(COI), "pull-cache", "--registry", target, "--channel", "fixture", "--subdir", "noarch",
                             "--subdir", "linux-64", "--cache-dir", str(cache)],
                            capture_output=True, text=True, timeout=300, env={**os.environ, "ORAS_USER": "", "ORAS_PASS": ""})
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    reader = RegistryReader(registry.url)
    for subdir in SUBDIRS:
        published, _ = reader.published("mirror/fixture", subdir)
        assert json.loads((cache / "fixture" / subdir / "repodata.json").read_bytes()) == published
    # pull-cache takes the newest of each name and format: every fixture file, byte for byte.
    for (subdir, filename) in channel_files(channel_dir):
        got = cache / "fixture" / subdir / filename
        assert got.is_file(), f"pull-cache did not write {subdir}/{filename}:\n{pulled.stdout}{pulled.stderr}"
        assert got.read_bytes() == (channel_dir / subdir / filename).read_bytes()


def test_rattler_installs_from_the_synced_registry_over_oci(filled_root: Path, registries, hoard_bin: Path, tmp_path: Path,
                                                            client_dirs, port_443):
    """py-rattler's `oci://` always uses https on 443: a second docker-registry serves the synced
    registry's storage there over TLS (a test CA), and rattler installs fx-app as a mirror."""
    registry = registries()
    target = f"http://127.0.0.1:{registry.port}/mirror"
    assert run_sync(hoard_bin, filled_root, "--registry", target).returncode == 0
    ca, cert, key = make_certificates(tmp_path)
    tls = reg.DockerRegistry(tmp_path / "tls-registry")
    tls.port = port_443
    (tls.dir / "config.yml").write_text("\n".join([
        "version: 0.1",
        "log: {level: info, accesslog: {disabled: true}}",
        f"storage: {{filesystem: {{rootdirectory: {registry.dir / 'data'}}}}}",
        f"http: {{addr: 127.0.0.1:{port_443}, tls: {{certificate: {cert}, key: {key}}}}}",
    ]) + "\n")
    tls.start()
    try:
        source = "https://conda.example.invalid/fixture"
        for shards in (True, False):
            prefix, cache = client_dirs()
            result = run_client(source, prefix, cache, mirrors={source: "oci://127.0.0.1/mirror/fixture"}, ca_file=ca,
                                shards=shards)
            assert result.ok, result.describe()
            assert sorted(p["name"] for p in result.installed) == ["fx-app", "fx-data", "fx-lib"]
            out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True, timeout=30)
            assert out.returncode == 0 and "fx-app 1.0" in out.stdout
    finally:
        tls.stop()
