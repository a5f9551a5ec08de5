"""End-to-end tests of hoard's OCI registry front with real clients.

- PyPI `oras` pushes and pulls a file artifact over plain http with htpasswd auth (token flow).
- Debian `skopeo` copies an OCI layout into hoard and back out, digests preserved.
- Debian `skopeo` copies between a Debian `docker-registry` (started here on a free loopback port)
  and hoard in both directions with `--preserve-digests`.

Each test starts its own hoard with `--htpasswd` (made with Debian `htpasswd -B`) and no upstream.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from hoard import Hoard, HoardError, free_port, request

USER, PASSWORD = "alice", "secret"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed (make deps installs it)")
    return path


@pytest.fixture
def htpasswd_file(tmp_path: Path) -> Path:
    out = subprocess.run([need("htpasswd"), "-nbB", USER, PASSWORD], check=True, capture_output=True, text=True).stdout
    path = tmp_path / "htpasswd"
    path.write_text(out)
    return path


@pytest.fixture
def oci_hoard(hoard_bin: Path, htpasswd_file: Path, tmp_path: Path):
    proc = Hoard(hoard_bin, tmp_path / "hoard-root", {}, log_path=tmp_path / "hoard.log",
                 extra_args=("--htpasswd", str(htpasswd_file)))
    try:
        proc.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    yield proc
    code = proc.stop()
    assert code in (0, None), f"hoard exited with {code}\n{proc.log_tail()}"


@pytest.fixture
def skopeo_env(tmp_path: Path) -> dict[str, str]:
    """skopeo with no stored credentials and an accept-anything policy (the images are our own)."""
    need("skopeo")
    home = tmp_path / "skopeo-home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), REGISTRY_AUTH_FILE=str(home / "auth.json"))
    return env


def skopeo(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(["skopeo", "--insecure-policy", *args], env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        pytest.fail(f"skopeo {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def make_oci_layout(path: Path, tag: str = "v1") -> dict[str, str]:
    """A one-layer OCI image layout; returns the digests of manifest, config and layer."""
    blobs = path / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> str:
        digest = sha256(data)
        (blobs / digest.split(":")[1]).write_bytes(data)
        return digest

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        payload = os.urandom(300_000)
        info = tarfile.TarInfo("data/payload.bin")
        info.size = len(payload)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(payload))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256(raw.getvalue())]}}).encode()
    layer_digest, config_digest = put(layer), put(config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": len(layer)}],
    }).encode()
    manifest_digest = put(manifest)
    (path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (path / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}],
    }))
    return {"manifest": manifest_digest, "config": config_digest, "layer": layer_digest}


def layout_blobs(path: Path) -> set[str]:
    return {"sha256:" + p.name for p in (path / "blobs" / "sha256").iterdir()}


def raw_manifest_digest(env: dict[str, str], ref: str, *flags: str) -> str:
    proc = subprocess.run(["skopeo", "--insecure-policy", "inspect", "--raw", *flags, ref], env=env,
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        pytest.fail(f"skopeo inspect --raw {ref} failed:\n{proc.stderr.decode(errors='replace')}")
    return sha256(proc.stdout)


# ---- oras -------------------------------------------------------------------------------------

def test_oras_pushes_and_pulls_a_file_artifact(oci_hoard: Hoard, tmp_path: Path):
    import oras.client

    work = tmp_path / "oras"
    work.mkdir()
    artifact = work / "artifact.txt"
    artifact.write_bytes(os.urandom(1000) + b"hoard\n")
    target = f"127.0.0.1:{oci_hoard.port}/e2e/files:v1"

    anonymous = oras.client.OrasClient(hostname=f"127.0.0.1:{oci_hoard.port}", insecure=True)
    with pytest.raises(Exception):
        cwd = os.getcwd()
        os.chdir(work)
        try:
            anonymous.push(files=["artifact.txt"], target=target)
        finally:
            os.chdir(cwd)

    client = oras.client.OrasClient(hostname=f"127.0.0.1:{oci_hoard.port}", insecure=True)
    client.auth.set_basic_auth(USER, PASSWORD)
    cwd = os.getcwd()
    os.chdir(work)  # oras stores the path as given as the layer title
    try:
        resp = client.push(files=["artifact.txt"], target=target)
    finally:
        os.chdir(cwd)
    assert resp.status_code == 201

    assert client.get_tags(target) == ["v1"]
    out = tmp_path / "pulled"
    reader = oras.client.OrasClient(hostname=f"127.0.0.1:{oci_hoard.port}", insecure=True)  # anonymous pull
    files = reader.pull(target=target, outdir=str(out))
    assert [Path(f).name for f in files] == ["artifact.txt"]
    assert (out / "artifact.txt").read_bytes() == artifact.read_bytes()

    # The manifest is served byte-exact with its digest.
    resp = request(oci_hoard.port, "GET", "/v2/e2e/files/manifests/v1",
                   {"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert resp.status == 200
    assert resp.header("docker-content-digest") == sha256(resp.body)


# ---- skopeo: OCI layout <-> hoard ---------------------------------------------------------------

def test_skopeo_copies_an_oci_layout_in_and_out(oci_hoard: Hoard, skopeo_env: dict[str, str], tmp_path: Path):
    source = tmp_path / "layout-in"
    digests = make_oci_layout(source)
    hoard_ref = f"docker://127.0.0.1:{oci_hoard.port}/e2e/image:v1"

    skopeo(skopeo_env, "copy", "--dest-tls-verify=false", f"--dest-creds={USER}:{PASSWORD}",
           f"oci:{source}:v1", hoard_ref)
    assert raw_manifest_digest(skopeo_env, hoard_ref, "--tls-verify=false") == digests["manifest"]

    out = tmp_path / "layout-out"
    skopeo(skopeo_env, "copy", "--src-tls-verify=false", hoard_ref, f"oci:{out}:v1")
    assert layout_blobs(out) == layout_blobs(source)
    index = json.loads((out / "index.json").read_text())
    assert index["manifests"][0]["digest"] == digests["manifest"]
    for digest in digests.values():
        hexdigest = digest.split(":")[1]
        assert (out / "blobs" / "sha256" / hexdigest).read_bytes() == (source / "blobs" / "sha256" / hexdigest).read_bytes()


# ---- skopeo: docker-registry <-> hoard ---------------------------------------------------------

@pytest.fixture
def docker_registry(tmp_path: Path):
    binary = need("docker-registry")
    port = free_port()
    data = tmp_path / "registry-data"
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\n"
        f"storage: {{filesystem: {{rootdirectory: {data}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
        "log: {level: warn}\n")
    log = open(tmp_path / "registry.log", "wb")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/v2/", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("docker-registry did not start:\n" + (tmp_path / "registry.log").read_text())
    yield port
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


def test_skopeo_copies_between_docker_registry_and_hoard(oci_hoard: Hoard, docker_registry: int,
                                                         skopeo_env: dict[str, str], tmp_path: Path):
    source = tmp_path / "layout"
    digests = make_oci_layout(source)
    registry_ref = f"docker://127.0.0.1:{docker_registry}/e2e/image:v1"
    hoard_ref = f"docker://127.0.0.1:{oci_hoard.port}/mirror/image:v1"
    back_ref = f"docker://127.0.0.1:{docker_registry}/e2e/back:v1"

    skopeo(skopeo_env, "copy", "--dest-tls-verify=false", f"oci:{source}:v1", registry_ref)
    skopeo(skopeo_env, "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
           f"--dest-creds={USER}:{PASSWORD}", registry_ref, hoard_ref)
    assert raw_manifest_digest(skopeo_env, hoard_ref, "--tls-verify=false") == digests["manifest"]

    skopeo(skopeo_env, "copy", "--preserve-digests", "--src-tls-verify=false", "--dest-tls-verify=false",
           hoard_ref, back_ref)
    assert raw_manifest_digest(skopeo_env, back_ref, "--tls-verify=false") == digests["manifest"]

    # Every blob of the image is in hoard, pinned to the repository it was pushed to.
    for digest in (digests["config"], digests["layer"]):
        resp = request(oci_hoard.port, "HEAD", f"/v2/mirror/image/blobs/{digest}")
        assert resp.status == 200, digest
