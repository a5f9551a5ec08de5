"""Private channels (issue 11), against real parts.

- Upstreams behind credentials: Debian nginx with `auth_basic` over the fixture channel, nginx
  wanting a bearer token, and a token-in-URL (`/t/<TOKEN>/`) upstream. hoard pulls through each,
  with credentials from each source (the config with `${ENV}`, RATTLER_AUTH_FILE, ~/.netrc, the
  URL); wrong credentials give an error naming the channel and the source, never a 404.
- A protected channel: anonymous requests get 401 with a challenge, a wrong token 401; py-rattler
  reads it with a RATTLER_AUTH_FILE bearer token and with Basic credentials, conda (where
  HOARD_TEST_CONDA is set) with a `/t/<TOKEN>/` channel URL; a package only it has is reachable
  neither through a public channel nor through the OCI view nor by an OCI mount; `hoard token
  create` prints the token alone and `hoard token revoke` withdraws it while hoard runs.
- hoard's logs of the whole run, and the error bodies it sent, hold no token and no password.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from fixture_channel import FX_APP_BANNER, package_record
from hoard import Hoard, free_port, request
from rattler_client import run_client
from upstream import Upstream
import registry as reg

HERE = Path(__file__).resolve().parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONDA_PYTHON = os.environ.get("HOARD_TEST_CONDA")

UPSTREAM_TOKEN = "upstreamPathToken-7d1c0ffee"
UPSTREAM_BEARER = "upstreamBearer-5ab1e"
CONFIG_PASSWORD = "cfgPassw0rd-from-env"
NETRC_PASSWORD = "netrcPassw0rd-x9"
READER_PASSWORD = "readerPassw0rd-k2"
PUSHER_PASSWORD = "pusherPassw0rd-q7"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ---- nginx --------------------------------------------------------------------------------------

class Nginx:
    """nginx (Debian's) in the foreground with its own prefix, listening on 127.0.0.1 only."""

    def __init__(self, workdir: Path, servers: str):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        user = "user root;\n" if os.geteuid() == 0 else ""
        temps = " ".join(f"{name}_temp_path {workdir}/{name};" for name in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        self.conf = workdir / "nginx.conf"
        self.conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {workdir}/access.log;
  {temps}
  default_type application/octet-stream;
  types {{ application/json json; }}
{servers}
}}
""")
        self.proc: subprocess.Popen | None = None

    def start(self, ports: list[int]) -> "Nginx":
        self.proc = subprocess.Popen([NGINX, "-p", str(self.workdir), "-c", str(self.conf), "-e", str(self.workdir / "error.log")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        for port in ports:
            while True:
                try:
                    request(port, "GET", "/", timeout=1)
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"nginx did not start:\n{(self.workdir / 'error.log').read_text(errors='replace')}")
                    time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def apr1(user: str, password: str) -> str:
    hashed = subprocess.run(["openssl", "passwd", "-apr1", password], capture_output=True, text=True, check=True).stdout.strip()
    return f"{user}:{hashed}\n"


def bcrypt_line(user: str, password: str) -> str:
    return subprocess.run(["htpasswd", "-Bbn", "-C", "5", user, password], capture_output=True, text=True, check=True).stdout.strip() + "\n"


@pytest.fixture
def secured_upstreams(channel_dir: Path, tmp_path: Path):
    """One nginx, four servers over the fixture channel: Basic (netrc's user), bearer, Basic
    (the config's user), and a token in the path."""
    ports = {name: free_port() for name in ("netrc", "bearer", "config", "token")}
    work = tmp_path / "nginx"
    work.mkdir()
    (work / "netrc.htpasswd").write_text(apr1("netrcuser", NETRC_PASSWORD))
    (work / "config.htpasswd").write_text(apr1("cfguser", CONFIG_PASSWORD))
    servers = f"""
  server {{ listen 127.0.0.1:{ports['netrc']};
    location /chan/ {{ auth_basic "fixture"; auth_basic_user_file {work}/netrc.htpasswd; alias {channel_dir}/; }} }}
  server {{ listen 127.0.0.1:{ports['bearer']};
    location /chan/ {{ if ($http_authorization != "Bearer {UPSTREAM_BEARER}") {{ return 401; }} alias {channel_dir}/; }} }}
  server {{ listen 127.0.0.1:{ports['config']};
    location /chan/ {{ auth_basic "fixture"; auth_basic_user_file {work}/config.htpasswd; alias {channel_dir}/; }} }}
  server {{ listen 127.0.0.1:{ports['token']};
    location /t/{UPSTREAM_TOKEN}/chan/ {{ alias {channel_dir}/; }}
    location / {{ return 401; }} }}
"""
    nginx = Nginx(work, servers).start(list(ports.values()))
    yield ports
    nginx.stop()


# ---- hoard with a config file and an environment ----------------------------------------------

@pytest.fixture
def hoards(hoard_bin: Path, tmp_path: Path):
    """Starts hoard processes with a config and an environment; stops them afterwards."""
    started: list[Hoard] = []

    def start(config: str, env: dict[str, str], extra: tuple[str, ...] = ()) -> Hoard:
        n = len(started) + 1
        config_path = tmp_path / f"hoard-{n}.toml"
        config_path.write_text(config)
        proc = Hoard(hoard_bin, tmp_path / "hoard-root", {}, log_path=tmp_path / f"hoard-{n}.log",
                     extra_args=("--config", str(config_path), *extra), env={**os.environ, **env})
        started.append(proc)
        return proc.start()

    yield start
    for proc in started:
        proc.stop()


def assert_no_secrets(texts: dict[str, str], secrets: list[str]) -> None:
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"{where} holds the secret {secret[:6]}…"


# ---- upstream credentials ----------------------------------------------------------------------

@pytest.mark.parametrize("log_format", ["text", "json"])
def test_pulls_through_upstreams_with_credentials_from_every_source(secured_upstreams, hoards, client_dirs, tmp_path, log_format):
    ports = secured_upstreams
    auth_file = tmp_path / "hoard-auth.json"
    auth_file.write_text(json.dumps({f"127.0.0.1:{ports['bearer']}": {"BearerToken": UPSTREAM_BEARER}}))
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login netrcuser password {NETRC_PASSWORD}\n")
    config = textwrap.dedent(f"""
        [channels.via-config]
        url = "http://127.0.0.1:{ports['config']}/chan"
        username = "cfguser"
        password = "${{E2E_UPSTREAM_PASSWORD}}"

        [channels.via-token]
        url = "http://127.0.0.1:{ports['token']}/t/{UPSTREAM_TOKEN}/chan"

        [channels.via-rattler-auth-file]
        url = "http://127.0.0.1:{ports['bearer']}/chan"

        [channels.via-netrc]
        url = "http://127.0.0.1:{ports['netrc']}/chan"

        [channels.wrong-config]
        url = "http://127.0.0.1:{ports['config']}/chan"
        username = "cfguser"
        password = "${{E2E_WRONG_PASSWORD}}"

        # No credentials of its own: ~/.netrc's entry for 127.0.0.1 is sent, and is wrong here.
        [channels.wrong-netrc]
        url = "http://127.0.0.1:{ports['config']}/chan"
        """)
    env = {"E2E_UPSTREAM_PASSWORD": CONFIG_PASSWORD, "E2E_WRONG_PASSWORD": "wrongPassw0rd-zz",
           "RATTLER_AUTH_FILE": str(auth_file), "NETRC": str(netrc), "HOME": str(tmp_path)}
    hoard = hoards(config, env, ("--log-format", log_format))

    for channel in ("via-config", "via-token", "via-rattler-auth-file", "via-netrc"):
        prefix, cache = client_dirs()
        result = run_client(hoard.channel_url(channel), prefix, cache, ["fx-app"], max_retries=0)
        assert result.ok, f"{channel}: {result.describe()}\n{hoard.log_tail()}"
        assert {p["name"] for p in result.installed} == {"fx-app", "fx-lib", "fx-data"}
        out = subprocess.run([str(Path(prefix) / "bin" / "fx-app")], capture_output=True, text=True, check=True)
        assert out.stdout.splitlines()[0] == FX_APP_BANNER

    bodies = {}
    for channel, source in (("wrong-config", "[channels.wrong-config]"), ("wrong-netrc", f"{netrc}, machine 127.0.0.1")):
        for path in (f"/{channel}/noarch/repodata.json", f"/{channel}/noarch/fx-lib-1.0-0.conda"):
            resp = request(hoard.port, "GET", path)
            bodies[path] = resp.text
            assert resp.status == 502, f"{path}: {resp.status} {resp.text}"
            assert f"channel {channel}" in resp.text and "HTTP 401" in resp.text and source in resp.text, resp.text
        prefix, cache = client_dirs()
        result = run_client(hoard.channel_url(channel), prefix, cache, ["fx-app"], max_retries=0)
        assert not result.ok and "502" in result.stderr, result.describe()

    # The web page shows each channel's upstream, redacted; its listings too.
    page = request(hoard.port, "GET", "/")
    assert page.status == 200 and "/t/&lt;redacted&gt;/chan" in page.text, page.text[:2000]
    bodies["web /"] = page.text
    bodies["web listing"] = request(hoard.port, "GET", "/?channel=via-token&subdir=noarch").text
    # hoard status, text and JSON: upstream URLs (a userinfo password too) and errors redacted.
    config_path = hoard.extra_args[hoard.extra_args.index("--config") + 1]
    with_password = f"http://cfguser:{CONFIG_PASSWORD}@127.0.0.1:{ports['config']}/chan"
    for fmt in ((), ("--json",)):
        status = subprocess.run([str(hoard.binary), "status", "--root", str(hoard.root), "--config", config_path,
                                 "--log-format", log_format, "--upstream", f"userinfo={with_password}", *fmt],
                                capture_output=True, text=True, timeout=60, env={**os.environ, **env})
        assert status.returncode in (0, 1) and "via-token" in status.stdout, status.stderr
        assert "/t/<redacted>/chan" in status.stdout and "cfguser:<redacted>@" in status.stdout, status.stdout
        if fmt:
            assert {u["name"] for u in json.loads(status.stdout)["upstreams"]} >= {"via-token", "userinfo"}
        bodies[f"hoard status {fmt}"] = status.stdout + status.stderr

    hoard.stop()
    log = hoard.log_text()
    assert_no_secrets({"hoard log": log, **bodies},
                      [UPSTREAM_TOKEN, UPSTREAM_BEARER, CONFIG_PASSWORD, NETRC_PASSWORD, "wrongPassw0rd-zz"])
    assert "/t/<redacted>/chan" in log
    if log_format == "json":
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert any(line.get("label") == "hoard.access" for line in lines), "no access-log line in the JSON log"


# ---- a protected channel -------------------------------------------------------------------------

PRIVATE_PACKAGE = "fx-secret-1.0-0.conda"


@pytest.fixture
def private_channel_dir(channel_dir: Path, tmp_path: Path) -> Path:
    """The fixture channel plus `fx-secret`, a package no other channel has."""
    out = tmp_path / "private-channel"
    shutil.copytree(channel_dir, out)
    script = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(HERE)!r})
        import fixture_channel as f
        out = Path({str(out)!r})
        f.build_package(f.FixturePackage(name="fx-secret", subdir="noarch", files={{"share/fx-secret/KEY": b"private\\n"}}), out)
        f.index_channel(out)
        sys.stdout.flush()
        import os
        os._exit(0)  # py-rattler 0.28 can abort at interpreter exit after success
        """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out


def hoard_cli(hoard: Hoard, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(hoard.binary), *args, "--root", str(hoard.root)], capture_output=True, text=True, timeout=30)


def conda_create(python: str, channel_url: str, prefix: Path, scratch: Path, specs: list[str]) -> subprocess.CompletedProcess:
    home = scratch / "home"
    home.mkdir(parents=True, exist_ok=True)
    condarc = scratch / "condarc"
    condarc.write_text("channels: []\nsolver: classic\nauto_update_conda: false\nreport_errors: false\nnotify_outdated_conda: false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "_CE_", "MAMBA"))}
    env.update(HOME=str(home), CONDARC=str(condarc), CONDA_PKGS_DIRS=str(scratch / "pkgs"))
    return subprocess.run([python, "-m", "conda", "create", "-y", "-p", str(prefix), "--override-channels", "-c", channel_url,
                           "--solver", "classic", *specs], env=env, capture_output=True, text=True, timeout=600)


def test_protected_channel(private_channel_dir, upstream, hoards, client_dirs, tmp_path, monkeypatch):
    private_upstream = Upstream(private_channel_dir, prefix="/channel").start()
    try:
        run_protected_channel(private_upstream, upstream, hoards, client_dirs, tmp_path, monkeypatch)
    finally:
        private_upstream.stop()


def run_protected_channel(private_upstream, upstream, hoards, client_dirs, tmp_path, monkeypatch):
    readers = tmp_path / "readers.htpasswd"
    readers.write_text(bcrypt_line("reader", READER_PASSWORD))
    pushers = tmp_path / "pushers.htpasswd"
    pushers.write_text(bcrypt_line("pusher", PUSHER_PASSWORD))
    config = textwrap.dedent(f"""
        [channels.priv]
        url = "{private_upstream.url}"
        readers = "{readers}"

        [channels.pub]
        url = "{upstream.url}"
        """)
    hoard = hoards(config, {"HOME": str(tmp_path)}, ("--htpasswd", str(pushers)))
    port = hoard.port

    # A token, issued while hoard runs: alone on stdout.
    issued = hoard_cli(hoard, "token", "create", "--channel", "priv", "--expires", "1d")
    assert issued.returncode == 0, issued.stderr
    assert re.fullmatch(r"hoard-[0-9a-f]{64}\n", issued.stdout), issued.stdout
    token = issued.stdout.strip()
    wrong = "hoard-" + "0" * 64
    secrets = [token, READER_PASSWORD, PUSHER_PASSWORD]

    # Anonymous: 401 with a challenge; a wrong token or password: 401, never 404.
    bodies = {}
    for path, headers in ((f"/priv/noarch/repodata.json", {}), (f"/priv/noarch/{PRIVATE_PACKAGE}", {}),
                          (f"/t/{wrong}/priv/noarch/repodata.json", {}),
                          ("/priv/noarch/repodata.json", {"Authorization": f"Bearer {wrong}"}),
                          ("/priv/noarch/repodata.json", {"Authorization": basic("reader", "nope")})):
        resp = request(port, "GET", path, headers)
        bodies[path] = resp.text
        assert resp.status == 401, f"{path}: {resp.status}"
        assert resp.header("www-authenticate") == 'Basic realm="hoard channel priv", charset="UTF-8"'
    assert request(port, "GET", f"/t/{token}/priv/noarch/repodata.json").status == 200
    assert request(port, "GET", "/pub/noarch/repodata.json").status == 200

    # py-rattler: a bearer token from RATTLER_AUTH_FILE, then a reader's Basic credentials.
    for entry in ({"BearerToken": token}, {"BasicHTTP": {"username": "reader", "password": READER_PASSWORD}}):
        auth_file = tmp_path / "client-auth.json"
        auth_file.write_text(json.dumps({"127.0.0.1": entry, f"127.0.0.1:{port}": entry}))
        monkeypatch.setenv("RATTLER_AUTH_FILE", str(auth_file))
        prefix, cache = client_dirs()
        result = run_client(hoard.channel_url("priv"), prefix, cache, ["fx-app", "fx-secret"], max_retries=0)
        assert result.ok, f"{list(entry)}: {result.describe()}\n{hoard.log_tail()}"
        assert (Path(prefix) / "share" / "fx-secret" / "KEY").read_text() == "private\n"
    monkeypatch.delenv("RATTLER_AUTH_FILE")
    prefix, cache = client_dirs()
    anonymous = run_client(hoard.channel_url("priv"), prefix, cache, ["fx-secret"], max_retries=0)
    assert not anonymous.ok and "401" in anonymous.stderr, anonymous.describe()

    # conda itself, with the token in the channel URL.
    if CONDA_PYTHON:
        prefix = tmp_path / "conda-env"
        done = conda_create(CONDA_PYTHON, f"{hoard.url}/t/{token}/priv", prefix, tmp_path / "conda", ["fx-app", "fx-secret"])
        assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert (prefix / "share" / "fx-secret" / "KEY").is_file()
        assert token not in done.stdout + done.stderr
        # A reader's Basic credentials in the channel URL.
        prefix = tmp_path / "conda-env-basic"
        done = conda_create(CONDA_PYTHON, f"http://reader:{READER_PASSWORD}@127.0.0.1:{port}/priv", prefix, tmp_path / "conda-basic",
                            ["fx-secret"])
        assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        assert (prefix / "share" / "fx-secret" / "KEY").is_file()

    # The private package is in the store now; no other way leads to it.
    sha = package_record(private_channel_dir_of(private_upstream), "noarch", PRIVATE_PACKAGE)["sha256"]
    for path, headers in ((f"/pub/noarch/{PRIVATE_PACKAGE}", {}), (f"/pub/noarch/{PRIVATE_PACKAGE}", {"X-Expected-SHA256": sha})):
        resp = request(port, "GET", path, headers)
        assert resp.status == 404, f"{path}: {resp.status} {resp.text[:200]}"
    resp = request(port, "GET", f"/v2/conda/pub/noarch/fx-secret/blobs/sha256:{sha}")
    assert resp.status == 404, resp.status
    resp = request(port, "GET", f"/v2/conda/priv/noarch/fx-secret/blobs/sha256:{sha}")
    assert resp.status == 401 and resp.header("www-authenticate").startswith("Bearer "), resp.status
    # The registry token flow: /token grants the private repository to a token holder only.
    scope = "/token?service=hoard&scope=repository:conda/priv/noarch/fx-secret:pull"
    assert request(port, "GET", scope).status == 401
    assert request(port, "GET", scope, {"Authorization": basic("pusher", PUSHER_PASSWORD)}).status == 401
    granted = request(port, "GET", scope, {"Authorization": basic("x", token)})
    assert granted.status == 200
    bearer = json.loads(granted.body)["token"]
    blob = request(port, "GET", f"/v2/conda/priv/noarch/fx-secret/blobs/sha256:{sha}", {"Authorization": f"Bearer {bearer}"})
    assert blob.status == 200 and len(blob.body) > 0
    # An OCI pusher cannot mount the blob into a repository of its own.
    mount = request(port, "POST", f"/v2/team/stash/blobs/uploads/?mount=sha256:{sha}", {"Authorization": basic("pusher", PUSHER_PASSWORD)})
    assert mount.status == 202, mount.status
    assert request(port, "GET", f"/v2/team/stash/blobs/sha256:{sha}", {"Authorization": basic("pusher", PUSHER_PASSWORD)}).status == 404

    # The web page: a protected channel is a name marked protected, listed only to its readers.
    assert request(port, "GET", "/pub/noarch/fx-lib-1.0-0.conda").status == 200  # pub holds a package too
    overview = request(port, "GET", "/")
    assert overview.status == 200 and "(protected)" in overview.text and 'id="channel-priv"' in overview.text
    assert "channel=priv" not in overview.text and "fx-secret" not in overview.text
    assert private_upstream.url not in overview.text, "a protected channel's upstream is shown to anyone"
    assert "channel=pub" in overview.text
    bodies["web /"] = overview.text
    for headers in ({}, {"Authorization": f"Bearer {wrong}"}, {"Authorization": basic("reader", "nope")}):
        resp = request(port, "GET", "/?channel=priv&subdir=noarch", headers)
        assert resp.status == 401 and "fx-secret" not in resp.text, (headers, resp.status)
        assert resp.header("www-authenticate") == 'Basic realm="hoard channel priv", charset="UTF-8"'
        bodies[f"web listing {headers}"] = resp.text
    for path, headers in (("/?channel=priv&subdir=noarch", {"Authorization": f"Bearer {token}"}),
                          (f"/t/{token}/?channel=priv&subdir=noarch", {}),
                          ("/?channel=priv&subdir=noarch", {"Authorization": basic("reader", READER_PASSWORD)})):
        resp = request(port, "GET", path, headers)
        assert resp.status == 200 and "fx-secret" in resp.text, (path, resp.status)
    granted_page = request(port, "GET", "/", {"Authorization": f"Bearer {token}"})
    assert "channel=priv" in granted_page.text and "(protected)" in granted_page.text

    # Revoked while hoard runs: refused at once.
    listed = hoard_cli(hoard, "token", "list", "--channel", "priv")
    assert listed.returncode == 0 and token not in listed.stdout, listed.stdout
    token_id = listed.stdout.split()[0]
    revoked = hoard_cli(hoard, "token", "revoke", token_id)
    assert revoked.returncode == 0, revoked.stderr
    assert request(port, "GET", f"/t/{token}/priv/noarch/repodata.json").status == 401

    bodies["/healthz"] = request(port, "GET", "/healthz").text
    bodies["/metrics"] = request(port, "GET", "/metrics").text
    hoard.stop()
    assert_no_secrets({"hoard log": hoard.log_text(), "token create stderr": issued.stderr, **bodies}, secrets)

    # hoard export leaves the protected channel out unless it is named (then it warns).
    config_path = hoard.extra_args[hoard.extra_args.index("--config") + 1]
    def export(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
        out = tmp_path / f"export-{len(args)}.tar"
        done = subprocess.run([str(hoard.binary), "export", "--root", str(hoard.root), "--config", config_path,
                               "--output", str(out), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        with tarfile.open(out) as tar:
            index = json.load(tar.extractfile("index.json"))
        return done, {m["annotations"]["org.opencontainers.image.ref.name"].split("/")[0] for m in index["manifests"]}
    done, channels = export()
    assert channels == {"pub"}, channels
    assert "skipped protected channel priv" in done.stdout and "warning" not in done.stderr, done.stdout
    done, channels = export("--channel", "priv", "--channel", "pub")
    assert channels == {"priv", "pub"}, channels
    assert done.stderr.count("warning: exporting protected channel(s) priv") == 1, done.stderr

    # hoard sync likewise: priv is published only when named, with one warning.
    if reg.available():
        registry = reg.DockerRegistry(tmp_path / "registry").start()
        try:
            def sync(*args: str) -> subprocess.CompletedProcess:
                return subprocess.run([str(hoard.binary), "sync", "--root", str(hoard.root), "--config", config_path,
                                       "--registry", f"http://127.0.0.1:{registry.port}/mirror", *args],
                                      capture_output=True, text=True, timeout=120)
            def catalog() -> set[str]:
                resp = request(registry.port, "GET", "/v2/_catalog")
                return {name.split("/")[1] for name in json.loads(resp.body)["repositories"]}
            done = sync()
            assert done.returncode == 0, done.stdout + done.stderr
            assert "channel priv is protected and was not published" in done.stdout and "warning" not in done.stderr
            assert catalog() == {"pub"}
            done = sync("--channel", "priv")
            assert done.returncode == 0, done.stdout + done.stderr
            assert done.stderr.count("warning: publishing protected channel(s) priv") == 1, done.stderr
            assert catalog() == {"pub", "priv"}
        finally:
            registry.stop()


def private_channel_dir_of(server: Upstream) -> Path:
    return Path(server.root)
