"""A small, observable, breakable static HTTP server that plays a conda channel upstream.

hoard's tests need an upstream they can both *watch* (which requests arrived, with which headers)
and *break* (errors, stalls, short or corrupt bodies, outages). This is that upstream.

- Serves files of `root` under a URL prefix (default `/channel/...`) on 127.0.0.1, HTTP/1.1.
- Answers GET and HEAD with a strong ETag (quoted sha256 of the content), Last-Modified,
  Content-Length, Accept-Ranges and `Cache-Control: public, max-age=N` (configurable, or none).
- Conditional requests: If-None-Match, then If-Modified-Since -> 304 (validators repeated).
- Range: one `bytes=a-b`, `bytes=a-` or suffix `bytes=-n` -> 206 + Content-Range; unsatisfiable
  -> 416 with `Content-Range: bytes */size`; several ranges and invalid ones (`bytes=9-3`) are
  ignored (full 200, as RFC 9110 allows); If-Range that does not match -> full 200.
- Response headers can be overridden per path glob (`set_headers`): any Cache-Control, ETag,
  Last-Modified or Date value, however hostile, or None to leave a header out.
- Every request is logged (method, path, headers, status) in a thread-safe list.
- Faults, set at runtime for a path glob (fnmatch on the request path) or for everything ("*"):
  `fail` (status), `stall` (sleep before the response or in the middle of the body),
  `truncate` (full Content-Length advertised, half the body sent, connection closed),
  `corrupt` (bytes flipped, same length), and the hostile ones: `overlong` (Content-Length longer
  than the whole body that is sent, then closed), `reset` (half the body, then a TCP RST),
  `html` (200 with an HTML error page as text/html), `body` (200 with the given `body` bytes and
  `content_type` instead of the file, which need not exist). `stop()` / `start()` takes the whole
  server down and back up on the same port (connections refused, open keep-alive connections cut).

CLI: `python upstream.py CHANNEL_DIR [--port N] [--prefix /channel] [--max-age N]`.
"""

from __future__ import annotations

import argparse
import email.utils
import fnmatch
import hashlib
import http.server
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

FAULT_KINDS = ("fail", "stall", "truncate", "corrupt", "overlong", "reset", "html", "body")
HTML_ERROR_PAGE = (b"<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
                   b"<body><h1>Bad Gateway</h1><p>The CDN could not reach the origin.</p></body></html>\n")


@dataclass
class Fault:
    """One injected misbehaviour. `remaining` counts how many more requests it hits (None: all)."""

    kind: str
    status: int = 503
    seconds: float = 0.0
    mid_body: bool = False
    remaining: int | None = None
    body: bytes = b""
    content_type: str = "application/octet-stream"


@dataclass
class LoggedRequest:
    """What the upstream saw; `headers` keys are lower-case.

    Logged when the request arrives and `status` set just before the status line is sent, so a
    client that got a response always finds it complete in the log (None: no status line sent).
    """

    method: str
    path: str
    headers: dict[str, str]
    status: int | None = None
    time: float = field(default_factory=time.time)


