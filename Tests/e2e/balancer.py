"""A round-robin load balancer (Debian nginx) in front of several hoard nodes, for the scale-out tests.

`Balancer(directory, ports).start()` runs nginx in the foreground (`daemon off`, its own prefix,
pid, logs and temp directories under `directory`) on a free loopback port, passing every request
to the next node in turn (nginx's default round robin), unbuffered both ways (streams and large
uploads go through as they come) and over keep-alive connections. `requests()` reads its access
log: one `(method, uri, status, node port)` per request, so a test can show that the nodes shared
the work. `stop()` SIGQUITs it (graceful) and waits.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from shutil import which

from hoard import free_port, request

NGINX = "/usr/sbin/nginx"


def nginx_binary() -> str:
    path = which("nginx") or NGINX
    if not Path(path).exists():
        raise RuntimeError("nginx is not installed (make deps installs it: APT_PACKAGES in the Makefile)")
    return path


class Balancer:
    def __init__(self, directory: Path, node_ports: list[int]):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.node_ports = list(node_ports)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.access_log = self.dir / "access.log"
        self.error_log = self.dir / "error.log"
        (self.dir / "nginx.conf").write_text(self._config())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> str:
        temp = "\n".join(f"    {kind}_temp_path {self.dir / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in self.node_ports)
        return f"""
daemon off;
worker_processes 1;
pid {self.dir / 'nginx.pid'};
error_log {self.error_log} info;
events {{ worker_connections 512; }}
http {{
    log_format nodes '$request_method $request_uri $status $upstream_addr';
    access_log {self.access_log} nodes;
{temp}
    upstream hoard {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{self.port};
        client_max_body_size 0;
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_read_timeout 120s;
        location / {{ proxy_pass http://hoard; }}
    }}
}}
"""

    def start(self, timeout: float = 10) -> "Balancer":
        with open(self.dir / "nginx.out", "ab") as out:
            self.proc = subprocess.Popen([nginx_binary(), "-p", str(self.dir), "-c", str(self.dir / "nginx.conf")],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}\n{self.log_tail()}")
            try:
                request(self.port, "GET", "/healthz", timeout=2)
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.port} within {timeout}s\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def requests(self) -> list[tuple[str, str, int, int | None]]:
        """(method, uri, status, port of the node that answered) per request, in order."""
        out = []
        try:
            lines = self.access_log.read_text().splitlines()
        except FileNotFoundError:
            return out
        for line in lines:
            method, uri, status, upstream = line.split(" ", 3)
            # `$upstream_addr` lists every node tried ("a, b" after a retry): the last answered.
            match = re.search(r":(\d+)\s*$", upstream)
            out.append((method, uri, int(status), int(match.group(1)) if match else None))
        return out

    def log_tail(self, lines: int = 30) -> str:
        parts = []
        for path in (self.error_log, self.dir / "nginx.out"):
            try:
                parts.append(f"--- {path}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
            except FileNotFoundError:
                pass
        return "\n".join(parts)
