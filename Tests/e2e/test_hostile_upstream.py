"""Hostile upstreams: a local channel that misbehaves one way per test, against a real hoard.

Each case asserts what issue 7 asks of hoard whatever an upstream does:
- it stays up (the process lives, /healthz answers 200 afterwards);
- the client gets a clear status: 502/504 with a message (never a 500, never a hang), or, for a
  package that was already streaming, a broken transfer (never a complete body of bad bytes);
- nothing bad is stored (no file under the store holds the bad bytes; hoard exits cleanly);
- its memory stays bounded (VmHWM from /proc, e.g. a decompression bomb does not inflate it);
- single-flight is not wedged: once the upstream answers properly, the next request is served.

Header (Cache-Control) cases live with their fix elsewhere; these are bodies and connections.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import shutil
import signal
import time
from pathlib import Path

import pytest
import zstandard

from hoard import Hoard, HoardError, request
from upstream import HTML_ERROR_PAGE, Upstream

UINT64_MAX = 18446744073709551615
# Growth of the high-water mark hoard may show over its start-up value in any case here; the
# bomb expands to eight times this, so an implementation that buffers it cannot pass.
RSS_GROWTH_LIMIT = 128 << 20
BOMB_EXPANDED = 1 << 30
MAX_DOCUMENT_SIZE = 16 << 20


# ---- helpers -------------------------------------------------------------------------------------

def status_kib(pid: int, field: str) -> int:
    """A `VmHWM` / `VmRSS` value of /proc/PID/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} missing from /proc/{pid}/status")


def get(hoard: Hoard, path: str, timeout: float = 60):
    return request(hoard.port, "GET", path, timeout=timeout)


def assert_gateway_error(response, *words: str) -> None:
    """502/504 with a message that says what went wrong (never a 500: upstream's fault)."""
    assert response.status in (502, 504), (response.status, response.text)
    assert response.text.strip(), "an error status needs a message"
    for word in words:
        assert word in response.text, (word, response.text)


def assert_healthy(hoard: Hoard) -> None:
    assert hoard.running, f"hoard died\n{hoard.log_tail()}"
    health = get(hoard, "/healthz", timeout=10)
    assert health.status == 200, health.text


def stored_files(root: Path) -> dict[str, Path]:
    """sha256 → file, for every file of the store but its SQLite index."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and "index" not in path.name:
            found[hashlib.sha256(path.read_bytes()).hexdigest()] = path
    return found


def partial_files(root: Path) -> list[Path]:
    return [p for p in (root / "tmp").rglob("*") if p.is_file()] if (root / "tmp").exists() else []


def stop_settled(hoard: Hoard, timeout: float = 10) -> None:
    """Stop hoard once no transfer is in flight: a good download the client already has may still
    be committing (made durable, then renamed). A failed one must have left no partial file."""
    deadline = time.monotonic() + timeout
    while partial_files(hoard.root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not partial_files(hoard.root), f"partial files left behind: {partial_files(hoard.root)}"
    assert_healthy(hoard)
    hoard.stop()


def assert_not_stored(root: Path, *bodies: bytes) -> None:
    files = stored_files(root)
    for body in bodies:
        digest = hashlib.sha256(body).hexdigest()
        assert digest not in files, f"the bad bytes were stored at {files[digest]}"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_package(hoard: Hoard, path: str) -> tuple[int | None, bytes | None]:
    """(status, body), or (status, None) when the transfer broke after the head."""
    conn = http.client.HTTPConnection("127.0.0.1", hoard.port, timeout=60)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        try:
            return resp.status, resp.read()
        except (http.client.IncompleteRead, OSError):
            return resp.status, None
    except (http.client.HTTPException, OSError):
        return None, None
    finally:
        conn.close()


def write_repodata(subdir: Path, data: dict, text: str | None = None) -> None:
    """repodata.json (+ .zst) from `data`, or from raw `text` (numbers JSON allows but no
    Python value prints, such as 1e400); the shard index goes, so repodata is what counts."""
    raw = (text if text is not None else json.dumps(data, indent=1)).encode()
    (subdir / "repodata.json").write_bytes(raw)
    (subdir / "repodata.json.zst").write_bytes(zstandard.ZstdCompressor().compress(raw))
    (subdir / "repodata_shards.msgpack.zst").unlink(missing_ok=True)
    shutil.rmtree(subdir / "shards", ignore_errors=True)


def decompression_bomb(expanded: int) -> bytes:
    """A small valid .zst whose content is a JSON object padded with `expanded` spaces."""
    out = bytearray()
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    out += compressor.compress(b'{"info": {}, "packages": {')
    chunk = b" " * (1 << 20)
    for _ in range(expanded // len(chunk)):
        out += compressor.compress(chunk)
    out += compressor.compress(b"}}")
    out += compressor.flush()
    return bytes(out)


# ---- fixtures ------------------------------------------------------------------------------------

@pytest.fixture
def hostile_dir(channel_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture channel, to be broken by the test."""
    target = tmp_path / "hostile-channel"
    shutil.copytree(channel_dir, target)
    return target


