"""Shared by the operations tests (metrics, access log, status, eviction): a hoard started with
extra flags (stopped at teardown by conftest's `start_hoard`), and /metrics read with
prometheus-client's own text parser."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from conftest import HOARD_PROCS
from hoard import Hoard, HoardError, request


def start_with(pytest_request, hoard_bin: Path, upstream_url: str, tmp_path: Path, *args: str,
               root: Path | None = None) -> Hoard:
    """A hoard serving channel `fixture` with extra command-line flags; conftest's teardown
    (the `start_hoard` fixture must be requested too) SIGTERMs it and checks its exit."""
    procs = pytest_request.node.stash.setdefault(HOARD_PROCS, [])
    proc = Hoard(hoard_bin, root or tmp_path / "hoard-root", {"fixture": upstream_url},
                 log_path=tmp_path / f"hoard-ops-{len(procs) + 1}.log", extra_args=args)
    procs.append(proc)
    try:
        return proc.start()
    except HoardError as exc:
        import pytest
        pytest.fail(str(exc), pytrace=False)


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by (sample name, sorted labels), parsed as Prometheus would."""
    resp = request(port, "GET", "/metrics")
    assert resp.status == 200, resp.text
    assert resp.header("content-type").startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(resp.text):
        assert family.name.startswith("hoard_"), family.name
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when absent (a counter never incremented may not be listed)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and all(dict(ls).get(k) == want for k, want in labels.items()))


def status_json(hoard_bin: Path, root: Path, *args: str) -> dict:
    proc = subprocess.run([str(hoard_bin), "status", "--root", str(root), "--json", *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)
