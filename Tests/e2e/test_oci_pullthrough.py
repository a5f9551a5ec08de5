"""hoard pulling through from a real OCI registry (Debian docker-registry on loopback).

(a) `--registry local=http://127.0.0.1:PORT`: an artifact pushed to the registry is pulled
    through `/v2/local/<repo>/...`, with and without htpasswd on the registry; each blob is asked
    upstream once, and a second pull works with the registry stopped.
(b) a conda channel whose upstream is `oci+http://127.0.0.1:PORT/<ns>/fixture` (the
    conda-oci-mirror layout of the fixture channel): py-rattler installs fx-app through hoard,
    cold, then again with the registry stopped; with a package missing from the mirror, the
    `--upstream-fallback` HTTP channel supplies it.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest

from conftest import HOARD_PROCS
from hoard import Hoard, HoardError, request
from rattler_client import run_client
import registry as reg

pytestmark = pytest.mark.skipif(not reg.available(), reason="docker-registry (Debian package) is not installed")

ACCEPT = {"Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"}


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
def run_hoard(hoard_bin: Path, tmp_path: Path, request: pytest.FixtureRequest):
    procs: list[Hoard] = request.node.stash.setdefault(HOARD_PROCS, [])  # logs shown on failure

    def start(upstreams: dict[str, str], *extra: str) -> Hoard:
        proc = Hoard(hoard_bin, tmp_path / "hoard-root", upstreams, log_path=tmp_path / f"hoard-{len(procs) + 1}.log",
                     extra_args=extra)
        procs.append(proc)
        try:
            return proc.start()
        except HoardError as exc:
            pytest.fail(str(exc), pytrace=False)

    yield start
    for proc in procs:
        if proc.ready:
            proc.stop()


def pull(hoard: Hoard, repo: str, tag: str) -> dict[str, bytes]:
    """Pulls a manifest by tag and every layer through hoard; returns digest -> bytes."""
    resp = request(hoard.port, "GET", f"/v2/{repo}/manifests/{tag}", headers=ACCEPT)
    assert resp.status == 200, resp.text
    manifest = json.loads(resp.body)
    assert resp.header("docker-content-digest") == "sha256:" + hashlib.sha256(resp.body).hexdigest()
    blobs = {}
    for layer in manifest["layers"]:
        got = request(hoard.port, "GET", f"/v2/{repo}/blobs/{layer['digest']}")
        assert got.status == 200, got.text
        assert "sha256:" + hashlib.sha256(got.body).hexdigest() == layer["digest"]
        blobs[layer["digest"]] = got.body
    return blobs


@pytest.mark.parametrize("auth", [False, True], ids=["anonymous", "htpasswd"])
def test_registry_pull_through(auth: bool, registries, run_hoard, monkeypatch):
    creds = {"user": "alice", "password": "wonderland"} if auth else {}
    upstream = registries(**creds)
    layers = [{"data": b"small layer\n", "mediaType": "application/octet-stream"},
              {"data": bytes(range(256)) * 8192, "mediaType": "application/octet-stream"}]  # 2 MiB
    digest = upstream.push_manifest("team/files", "v1", layers)
    if auth:
        monkeypatch.setenv("HOARD_REGISTRY_USER", "alice")
        monkeypatch.setenv("HOARD_REGISTRY_PASSWORD", "wonderland")
    hoard = run_hoard({}, "--registry", f"local={upstream.url}", "--registry-tag-ttl", "1s")

    first = pull(hoard, "local/team/files", "v1")
    assert sorted(first.values()) == sorted(layer["data"] for layer in layers)
    by_digest = request(hoard.port, "GET", f"/v2/local/team/files/manifests/{digest}", headers=ACCEPT)
    assert by_digest.status == 200 and by_digest.header("docker-content-digest") == digest
    second = pull(hoard, "local/team/files", "v1")
    assert second == first
    for blob in first:
        asked = [u for u in upstream.requests() if u.endswith(f"/blobs/{blob}")]
        assert len(asked) == 1, f"{blob} asked upstream {len(asked)} times"

    # Cached blobs answer conditional GETs like packages: ETag is the digest.
    for blob, data in first.items():
        path = f"/v2/local/team/files/blobs/{blob}"
        etag = f'"{blob}"'
        for method in ("GET", "HEAD"):
            cached = request(hoard.port, method, path, {"If-None-Match": etag})
            assert (cached.status, cached.body) == (304, b""), (method, cached.text)
            assert cached.header("ETag") == etag and cached.header("Docker-Content-Digest") == blob
        resumed = request(hoard.port, "GET", path, {"Range": "bytes=3-", "If-Range": etag})
        assert (resumed.status, resumed.body) == (206, data[3:])
        assert resumed.header("Content-Range") == f"bytes 3-{len(data) - 1}/{len(data)}"
        stale = request(hoard.port, "GET", path, {"Range": "bytes=3-", "If-Range": '"sha256:0000"'})
        assert (stale.status, stale.body) == (200, data)
        outside = request(hoard.port, "GET", path, {"Range": f"bytes={len(data)}-"})
        assert outside.status == 416 and outside.header("Content-Range") == f"bytes */{len(data)}"
        assert json.loads(outside.body)["errors"][0]["code"] == "BLOB_UNKNOWN"
        assert request(hoard.port, "GET", path, {"Range": "bytes=9-3"}).status == 200

    upstream.stop()
    time.sleep(1.2)  # past the tag TTL: hoard must fall back to its last resolution
    assert pull(hoard, "local/team/files", "v1") == first
    # Nothing stored: the error comes once the connection attempts give up (hoard's connect timeout).
    missing = request(hoard.port, "GET", "/v2/local/team/other/manifests/v1", headers=ACCEPT, timeout=90)
    assert missing.status in (502, 504), missing.text
    assert request(hoard.port, "GET", "/v2/nothere/team/files/manifests/v1", headers=ACCEPT).status == 404


def test_registry_pull_through_refuses_pushes_and_unknown_content(registries, run_hoard):
    upstream = registries()
    upstream.push_manifest("team/files", "v1", [{"data": b"x", "mediaType": "application/octet-stream"}])
    hoard = run_hoard({}, "--registry", f"local={upstream.url}")
    assert request(hoard.port, "GET", "/v2/local/team/files/manifests/v2", headers=ACCEPT).status == 404
    absent = "sha256:" + hashlib.sha256(b"absent").hexdigest()
    assert request(hoard.port, "GET", f"/v2/local/team/files/blobs/{absent}").status == 404


def test_conda_channel_from_oci_mirror(registries, run_hoard, channel_dir: Path, client_dirs):
    upstream = registries()
    reg.seed_conda_mirror(upstream, channel_dir, "mirrors/fixture")
    hoard = run_hoard({"fixture": f"oci+http://127.0.0.1:{upstream.port}/mirrors/fixture"})

    prefix, cache = client_dirs()
    result = run_client(hoard.channel_url("fixture"), prefix, cache)
    assert result.ok, result.stderr
    assert {p["file_name"] for p in result.installed} >= {"fx-app-1.0-0.conda", "fx-lib-1.0-0.conda", "fx-data-1.0-0.conda"}
    blob_gets = [u for u in upstream.requests() if "/blobs/" in u]
    assert len(blob_gets) == len(set(blob_gets)), "a blob was fetched from the registry twice"

    upstream.stop()
    prefix, cache = client_dirs()
    again = run_client(hoard.channel_url("fixture"), prefix, cache)
    assert again.ok, again.stderr


def test_conda_oci_mirror_falls_back_to_http_channel(registries, run_hoard, channel_dir: Path, client_dirs, upstream):
    registry = registries()
    reg.seed_conda_mirror(registry, channel_dir, "mirrors/fixture", skip={"fx-data-1.0-0.conda"})
    hoard = run_hoard({"fixture": f"oci+http://127.0.0.1:{registry.port}/mirrors/fixture"},
                      "--upstream-fallback", f"fixture={upstream.url}")
    prefix, cache = client_dirs()
    result = run_client(hoard.channel_url("fixture"), prefix, cache, shards=False)
    assert result.ok, result.stderr
    assert upstream.count("GET", "/channel/noarch/fx-data-1.0-0.conda") == 1
    assert upstream.count("GET", "/channel/noarch/fx-lib-1.0-0.conda") == 0
