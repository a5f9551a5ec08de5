#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Package.swift) with -sanitize=fuzzer,address and runs each
# for SECONDS (default 20) from its committed seed corpus. Exits non-zero on the first target
# that crashes, leaks or times out, and says how to reproduce it.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]      e.g. Fuzz/run.sh 60 fuzz-http-headers
#
# New inputs libFuzzer finds go to .build-fuzz/corpus/<target>/ (scratch), crash inputs to
# .build-fuzz/artifacts/<target>/; the committed corpus (Fuzz/corpus/) is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SECONDS_EACH=${1:-20}
# FUZZ_RUNS=N: instead of a time budget, exactly N inputs per target from a fixed seed
# (FUZZ_SEED, default 1), so a run is reproducible: `make test` uses this, so CI fails only on
# what a run here fails on too. Time-boxed runs (`make fuzz`) explore further.
budget=(-max_total_time="$SECONDS_EACH")
what="${SECONDS_EACH}s"
if [ -n "${FUZZ_RUNS:-}" ]; then
  budget=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
  what="$FUZZ_RUNS runs, seed ${FUZZ_SEED:-1}"
fi
shift || true
SCRATCH=.build-fuzz
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=($(ls Fuzz/Sources | grep '^fuzz-'))
fi

# Debug build: assertions on, the same code `swift build` makes. -Xcxx: the C++ shim over simdjson
# (the only C++ here) gets ASan and coverage too; C dependencies (BoringSSL, SQLite glue) are left
# uninstrumented, which keeps the cold build within CI's budget. -parse-as-library: every target
# has @main (see Fuzz/Package.swift).
echo "== building ${#TARGETS[@]} fuzz targets"
build_start=$(date +%s)
# SwiftPM does not notice files added to a path dependency (the root package, here) once it has
# planned a build; dropping the plan makes it look again (unchanged files are not recompiled).
rm -f "$SCRATCH/debug.yaml" "$SCRATCH"/*/debug/description.json
"$SWIFT" build -c debug --package-path Fuzz --scratch-path "$SCRATCH" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
  -Xcxx -fsanitize=fuzzer-no-link,address
echo "== built in $(( $(date +%s) - build_start ))s"
BIN=$("$SWIFT" build -c debug --package-path Fuzz --scratch-path "$SCRATCH" --show-bin-path)

failed=()
for target in "${TARGETS[@]}"; do
  corpus="$SCRATCH/corpus/$target"
  artifacts="$SCRATCH/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  extra=()
  asan=${ASAN_OPTIONS:-}
  # TOMLKit 0.6.0 leaks its table when toml++ rejects a document (TOMLTable(string:), on the
  # error path): a config is parsed once at start-up, so that is not ours to chase here.
  if [ "$target" = fuzz-config ]; then extra+=(-detect_leaks=0); asan=detect_leaks=0; fi
  # FoundationXML (under XMLCoder) leaks the CFError of every document libxml2 rejects
  # (_structuredErrorFunc): a few dozen bytes per unreadable S3 answer, not ours either.
  # Inputs up to 4 KiB: a bigger answer only repeats the same tags (and each run parses the bytes
  # three times, so this keeps its 20,000 runs within a few minutes of CI).
  if [ "$target" = fuzz-s3-xml ]; then extra+=(-detect_leaks=0 -max_len=4096); asan=detect_leaks=0; fi
  echo "== $target: $what"
  # -rss_limit_mb: a parser that buffers a bomb is a finding; -timeout: so is one that hangs.
  if ! ASAN_OPTIONS=$asan "$BIN/$target" "${budget[@]}" -rss_limit_mb=2048 -timeout=20 ${extra[@]+"${extra[@]}"} \
       -artifact_prefix="$artifacts" -print_final_stats=1 "$corpus" "Fuzz/corpus/$target" \
       > "$SCRATCH/$target.log" 2>&1; then
    tail -60 "$SCRATCH/$target.log"
    echo "!! $target failed; its input is in $artifacts (reproduce: $BIN/$target <that file>)" >&2
    failed+=("$target")
  else
    grep -E '^(stat::number_of_executed_units|Done )' "$SCRATCH/$target.log" | tr '\n' ' '; echo
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "== fuzzing passed: ${TARGETS[*]}"