class Upstream:
    """A channel directory served over HTTP, with a request log and fault injection."""

    def __init__(self, root: str | os.PathLike[str], prefix: str = "/channel",
                 max_age: int | None = 60, port: int = 0):
        self.root = Path(root).resolve()
        self.prefix = "/" + prefix.strip("/")
        self.max_age = max_age
        self.port = port
        self._lock = threading.Lock()
        self._log: list[LoggedRequest] = []
        self._faults: dict[str, Fault] = {}
        self._headers: dict[str, dict[str, str | None]] = {}
        self._etags: dict[tuple[str, int, int], str] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Upstream":
        """Listen (on the previous port after a stop, so URLs handed out stay valid)."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.upstream = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"upstream:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Go down hard: refuse new connections, cut open ones, wake up stalled responses."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.cut_connections()
        self._thread.join(timeout=5)

    def down(self) -> None:
        """The `down` fault: nothing listens any more (same as stop())."""
        self.stop()

    def up(self) -> None:
        """Back up on the same port after down()."""
        self.start()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        """Base URL of the channel, e.g. http://127.0.0.1:PORT/channel"""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def __enter__(self) -> "Upstream":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def count(self, method: str, path: str) -> int:
        """How many `method` requests hit `path` (exact path, or a glob like '*.conda')."""
        return sum(1 for r in self.requests if r.method == method and fnmatch.fnmatchcase(r.path, path))

    def _record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._log.append(entry)

    # ---- faults ----------------------------------------------------------------------------

    def set_fault(self, pattern: str, kind: str, *, status: int = 503, seconds: float = 0.0,
                  mid_body: bool = False, times: int | None = None, body: bytes = b"",
                  content_type: str = "application/octet-stream") -> None:
        """Make requests whose path matches `pattern` ("*" for all) misbehave.

        `times` limits the fault to the next N matching requests; later ones are served normally.
        `body` and `content_type` are what the `body` fault answers with.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._faults[pattern] = Fault(kind, status, seconds, mid_body, times, body, content_type)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        """The fault for `path` (exact pattern first, then globs), consuming one use of it."""
        with self._lock:
            fault = self._faults.get(path)
            if fault is None:
                fault = next((f for p, f in self._faults.items() if fnmatch.fnmatchcase(path, p)), None)
            if fault is None or fault.remaining == 0:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
            return fault

    # ---- header overrides ------------------------------------------------------------------

    def set_headers(self, pattern: str, headers: dict[str, str | None]) -> None:
        """Send these header values (None: leave the header out) on responses for paths matching
        `pattern` ("*" for all), replacing the defaults: e.g. {"Cache-Control": "max-age=1e400"}.
        Applies to 200, 206, 304 and 416 answers for files; `Date` replaces the server's own.
        """
        with self._lock:
            self._headers[pattern] = dict(headers)

    def clear_headers(self) -> None:
        with self._lock:
            self._headers.clear()

    def _header_overrides(self, path: str) -> dict[str, str | None]:
        """The overrides for `path`: exact pattern first, then the first matching glob."""
        with self._lock:
            found = self._headers.get(path)
            if found is None:
                found = next((h for p, h in self._headers.items() if fnmatch.fnmatchcase(path, p)), {})
            return dict(found)

    def _sleep(self, seconds: float) -> bool:
        """A stall that ends early when the server is stopped; True if it was."""
        return self._stopping.wait(seconds)

    # ---- files -----------------------------------------------------------------------------

    def resolve(self, url_path: str) -> Path | None:
        """Map a request path to a file under root, or None (outside the prefix/root, or missing)."""
        if not (url_path == self.prefix or url_path.startswith(self.prefix + "/")):
            return None
        relative = url_path[len(self.prefix):].lstrip("/")
        candidate = (self.root / relative).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate if candidate.is_file() else None

    def etag(self, path: Path, stat: os.stat_result) -> str:
        """Strong ETag: the quoted sha256 of the content, memoised on (path, mtime, size)."""
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._etags.get(key)
        if cached is None:
            cached = '"' + hashlib.sha256(path.read_bytes()).hexdigest() + '"'
            with self._lock:
                self._etags[key] = cached
        return cached


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    upstream: Upstream

    def __init__(self, *args, **kwargs):
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def cut_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # ---- plumbing --------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        try:
            super().finish()
        except (OSError, ValueError):
            pass  # the socket may already be closed (a `reset` fault)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # the structured log replaces stderr chatter

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    # ---- the response ----------------------------------------------------------------------

    def _serve(self, send_body: bool) -> None:
        upstream = self.server.upstream
        path = urlsplit(self.path).path
        self._date_override = None
        self._entry = LoggedRequest(self.command, path, {k.lower(): v for k, v in self.headers.items()})
        upstream._record(self._entry)
        fault = upstream._take_fault(path)
        try:
            self._respond(upstream, unquote(path), fault, send_body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client (or stop()) went away mid-response

    def _respond(self, upstream: Upstream, path: str, fault: Fault | None, send_body: bool) -> None:
        """Send the response for `path`, misbehaving as `fault` says."""
        if fault and fault.kind == "stall" and not fault.mid_body:
            if upstream._sleep(fault.seconds):
                self._hang_up()
                return
        if fault and fault.kind == "fail":
            self._send_simple(fault.status, f"injected failure {fault.status}\n", send_body)
            return
        if fault and fault.kind in ("html", "body"):
            body = HTML_ERROR_PAGE if fault.kind == "html" else fault.body
            content_type = "text/html; charset=utf-8" if fault.kind == "html" else fault.content_type
            self._start(200, {"Content-Type": content_type, "Content-Length": str(len(body))})
            self.end_headers()
            if send_body:
                self.wfile.write(body)
            return

        file = upstream.resolve(path)
        if file is None:
            self._send_simple(404, f"not found: {path}\n", send_body)
            return
        data = file.read_bytes()
        stat = file.stat()
        validators = {
            "ETag": upstream.etag(file, stat),
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
        }
        if upstream.max_age is not None:
            validators["Cache-Control"] = f"public, max-age={upstream.max_age}"
        overrides = upstream._header_overrides(urlsplit(self.path).path)
        self._date_override = overrides.pop("Date", None)
        validators.update(overrides)
        # The comparisons below read these two, so keep them present (an omitted one still is).
        etag_for_match = validators.get("ETag") or upstream.etag(file, stat)
        validators = {k: v for k, v in validators.items() if v is not None}

        if self._not_modified(etag_for_match, stat.st_mtime):
            self._start(304, validators)
            self.end_headers()
            return

        status, body, extra = 200, data, {}
        byte_range = self._range(len(data), validators)
        if byte_range == "unsatisfiable":
            extra = {"Content-Range": f"bytes */{len(data)}"}
            self._send_simple(416, "range not satisfiable\n", send_body, {**validators, **extra})
            return
        if byte_range is not None:
            first, last = byte_range
            status, body = 206, data[first:last + 1]
            extra = {"Content-Range": f"bytes {first}-{last}/{len(data)}"}

        content_type = "application/json" if file.suffix == ".json" else "application/octet-stream"
        # `overlong` lies: it announces more than it will ever send.
        length = len(body) + (100_000 if fault and fault.kind == "overlong" else 0)
        self._start(status, {**validators, **extra, "Content-Type": content_type,
                             "Accept-Ranges": "bytes", "Content-Length": str(length)})
        self.end_headers()
        if send_body:
            self._send_body(upstream, body, fault)

    def _send_body(self, upstream: Upstream, body: bytes, fault: Fault | None) -> None:
        kind = fault.kind if fault else None
        if kind == "corrupt":
            body = _corrupt(body)
        half = len(body) // 2
        if kind == "truncate":
            self.wfile.write(body[:half])
            self._hang_up()
            return
        if kind == "overlong":
            self.wfile.write(body)
            self._hang_up()
            return
        if kind == "reset":
            self.wfile.write(body[:half])
            self._reset()
            return
        if kind == "stall" and fault.mid_body:
            self.wfile.write(body[:half])
            self.wfile.flush()
            if upstream._sleep(fault.seconds):
                self._hang_up()
                return
            body = body[half:]
        self.wfile.write(body)

    def _hang_up(self) -> None:
        """Close the connection now, whatever was (not) sent: what a crashing server looks like."""
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0, then close): a crashed peer or a
        middlebox giving up, as opposed to the orderly FIN of `_hang_up`."""
        self.wfile.flush()
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _not_modified(self, etag: str, mtime: float) -> bool:
        """RFC 9110 order: If-None-Match wins; If-Modified-Since only when it is absent."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
            return "*" in tags or etag in tags
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                return int(mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def _range(self, size: int, validators: dict[str, str]) -> tuple[int, int] | str | None:
        """(first, last) for a single satisfiable range, "unsatisfiable", or None for a full body."""
        header = self.headers.get("Range")
        if not header or not header.startswith("bytes=") or "," in header:
            return None
        if_range = self.headers.get("If-Range")
        if if_range and if_range not in (validators.get("ETag"), validators.get("Last-Modified")):
            return None
        start, _, end = header[len("bytes="):].strip().partition("-")
        try:
            if start == "":  # suffix: the last N bytes
                length = int(end)
                if length <= 0 or size == 0:
                    return "unsatisfiable"
                return max(0, size - length), size - 1
            first = int(start)
            last = int(end) if end else size - 1
        except ValueError:
            return None
        if end and last < first:  # invalid (RFC 9110 §14.1.1): ignored, as hoard's ByteRange does
            return None
        if first >= size:
            return "unsatisfiable"
        return first, min(last, size - 1)

    def date_time_string(self, timestamp=None) -> str:
        """The Date header: an override from `set_headers` when one is set for this path."""
        override = getattr(self, "_date_override", None)
        return override if override is not None else super().date_time_string(timestamp)

    def _start(self, status: int, headers: dict[str, str]) -> None:
        self._entry.status = status  # before any byte goes out: the client cannot outrun the log
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)

    def _send_simple(self, status: int, text: str, send_body: bool, headers: dict | None = None) -> None:
        body = text.encode()
        self._start(status, {**(headers or {}), "Content-Type": "text/plain; charset=utf-8",
                             "Content-Length": str(len(body))})
        self.end_headers()
        if send_body:
            self.wfile.write(body)


def _corrupt(body: bytes) -> bytes:
    """Flip three bytes inside the body (same length, different sha256).

    The first and last bytes are left alone so that the damage is not caught by a cheap
    look at the archive's header or trailer: only hashing the content reveals it.
    """
    if len(body) < 4:
        return bytes(b ^ 0xFF for b in body)
    damaged = bytearray(body)
    for i in (len(body) // 4, len(body) // 2, 3 * len(body) // 4):
        damaged[i] ^= 0xFF
    return bytes(damaged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="channel directory to serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--prefix", default="/channel")
    parser.add_argument("--max-age", type=int, default=60)
    args = parser.parse_args()
    upstream = Upstream(args.root, prefix=args.prefix, max_age=args.max_age, port=args.port).start()
    print(f"serving {upstream.root} at {upstream.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        upstream.stop()


if __name__ == "__main__":
    main()
