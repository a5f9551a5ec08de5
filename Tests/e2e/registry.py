"""A real OCI registry for the e2e tests (Debian `docker-registry`), and pushes over plain HTTP.

`DockerRegistry(dir).start()` serves http://127.0.0.1:PORT with its data under `dir/data`, an
access log (`requests()` lists the GETs it answered), optional htpasswd (Basic) auth, and
`stop()` / `start()` on the same port and data.

`seed_conda_mirror()` pushes a conda channel directory in the conda-oci-mirror 0.3.0 layout
(wire contract 1.1-1.4): per package `<ns>/<channel>/<subdir>/<name'>:<escaped version-build>`
with the empty `application/vnd.unknown.config.v1+json` config and one archive layer per format
(`application/vnd.conda.package.v1|v2`, titled with the file name, `org.conda.md5`); repodata
at `<ns>/<channel>/<subdir>/repodata.json:latest` with a `+json` and a `+json+zst` layer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from hoard import free_port

BINARY = "/usr/bin/docker-registry"
EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def available() -> bool:
    return shutil.which("docker-registry") is not None or Path(BINARY).exists()


class DockerRegistry:
    def __init__(self, directory: Path, user: str | None = None, password: str | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user, self.password = user, password
        self.log_path = self.dir / "registry.log"
        self.proc: subprocess.Popen | None = None
        config = [
            "version: 0.1",
            "log: {level: info, accesslog: {disabled: true}}",
            f"storage: {{filesystem: {{rootdirectory: {self.dir / 'data'}}}, delete: {{enabled: true}}}}",
            f"http: {{addr: 127.0.0.1:{self.port}}}",
        ]
        if user:
            entry = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True,
                                   check=True).stdout
            (self.dir / "htpasswd").write_text(entry)
            config.append(f"auth: {{htpasswd: {{realm: hoard-e2e, path: {self.dir / 'htpasswd'}}}}}")
        (self.dir / "config.yml").write_text("\n".join(config) + "\n")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "DockerRegistry":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BINARY, "serve", str(self.dir / "config.yml")], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/v2/", timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # 401 with auth: it is up
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not start:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def requests(self, method: str = "GET") -> list[str]:
        """Request URIs the registry answered (from its log lines), in order."""
        text = self.log_path.read_text(errors="replace")
        uris = []
        for line in text.splitlines():
            if "response completed" not in line:
                continue
            m = re.search(r'http\.request\.method=(\w+)', line)
            u = re.search(r'http\.request\.uri="?([^"\s]+)', line)
            if m and u and m.group(1) == method:
                uris.append(u.group(1))
        return uris

    # ---- pushing ---------------------------------------------------------------------------

    def _open(self, method: str, url: str, data: bytes | None = None, headers: dict | None = None):
        req = urllib.request.Request(url if url.startswith("http") else self.url + url, data=data,
                                     method=method, headers=headers or {})
        if self.user:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        return urllib.request.urlopen(req, timeout=30)

    def push_blob(self, repo: str, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        with self._open("POST", f"/v2/{repo}/blobs/uploads/", data=b"") as resp:
            location = resp.headers["Location"]
        sep = "&" if "?" in location else "?"
        with self._open("PUT", f"{location}{sep}digest={digest}", data=data,
                        headers={"Content-Type": "application/octet-stream"}):
            pass
        return digest

    def push_manifest(self, repo: str, tag: str, layers: list[dict]) -> str:
        """`layers`: dicts with `data`, `mediaType`, optional `annotations`. Returns the digest."""
        self.push_blob(repo, b"")
        descriptors = []
        for layer in layers:
            digest = self.push_blob(repo, layer["data"])
            d = {"mediaType": layer["mediaType"], "size": len(layer["data"]), "digest": digest}
            if layer.get("annotations"):
                d["annotations"] = layer["annotations"]
            descriptors.append(d)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.unknown.config.v1+json", "size": 0, "digest": EMPTY_SHA256},
            "layers": descriptors, "annotations": {},
        }).encode()
        with self._open("PUT", f"/v2/{repo}/manifests/{tag}", data=manifest,
                        headers={"Content-Type": OCI_MANIFEST}):
            pass
        return "sha256:" + hashlib.sha256(manifest).hexdigest()


def oci_tag(version: str, build: str) -> str:
    return f"{version}-{build}".replace("+", "__p__").replace("!", "__e__").replace("=", "__eq__")


def seed_conda_mirror(registry: DockerRegistry, channel_dir: Path, prefix: str,
                      skip: set[str] = frozenset()) -> None:
    """Pushes every package of `channel_dir` (but those in `skip`) and then each subdir's repodata."""
    created = time.strftime("%Y.%m.%d.%H.%M", time.gmtime())
    for subdir_path in sorted(p for p in Path(channel_dir).iterdir() if (p / "repodata.json").is_file()):
        subdir = subdir_path.name
        repodata = json.loads((subdir_path / "repodata.json").read_text())
        by_tag: dict[tuple[str, str], list[dict]] = {}
        for section, media_type in (("packages", "application/vnd.conda.package.v1"),
                                    ("packages.conda", "application/vnd.conda.package.v2")):
            for filename, record in repodata.get(section, {}).items():
                if filename in skip or not (subdir_path / filename).is_file():
                    continue
                name = record["name"]
                repo_name = "zzz" + name if name.startswith("_") else name
                data = (subdir_path / filename).read_bytes()
                by_tag.setdefault((repo_name, oci_tag(record["version"], record["build"])), []).append({
                    "data": data, "mediaType": media_type,
                    "annotations": {"org.conda.md5": hashlib.md5(data).hexdigest(), "creationTime": created,
                                    "org.opencontainers.image.title": filename},
                })
        for (repo_name, tag), layers in by_tag.items():
            registry.push_manifest(f"{prefix}/{subdir}/{repo_name}", tag, layers)
        raw = (subdir_path / "repodata.json").read_bytes()
        zst = (subdir_path / "repodata.json.zst").read_bytes()
        layers = [
            {"data": raw, "mediaType": "application/vnd.conda.repodata.v1+json",
             "annotations": {"creationTime": created, "org.opencontainers.image.title": "repodata.json"}},
            {"data": zst, "mediaType": "application/vnd.conda.repodata.v1+json+zst",
             "annotations": {"creationTime": created, "org.opencontainers.image.title": "repodata.json.zst"}},
        ]
        registry.push_manifest(f"{prefix}/{subdir}/repodata.json", created, layers)
        registry.push_manifest(f"{prefix}/{subdir}/repodata.json", "latest", layers)
