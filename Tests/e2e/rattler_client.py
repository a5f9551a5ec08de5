"""Solve and install conda specs with py-rattler, as a real client would; run as a subprocess.

Why a subprocess: py-rattler 0.28 can abort in native code at interpreter exit even after a
successful run, and each run must start with exactly the caches the test gives it. So this script
ends with `os._exit` and the tests run it via `run_client()` below.

    python rattler_client.py --channel URL --prefix DIR --cache DIR [--no-shards]
                             [--mirror FROM=TO ...] [--tls-system-roots] [--max-retries N]
                             [--timeout S] SPEC...

- `--cache DIR` holds both the repodata cache (`DIR/repodata`) and the package cache (`DIR/pkgs`);
  a fresh DIR means a cold client.
- `--no-shards` turns CEP-16 sharded repodata off (then rattler reads repodata.json(.zst)).
- `--mirror FROM=TO` is rattler's `[mirrors]` config: requests for channel URL FROM go to TO
  (e.g. `https://conda.anaconda.org/fixture=http://127.0.0.1:PORT/fixture` with `--channel
  https://conda.anaconda.org/fixture`).
- `--max-retries` is the client's retry middleware budget (rattler's default is 3; tests that
  inject faults use 0 so that failures are quick and request counts predictable).

On success prints one JSON object to stdout: {"installed": [{"name", "version", "file_name",
"url", "sha256"}]}. On failure prints the error to stderr and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PLATFORMS = ("linux-64", "noarch")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="solve + install with py-rattler")
    parser.add_argument("--channel", required=True, help="channel URL")
    parser.add_argument("--prefix", required=True, help="environment to create")
    parser.add_argument("--cache", required=True, help="client cache root (repodata + pkgs)")
    parser.add_argument("--no-shards", action="store_true", help="disable sharded repodata")
    parser.add_argument("--mirror", action="append", default=[], metavar="FROM=TO")
    parser.add_argument("--tls-system-roots", action="store_true",
                        help='tls-root-certs = "system" (trust SSL_CERT_FILE, e.g. a test CA)')
    parser.add_argument("--max-retries", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=30, help="per-request timeout, seconds")
    parser.add_argument("--platform", action="append", dest="platforms", metavar="SUBDIR")
    parser.add_argument("specs", nargs="+")
    return parser.parse_args(argv)


def mirrors_toml(mirrors: list[str]) -> str:
    """The `[mirrors]` table of rattler's config.toml for FROM=TO pairs (several TO per FROM ok)."""
    table: dict[str, list[str]] = {}
    for item in mirrors:
        source, sep, target = item.partition("=")
        if not sep:
            raise SystemExit(f"--mirror expects FROM=TO, got {item!r}")
        table.setdefault(source, []).append(target)
    lines = ["[mirrors]"] + [f"{json.dumps(k)} = {json.dumps(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


async def solve_and_install(args: argparse.Namespace) -> list[dict]:
    from rattler import Channel, Config, Gateway, SourceConfig, install, solve
    from rattler.networking import Client

    toml = 'tls-root-certs = "system"\n' if args.tls_system_roots else ""
    config = Config.from_toml(toml + (mirrors_toml(args.mirror) if args.mirror else ""))
    client = Client.from_config(config, max_retries=args.max_retries, timeout=args.timeout)
    cache = Path(args.cache)
    gateway = Gateway(
        cache_dir=cache / "repodata",
        default_config=SourceConfig(sharded_enabled=not args.no_shards),
        client=client,
    )
    records = await solve(
        [Channel(args.channel)],
        args.specs,
        gateway=gateway,
        platforms=args.platforms or list(DEFAULT_PLATFORMS),
        virtual_packages=[],
    )
    await install(records, target_prefix=args.prefix, cache_dir=cache / "pkgs",
                  client=client, show_progress=False)
    return [
        {
            "name": r.name.source,
            "version": str(r.version),
            "file_name": r.file_name,
            "url": r.url,
            "sha256": r.sha256.hex() if r.sha256 else None,
        }
        for r in records
    ]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        installed = asyncio.run(solve_and_install(args))
    except Exception as exc:  # noqa: BLE001 - report any client failure to the test
        print(f"rattler_client: {type(exc).__name__}: {exc}", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return 1
    print(json.dumps({"installed": installed}))
    return 0


# ---- used by the tests (no py-rattler import in the pytest process) ----------------------------

@dataclass
class ClientResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def installed(self) -> list[dict]:
        return json.loads(self.stdout)["installed"]

    def describe(self) -> str:
        return f"rattler_client exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_client(channel: str, prefix: os.PathLike | str, cache: os.PathLike | str,
               specs: list[str] | tuple[str, ...] = ("fx-app",), *, shards: bool = True,
               mirrors: dict[str, str] | None = None, max_retries: int = 3,
               timeout: float = 60, ca_file: os.PathLike | str | None = None) -> ClientResult:
    """Run this script in a fresh interpreter and return its outcome (never raises on failure)."""
    cmd = [sys.executable, str(HERE / "rattler_client.py"), "--channel", channel,
           "--prefix", str(prefix), "--cache", str(cache), "--max-retries", str(max_retries)]
    if not shards:
        cmd.append("--no-shards")
    for source, target in (mirrors or {}).items():
        cmd += ["--mirror", f"{source}={target}"]
    env = {**os.environ, "RATTLER_CACHE_DIR": str(Path(cache) / "default")}
    if ca_file is not None:
        # The system roots are what SSL_CERT_FILE names: a test CA for hoard's HTTPS.
        cmd.append("--tls-system-roots")
        env["SSL_CERT_FILE"] = str(ca_file)
    cmd += list(specs)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return ClientResult(proc.returncode, proc.stdout, proc.stderr)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
