"""Run the hoard binary as a subprocess for end-to-end tests, plus raw HTTP helpers.

The command line is the contract with the server:

    hoard serve --root DIR --host 127.0.0.1 --port PORT
                --upstream NAME=URL [--upstream NAME2=URL2 ...] --log-level debug

Readiness is `GET /healthz` answering 200 with a JSON body. Shutdown is SIGTERM, and hoard must
exit within 10 s. Its stdout and stderr go to a log file so a failing test can show them.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # Tests/e2e/hoard.py -> repo root
DEFAULT_BINARY = REPO_ROOT / ".build" / "debug" / "hoard"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


def hoard_binary() -> Path:
    """`HOARD_BIN` if set, else the debug build of this checkout."""
    return Path(os.environ.get("HOARD_BIN") or DEFAULT_BINARY)


def free_port() -> int:
    """A port that was free a moment ago (the kernel picks it; a tiny race is acceptable here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HoardError(RuntimeError):
    pass


class Hoard:
    """One hoard process. `start()` blocks until /healthz answers; `stop()` sends SIGTERM."""

    def __init__(self, binary: Path, root: Path, upstreams: dict[str, str], log_path: Path,
                 port: int | None = None, extra_args: tuple[str, ...] = (),
                 ssl_context=None, env: dict[str, str] | None = None):
        self.binary = Path(binary)
        self.root = Path(root)
        self.upstreams = dict(upstreams)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.extra_args = tuple(extra_args)
        # Set when hoard serves HTTPS (--tls-cert/--tls-key): the health check then uses it.
        self.ssl_context = ssl_context
        # The process environment (None: this one's), e.g. RATTLER_AUTH_FILE for upstream credentials.
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self.ready = False  # became healthy at least once

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl_context else 'http'}://127.0.0.1:{self.port}"

    def channel_url(self, name: str = "fixture") -> str:
        return f"{self.url}/{name}"

    def command(self) -> list[str]:
        cmd = [str(self.binary), "serve", "--root", str(self.root), "--host", "127.0.0.1",
               "--port", str(self.port)]
        for name, url in self.upstreams.items():
            cmd += ["--upstream", f"{name}={url}"]
        return cmd + ["--log-level", "debug", *self.extra_args]

    def start(self, timeout: float = START_TIMEOUT) -> "Hoard":
        if not self.binary.is_file():
            raise HoardError(f"hoard binary not found at {self.binary} (build it, or set HOARD_BIN)")
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"$ {' '.join(self.command())}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=self.env)
        self.returncode = None
        self._wait_healthy(timeout)
        self.ready = True
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no attempt"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode
                raise HoardError(f"hoard exited with {self.returncode} before it was ready\n{self.log_tail()}")
            try:
                resp = request(self.port, "GET", "/healthz", timeout=2, ssl_context=self.ssl_context)
                if resp.status == 200:
                    json.loads(resp.body)  # must be JSON
                    return
                last_error = f"status {resp.status}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        self.kill()
        raise HoardError(f"hoard not healthy after {timeout:.0f}s ({last_error})\n{self.log_tail()}")

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; a hoard that does not exit in time is killed and reported."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise HoardError(f"hoard did not exit within {timeout:.0f}s of SIGTERM\n{self.log_tail()}")
        return self.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc is not None:
            self.returncode = self.proc.returncode

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 80) -> str:
        text = self.log_text().splitlines()[-lines:]
        return f"--- {self.log_path} (last {len(text)} lines)\n" + "\n".join(text)


# ---- raw HTTP ----------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
            timeout: float = 30, ssl_context=None) -> Response:
    """One request with the path sent exactly as given (http.client does not normalise it).
    With `ssl_context`, over HTTPS (hoard started with --tls-cert/--tls-key).

    Raises OSError / http.client.HTTPException when the connection fails or the body is cut short.
    """
    if ssl_context is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ssl_context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()