@pytest.fixture
def hostile(hostile_dir: Path):
    server = Upstream(hostile_dir, prefix="/channel", max_age=60).start()
    yield server
    server.stop()


@pytest.fixture
def start(hoard_bin: Path, hostile: Upstream, tmp_path: Path, request: pytest.FixtureRequest):
    """start(*extra_args) -> a hoard on the hostile upstream, with its start-up RSS measured.

    At teardown it must still be alive (a crash is what these tests look for) and exit cleanly."""
    procs: list[Hoard] = []

    def launch(*extra: str) -> Hoard:
        proc = Hoard(hoard_bin, tmp_path / "hoard-root", {"fixture": hostile.url},
                     log_path=tmp_path / f"hoard-{len(procs) + 1}.log",
                     extra_args=("--upstream-timeout", "5s", *extra))
        procs.append(proc)
        try:
            proc.start()
        except HoardError as exc:
            pytest.fail(str(exc), pytrace=False)
        proc.baseline_rss = status_kib(proc.proc.pid, "VmRSS")
        return proc

    yield launch

    problems = []
    for proc in procs:
        if proc.proc is not None and proc.proc.poll() is not None and proc.returncode is None:
            problems.append(f"hoard died with {proc.proc.returncode}\n{proc.log_tail()}")
            continue
        try:
            code = proc.stop()
        except HoardError as exc:
            problems.append(str(exc))
            continue
        if code not in (0, -signal.SIGTERM):
            problems.append(f"hoard exited with {code} on SIGTERM\n{proc.log_tail()}")
    if problems:
        pytest.fail("\n\n".join(problems))


def assert_memory_bounded(hoard: Hoard) -> None:
    grown = status_kib(hoard.proc.pid, "VmHWM") - hoard.baseline_rss
    assert grown < RSS_GROWTH_LIMIT, f"hoard's peak RSS grew by {grown >> 20} MiB"


# ---- out-of-range numbers (defect 2) ---------------------------------------------------------------

def test_out_of_range_numbers_in_repodata_do_not_crash(start, hostile, hostile_dir):
    """`size: 2^64-1` crashed hoard on the first request for that package (Int64(UInt64) trap);
    negative, float and huge sizes, timestamps and build numbers must not either."""
    linux = hostile_dir / "linux-64"
    noarch = hostile_dir / "noarch"
    app = json.loads((linux / "repodata.json").read_text())
    app_name, app_record = next(iter(app["packages.conda"].items()))
    app_record.update(size=UINT64_MAX, timestamp=UINT64_MAX, build_number=UINT64_MAX)
    write_repodata(linux, app)

    lib_data = json.loads((noarch / "repodata.json").read_text())
    # fx-lib: a negative size, a float timestamp; fx-data: a valid size, a timestamp past any
    # calendar; and a number no float holds, as raw JSON text.
    for name, record in lib_data["packages.conda"].items():
        if name.startswith("fx-lib"):
            record.update(size=-1, timestamp=1.5e300, build_number=-7)
        if name.startswith("fx-data"):
            record.update(timestamp=UINT64_MAX, build_number=10 ** 30)
    text = json.dumps(lib_data, indent=1).replace('"build_number": -7', '"build_number": 1e400')
    write_repodata(noarch, lib_data, text)

    hoard = start()
    for subdir in ("linux-64", "noarch"):
        assert get(hoard, f"/fixture/{subdir}/repodata.json").status == 200

    package = get(hoard, f"/fixture/linux-64/{app_name}")
    assert package.status == 200, package.text
    assert sha256_of(package.body) == app_record["sha256"]  # the digest still decides
    assert_healthy(hoard)

    for name, record in lib_data["packages.conda"].items():
        response = get(hoard, f"/fixture/noarch/{name}")
        assert response.status == 200, (name, response.text)
        assert sha256_of(response.body) == record["sha256"]

    # The OCI mirror view of the same records: the impossible size is left out with a log line,
    # the record with a timestamp past year 9999 still gets a manifest.
    tags = get(hoard, "/v2/conda/fixture/linux-64/fx-app/tags/list")
    assert tags.status == 200, tags.text
    tag = json.loads(tags.body)["tags"][0]
    manifest = get(hoard, f"/v2/conda/fixture/linux-64/fx-app/manifests/{tag}")
    assert manifest.status == 404, manifest.text
    assert "left out of the OCI mirror" in hoard.log_text()
    data_tag = json.loads(get(hoard, "/v2/conda/fixture/noarch/fx-data/tags/list").body)["tags"][0]
    data_manifest = get(hoard, f"/v2/conda/fixture/noarch/fx-data/manifests/{data_tag}")
    assert data_manifest.status == 200, data_manifest.text
    lib_tag = json.loads(get(hoard, "/v2/conda/fixture/noarch/fx-lib/tags/list").body)["tags"][0]
    assert get(hoard, f"/v2/conda/fixture/noarch/fx-lib/manifests/{lib_tag}").status in (200, 404)
    assert_healthy(hoard)
    assert_memory_bounded(hoard)


