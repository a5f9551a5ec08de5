"""`hoard export` / `hoard import`: an OCI image-layout tar that carries a channel to another site.

One hoard fills its store through py-rattler (shards on) and plain GETs of the repodata, and its
read-only OCI view (/v2/conda/...) hands out the manifests. Then, with that hoard stopped:

- `hoard export` writes the tar; skopeo (`oci-archive:`) reads the package, repodata and shard
  manifests back byte-identical to what the view served (one manifest digest everywhere), and
  oras (oras-py's OCI layout reader, on the unpacked archive) validates the layout and walks a
  package's blobs;
- `hoard import` into an empty root, twice (the second adds nothing), and a hoard on that root on
  another port with the upstream stopped gives py-rattler the same install;
- an archive with one flipped byte in a blob, or with an entry outside the layout, is refused and
  leaves the target store without a single name.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from fixture_channel import FX_APP_BANNER
from hoard import Hoard, request
from rattler_client import run_client

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PACKAGES = {"linux-64": ["fx-app"], "noarch": ["fx-lib", "fx-data"]}


def hoard_cli(hoard_bin: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(hoard_bin), *args], capture_output=True, text=True, timeout=300)


def view_manifest(port: int, repository: str, tag: str) -> bytes:
    resp = request(port, "GET", f"/v2/conda/{repository}/manifests/{tag}", headers={"Accept": MANIFEST})
    assert resp.status == 200, f"{repository}:{tag}: {resp.status} {resp.text[:300]}"
    return resp.body


def skopeo_raw(archive: Path, ref: str) -> bytes:
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        pytest.fail("skopeo is not installed (Debian package skopeo)")
    out = subprocess.run([skopeo, "inspect", "--raw", f"oci-archive:{archive}:{ref}"], capture_output=True, timeout=120)
    assert out.returncode == 0, f"skopeo inspect {ref}: {out.stderr.decode()}"
    return out.stdout


def installed(result) -> list[str]:
    assert result.ok, result.describe()
    return sorted(f"{p['file_name']} {p['sha256']}" for p in result.installed)


@pytest.fixture
def filled(start_hoard, upstream, client_dirs, tmp_path):
    """A stopped hoard's root holding the fixture channel, and what its OCI view served."""
    root = tmp_path / "root-a"
    hoard = start_hoard(root=root)
    prefix, cache = client_dirs()
    first = installed(run_client(hoard.channel_url(), prefix, cache, shards=True))
    for subdir in PACKAGES:
        assert request(hoard.port, "GET", f"/fixture/{subdir}/repodata.json").status == 200
    # fx-lib's other format too: the view's manifest lists both archives of the tag, and an
    # export describes what the store holds, so equal digests need the same archives.
    assert request(hoard.port, "GET", "/fixture/noarch/fx-lib-1.0-0.tar.bz2").status == 200
    served: dict[str, bytes] = {}
    for subdir, names in PACKAGES.items():
        for name in names:
            served[f"fixture/{subdir}/{name}:1.0-0"] = view_manifest(hoard.port, f"fixture/{subdir}/{name}", "1.0-0")
        served[f"fixture/{subdir}/repodata.json:latest"] = view_manifest(hoard.port, f"fixture/{subdir}/repodata.json", "latest")
        tags = request(hoard.port, "GET", f"/v2/conda/fixture/{subdir}/repodata.json/shards/tags/list")
        assert tags.status == 200, tags.text
        for hex_ in json.loads(tags.body)["tags"]:
            served[f"fixture/{subdir}/repodata.json/shards:{hex_}"] = view_manifest(
                hoard.port, f"fixture/{subdir}/repodata.json/shards", hex_)
    hoard.stop()
    return root, served, first


def test_export_is_read_by_skopeo_and_oras_and_matches_the_view(filled, hoard_bin, tmp_path):
    root, served, _ = filled
    archive = tmp_path / "fixture.tar"
    out = hoard_cli(hoard_bin, "export", "--root", str(root), "--output", str(archive))
    assert out.returncode == 0, out.stderr + out.stdout
    assert "partial" not in out.stdout and "skipped" not in out.stdout, out.stdout

    index = json.loads(tarfile.open(archive).extractfile("index.json").read())
    refs = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    assert "fixture/hoard-store-index:latest" in refs
    # Packages carry their info layers; repodata the json, zst and shard index layers.
    assert any(":" in r and "/repodata.json/shards:" in r for r in refs), sorted(refs)
    for ref, body in served.items():
        assert ref in refs, f"{ref} missing from the export: {sorted(refs)}"
        assert refs[ref] == "sha256:" + hashlib.sha256(body).hexdigest(), f"{ref}: export and view disagree"
        assert skopeo_raw(archive, ref) == body, f"{ref}: skopeo read other bytes than the view served"
    app = json.loads(served["fixture/linux-64/fx-app:1.0-0"])
    assert [layer["mediaType"] for layer in app["layers"]] == [
        "application/vnd.conda.package.v2", "application/vnd.conda.info.v1.tar+gzip", "application/vnd.conda.info.index.v1+json"]
    repodata = json.loads(served["fixture/noarch/repodata.json:latest"])
    assert [layer["annotations"]["org.opencontainers.image.title"] for layer in repodata["layers"]] == [
        "repodata.json", "repodata.json.zst", "repodata_shards.msgpack.zst"]

    # The info layer is a gzip without a timestamp holding the package's info/.
    with tarfile.open(archive) as tar:
        tgz = tar.extractfile(f"blobs/sha256/{app['layers'][1]['digest'].split(':')[1]}").read()
    assert tgz[4:8] == b"\0\0\0\0"
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as info:
        names = info.getnames()
        assert "info/index.json" in names and all(n.startswith("info/") for n in names), names
        assert all(m.mtime == 0 and m.uid == 0 for m in info.getmembers())

    # oras: its OCI layout reader validates the unpacked layout and walks a package's blobs.
    from oras.layout.layout import NewLayout

    unpacked = tmp_path / "layout"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    layout = NewLayout(str(unpacked))
    blobs = layout.get_ordered_blobs("fixture/linux-64/fx-app:1.0-0")
    expected = {refs["fixture/linux-64/fx-app:1.0-0"], app["config"]["digest"], *(layer["digest"] for layer in app["layers"])}
    assert set(blobs) == expected

    # Exporting again writes the same bytes.
    again = tmp_path / "again.tar"
    assert hoard_cli(hoard_bin, "export", "--root", str(root), "--output", str(again)).returncode == 0
    assert again.read_bytes() == archive.read_bytes()


