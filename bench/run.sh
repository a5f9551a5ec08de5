#!/usr/bin/env bash
# Runs every hoard benchmark (or the sections named: setup cached repodata cold singleflight
# memory pipeline oci summary stop) and prints the summary table. See bench/README.md.
# Work files (about 7 GB) go to $BENCH_WORK (default /tmp/hoard-bench).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=""
for tool in nginx wrk curl zstd; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
[ -z "$missing" ] || apt-get install -y $missing

swift build -c release --product hoard
swift build -c release --product hoard-repodata-bench

# quetz-server 0.10.4 needs Python 3.11 and period pins (see bench/README.md).
export QUETZ_VENV=${QUETZ_VENV:-/tmp/quetz-venv}
if [ ! -x "$QUETZ_VENV/bin/quetz" ]; then
    python3.11 -m venv "$QUETZ_VENV"
    "$QUETZ_VENV/bin/pip" install -q quetz-server==0.10.4 -c bench/quetz-constraints.txt
fi

echo "load before: $(uptime)"
python3 bench/bench.py "${@:-all}"
echo "load after: $(uptime)"