# ---- bodies that are not what was asked for --------------------------------------------------------

RANDOM = random.Random(7).randbytes(64 << 10)

DOCUMENTS = {
    # name: (request path, upstream paths to break, what to serve there)
    "repodata.json.zst": ("/fixture/linux-64/repodata.json", ["/channel/linux-64/repodata.json.zst"]),
    "repodata.json": ("/fixture/linux-64/repodata.json", ["/channel/linux-64/repodata.json"]),
    "shard index": ("/fixture/linux-64/repodata_shards.msgpack.zst", ["/channel/linux-64/repodata_shards.msgpack.zst"]),
    "channeldata": ("/fixture/channeldata.json", ["/channel/channeldata.json"]),
}


# Right format, wrong content: starts like the document, but does not parse where hoard parses
# it (repodata's `info`, the shard index). Channeldata is passed through unparsed: not here.
BROKEN_JSON = b'{"info": 7, "packages": {}}'
BROKEN = {
    "repodata.json": BROKEN_JSON,
    "repodata.json.zst": zstandard.ZstdCompressor().compress(BROKEN_JSON),
    "shard index": zstandard.ZstdCompressor().compress(RANDOM),
}
CASES = [(d, b) for d in sorted(DOCUMENTS) for b in ("random bytes", "html page")] + [(d, "broken content") for d in sorted(BROKEN)]


@pytest.mark.parametrize(("document", "bad"), CASES)
def test_bad_document_bodies_are_refused_and_not_kept(start, hostile, document, bad):
    path, broken = DOCUMENTS[document]
    if document == "repodata.json":
        hostile.set_fault("/channel/linux-64/repodata.json.zst", "fail", status=404)
    body = {"random bytes": RANDOM, "html page": HTML_ERROR_PAGE}.get(bad) or BROKEN[document]
    for target in broken:
        if bad == "html page":
            hostile.set_fault(target, "html")
        else:
            hostile.set_fault(target, "body", body=body, content_type="application/octet-stream")
    hoard = start()
    assert_gateway_error(get(hoard, path), "upstream")
    assert_healthy(hoard)
    # Asked again while the upstream still lies: the same clear error, no wedged single-flight.
    assert_gateway_error(get(hoard, path))

    hostile.clear_faults()
    good = get(hoard, path)
    assert good.status == 200, good.text
    assert_healthy(hoard)
    assert_memory_bounded(hoard)
    stop_settled(hoard)
    assert_not_stored(hoard.root, body, BROKEN_JSON)


def package_record(hostile_dir: Path, prefix: str) -> tuple[str, dict]:
    data = json.loads((hostile_dir / "noarch" / "repodata.json").read_text())
    return next((n, r) for n, r in data["packages.conda"].items() if n.startswith(prefix))


def test_html_page_for_a_package_without_a_digest_is_refused(start, hostile, hostile_dir):
    """With no sha256 to check (the record lacks one), only the format's magic tells an error
    page from a package: it must still never be stored or served as the package."""
    noarch = hostile_dir / "noarch"
    data = json.loads((noarch / "repodata.json").read_text())
    name, record = next((n, r) for n, r in data["packages.conda"].items() if n.startswith("fx-lib"))
    sha = record.pop("sha256")
    record.pop("md5", None)
    record.pop("size", None)
    write_repodata(noarch, data)
    hostile.set_fault(f"/channel/noarch/{name}", "html")
    hoard = start()
    status, body = read_package(hoard, f"/fixture/noarch/{name}")
    assert status in (502, 504, None), (status, body)
    assert body != HTML_ERROR_PAGE
    assert_healthy(hoard)

    hostile.clear_faults()
    status, body = read_package(hoard, f"/fixture/noarch/{name}")
    assert status == 200 and body is not None and sha256_of(body) == sha
    stop_settled(hoard)
    assert_not_stored(hoard.root, HTML_ERROR_PAGE)