def test_import_into_an_empty_root_serves_the_same_install_offline(filled, hoard_bin, upstream, client_dirs, tmp_path):
    root, served, first = filled
    archive = tmp_path / "fixture.tar"
    assert hoard_cli(hoard_bin, "export", "--root", str(root), "--output", str(archive)).returncode == 0

    target = tmp_path / "root-b"
    out = hoard_cli(hoard_bin, "import", "--root", str(target), str(archive))
    assert out.returncode == 0, out.stderr + out.stdout
    assert " 0 new" not in out.stdout, out.stdout
    again = hoard_cli(hoard_bin, "import", "--root", str(target), str(archive))
    assert again.returncode == 0 and "(0 new" in again.stdout, again.stdout + again.stderr

    upstream.stop()
    b = Hoard(hoard_bin, target, {"fixture": upstream.url}, tmp_path / "hoard-b.log").start()
    try:
        prefix, cache = client_dirs()
        assert installed(run_client(b.channel_url(), prefix, cache, shards=True)) == first
        run = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True, timeout=30)
        assert FX_APP_BANNER in run.stdout
        prefix, cache = client_dirs()
        assert installed(run_client(b.channel_url(), prefix, cache, shards=False)) == first
        # The imported store's view hands out the same manifests (the info layers came along).
        for ref, body in served.items():
            repository, tag = ref.rsplit(":", 1)
            assert view_manifest(b.port, repository, tag) == body, ref
    finally:
        assert b.stop() in (0, None)


def rewrite(archive: Path, out: Path, change) -> None:
    """Copies the tar entry by entry, letting `change(info, data)` return what to write instead."""
    with tarfile.open(archive) as src, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            for info, body in change(member, data):
                dst.addfile(info, io.BytesIO(body) if body is not None else None)


def assert_refused(hoard_bin: Path, archive: Path, root: Path, needle: str) -> None:
    out = hoard_cli(hoard_bin, "import", "--root", str(root), str(archive))
    assert out.returncode != 0, out.stdout
    assert needle in out.stdout + out.stderr, out.stdout + out.stderr
    # Nothing named, nothing left: the blob directory holds no file.
    files = [p for p in (root / "blobs").rglob("*") if p.is_file()] if (root / "blobs").exists() else []
    assert files == [], files


def test_bad_digests_and_paths_outside_the_layout_are_refused(filled, hoard_bin, tmp_path):
    root, served, _ = filled
    archive = tmp_path / "fixture.tar"
    assert hoard_cli(hoard_bin, "export", "--root", str(root), "--output", str(archive)).returncode == 0
    app = json.loads(served["fixture/linux-64/fx-app:1.0-0"])
    victim = "blobs/sha256/" + app["layers"][0]["digest"].split(":")[1]

    def flip(member, data):
        if member.name == victim:
            data = bytes([data[0] ^ 1]) + data[1:]
        yield member, data

    bad = tmp_path / "bad-digest.tar"
    rewrite(archive, bad, flip)
    assert_refused(hoard_bin, bad, tmp_path / "root-c", "refused")

    def escape(member, data):
        yield member, data
        if member.name == "index.json":
            evil = tarfile.TarInfo("../evil")
            evil.size = 4
            yield evil, b"evil"

    outside = tmp_path / "outside.tar"
    rewrite(archive, outside, escape)
    assert_refused(hoard_bin, outside, tmp_path / "root-d", "outside an OCI image layout")
    assert not (tmp_path / "evil").exists()

    def link(member, data):
        yield member, data
        if member.name == "index.json":
            sym = tarfile.TarInfo("blobs/sha256/" + "a" * 64)
            sym.type = tarfile.SYMTYPE
            sym.linkname = "/etc/passwd"
            yield sym, None

    linked = tmp_path / "link.tar"
    rewrite(archive, linked, link)
    assert_refused(hoard_bin, linked, tmp_path / "root-e", "outside an OCI image layout")

    def drop(member, data):
        if member.name != victim:
            yield member, data

    missing = tmp_path / "missing.tar"
    rewrite(archive, missing, drop)
    assert_refused(hoard_bin, missing, tmp_path / "root-f", "lacks")
