"""End-to-end: py-rattler installs through hoard's own OCI front used as an `oci://` conda mirror.

rattler's OCI middleware always talks `https://HOST/v2/...` and drops any port, so hoard must serve
TLS on 127.0.0.1:443: the test makes a CA and a leaf certificate with openssl (rustls refuses a
self-signed CA used as the server certificate), starts `hoard serve --port 443 --tls-cert
--tls-key`, and points the client at the CA through `SSL_CERT_FILE` with
`tls-root-certs = "system"`.

Port 443 is machine-wide: tests of several checkouts may run at once, so the port is taken under
an exclusive lock file, and the test skips (with the reason) only when 443 cannot be bound at all.
"""

from __future__ import annotations

import errno
import fcntl
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from hoard import Hoard, HoardError, request
from rattler_client import run_client

PORT = 443
LOCK_FILE = Path("/tmp/hoard-e2e-port-443.lock")
LOCK_WAIT = 300.0
MIRROR_FROM = "https://conda.example.invalid/fixture"
MIRROR_TO = "oci://127.0.0.1/conda/fixture"
PACKAGES = ("fx-app", "fx-lib", "fx-data")


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a leaf for localhost/127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is not installed (Debian package openssl)")
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca-key.pem", "ca.pem", "key.pem", "leaf.csr", "cert.pem"))
    ext = directory / "leaf.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
        "-subj", "/CN=hoard e2e test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
        "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return ca, cert, key


def port_bindable(port: int) -> int:
    """0 when 127.0.0.1:port can be bound now, else the errno."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno or -1
    return 0


@pytest.fixture
def port_443():
    """Holds the machine-wide lock for port 443 while the test runs; skips when 443 is unusable."""
    LOCK_FILE.touch(exist_ok=True)
    with open(LOCK_FILE, "w") as lock:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.skip(f"another test held {LOCK_FILE} (port 443) for over {LOCK_WAIT:.0f}s")
                time.sleep(0.5)
        # Someone outside the lock (a hoard left running, another server) may still hold 443.
        deadline = time.monotonic() + 30
        while (code := port_bindable(PORT)) == errno.EADDRINUSE and time.monotonic() < deadline:
            time.sleep(0.5)
        if code == errno.EACCES:
            pytest.skip("binding 127.0.0.1:443 needs root (or CAP_NET_BIND_SERVICE); rattler's oci:// always uses 443")
        if code != 0:
            pytest.skip(f"127.0.0.1:443 cannot be bound ({errno.errorcode.get(code, code)}); rattler's oci:// always uses 443")
        yield PORT


@pytest.fixture
def tls_hoard(port_443: int, hoard_bin: Path, upstream, tmp_path: Path):
    ca, cert, key = make_certificates(tmp_path)
    context = ssl.create_default_context(cafile=str(ca))
    proc = Hoard(hoard_bin, tmp_path / "hoard-root", {"fixture": upstream.url}, log_path=tmp_path / "hoard.log",
                 port=port_443, extra_args=("--tls-cert", str(cert), "--tls-key", str(key)), ssl_context=context)
    try:
        proc.start()
    except HoardError as exc:
        pytest.fail(str(exc))
    proc.ca_file = ca
    yield proc
    code = proc.stop()
    assert code in (0, None), f"hoard exited with {code}\n{proc.log_tail()}"


def run_installed_app(prefix: Path) -> str:
    out = subprocess.run([str(prefix / "bin" / "fx-app")], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


def package_requests(upstream) -> dict[str, int]:
    """How often upstream was asked for each package file."""
    counts: dict[str, int] = {}
    for entry in upstream.requests:
        name = entry.path.rsplit("/", 1)[-1]
        if name.endswith((".conda", ".tar.bz2")):
            counts[name] = counts.get(name, 0) + 1
    return counts


def test_probe_is_anonymous_and_manifests_come_over_tls(tls_hoard):
    ping = request(PORT, "GET", "/v2/", ssl_context=tls_hoard.ssl_context)
    assert ping.status == 200 and ping.header("www-authenticate") is None
    manifest = request(PORT, "GET", "/v2/conda/fixture/noarch/repodata.json/manifests/latest",
                       headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}, ssl_context=tls_hoard.ssl_context)
    assert manifest.status == 200, manifest.text
    assert manifest.header("content-type") == "application/vnd.oci.image.manifest.v1+json"


def test_rattler_installs_through_the_oci_mirror(tls_hoard, upstream, client_dirs):
    prefix, cache = client_dirs()
    result = run_client(MIRROR_FROM, prefix, cache, mirrors={MIRROR_FROM: MIRROR_TO}, ca_file=tls_hoard.ca_file)
    assert result.ok, result.describe() + "\n" + tls_hoard.log_tail()
    assert sorted(p["name"] for p in result.installed) == sorted(PACKAGES)
    assert "hello from the hoard fixture channel" in run_installed_app(prefix)
    counts = package_requests(upstream)
    assert len(counts) == len(PACKAGES) and set(counts.values()) == {1}, counts

    # A second cold client, with the oci:// URL as the channel itself: served from the store.
    prefix, cache = client_dirs()
    direct = run_client(MIRROR_TO, prefix, cache, ca_file=tls_hoard.ca_file)
    if not direct.ok and "oci" in direct.stderr.lower() and "scheme" in direct.stderr.lower():
        pytest.skip("py-rattler 0.28 does not take an oci:// URL as a channel:\n" + direct.stderr[-500:])
    assert direct.ok, direct.describe() + "\n" + tls_hoard.log_tail()
    assert "hello from the hoard fixture channel" in run_installed_app(prefix)
    assert package_requests(upstream) == counts, "the second client made hoard ask upstream again"


def test_rattler_without_shards_reads_the_repodata_manifest(tls_hoard, upstream, client_dirs):
    prefix, cache = client_dirs()
    result = run_client(MIRROR_FROM, prefix, cache, shards=False, mirrors={MIRROR_FROM: MIRROR_TO},
                        ca_file=tls_hoard.ca_file)
    assert result.ok, result.describe() + "\n" + tls_hoard.log_tail()
    assert "hello from the hoard fixture channel" in run_installed_app(prefix)
    assert set(package_requests(upstream).values()) == {1}