# ---- broken connections ---------------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["truncate", "overlong", "reset"])
def test_broken_document_transfers_leave_nothing(start, hostile, hostile_dir, fault):
    hostile.set_fault("/channel/linux-64/repodata.json.zst", fault)
    hoard = start()
    assert_gateway_error(get(hoard, "/fixture/linux-64/repodata.json"))
    assert_healthy(hoard)
    hostile.clear_faults()
    good = get(hoard, "/fixture/linux-64/repodata.json")
    assert good.status == 200, good.text
    assert json.loads(good.body)["packages.conda"]
    assert_memory_bounded(hoard)
    stop_settled(hoard)
    partial = (hostile_dir / "linux-64" / "repodata.json.zst").read_bytes()
    assert_not_stored(hoard.root, partial[: len(partial) // 2])


@pytest.mark.parametrize("fault", ["truncate", "overlong", "reset"])
def test_broken_package_transfers_leave_nothing(start, hostile, hostile_dir, fault):
    """A 3 MiB package cut short (or announced longer than it is): the client sees an error or
    a broken transfer, never a complete body; nothing is stored; the next request works."""
    name, record = package_record(hostile_dir, "fx-data")
    hostile.set_fault(f"/channel/noarch/{name}", fault)
    hoard = start()
    status, body = read_package(hoard, f"/fixture/noarch/{name}")
    assert body is None or status in (502, 504), (status, len(body or b""))
    assert_healthy(hoard)

    hostile.clear_faults()
    status, body = read_package(hoard, f"/fixture/noarch/{name}")
    assert status == 200 and body is not None
    assert sha256_of(body) == record["sha256"]
    assert_memory_bounded(hoard)
    stop_settled(hoard)
    whole = (hostile_dir / "noarch" / name).read_bytes()
    assert_not_stored(hoard.root, whole[: len(whole) // 2])


@pytest.mark.parametrize("target", ["document", "package"])
def test_a_stall_past_the_timeout_is_a_504_and_the_next_request_works(start, hostile, hostile_dir, target):
    name, record = package_record(hostile_dir, "fx-data")
    upstream_path = "/channel/linux-64/repodata.json.zst" if target == "document" else f"/channel/noarch/{name}"
    path = "/fixture/linux-64/repodata.json" if target == "document" else f"/fixture/noarch/{name}"
    hostile.set_fault(upstream_path, "stall", seconds=30, mid_body=True)
    hoard = start("--upstream-timeout", "2s")  # the later flag wins over the fixture's 5s
    if target == "document":
        assert_gateway_error(get(hoard, path, timeout=20), "did not answer within")
    else:
        status, body = read_package(hoard, path)
        assert body is None or status == 504, (status, len(body or b""))
    assert_healthy(hoard)
    hostile.clear_faults()
    status, body = read_package(hoard, path)
    assert status == 200 and body is not None
    if target == "package":
        assert sha256_of(body) == record["sha256"]
    stop_settled(hoard)


# ---- the decompression bomb -----------------------------------------------------------------------

def test_decompression_bomb_is_refused_while_streaming(start, hostile, hostile_dir):
    """A repodata.json.zst of a few kB that expands to 1 GiB: refused once past
    --max-document-size, with a message naming the setting, without buffering it."""
    bomb = decompression_bomb(BOMB_EXPANDED)
    assert len(bomb) < 1 << 20
    hostile.set_fault("/channel/linux-64/repodata.json.zst", "body", body=bomb)
    hoard = start("--max-document-size", f"{MAX_DOCUMENT_SIZE >> 20}MiB")
    response = get(hoard, "/fixture/linux-64/repodata.json")
    assert_gateway_error(response, str(MAX_DOCUMENT_SIZE), "--max-document-size")
    assert_healthy(hoard)
    assert_memory_bounded(hoard)

    hostile.clear_faults()
    good = get(hoard, "/fixture/linux-64/repodata.json")
    assert good.status == 200, good.text
    stop_settled(hoard)
    assert_not_stored(hoard.root, bomb)
    largest = max((p.stat().st_size for p in hoard.root.rglob("*") if p.is_file()), default=0)
    assert largest < BOMB_EXPANDED // 4


def test_max_document_size_refuses_a_plain_document_too(start, hostile):
    """The limit holds for a document sent uncompressed (and announced by Content-Length)."""
    hostile.set_fault("/channel/linux-64/repodata.json.zst", "fail", status=404)
    hoard = start("--max-document-size", "200B")
    assert_gateway_error(get(hoard, "/fixture/linux-64/repodata.json"), "200 bytes", "--max-document-size")
    assert_healthy(hoard)
