#!/bin/sh
# Wrong-password flood against hoard's OCI front: anonymous 64 KiB blob GETs alone, then the
# same GETs while another wrk sends wrong Basic credentials. Loopback only, bounded durations.
# Usage: bench/auth_flood.sh [path/to/hoard]   (default: .build/release/hoard)
set -eu
HOARD=${1:-.build/release/hoard}
PORT=${AUTH_FLOOD_PORT:-18190}
SECONDS_EACH=${AUTH_FLOOD_SECONDS:-10}
WORK=$(mktemp -d /tmp/hoard-auth-flood.XXXXXX)
trap 'kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
htpasswd -Bbn bench bench-pass > "$WORK/htpasswd"
"$HOARD" serve --root "$WORK/store" --host 127.0.0.1 --port "$PORT" --htpasswd "$WORK/htpasswd" --log-level warning &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
head -c 65536 /dev/urandom > "$WORK/blob"
DIGEST="sha256:$(sha256sum "$WORK/blob" | cut -d' ' -f1)"
LOCATION=$(curl -sf -u bench:bench-pass -X POST -D - -o /dev/null "$BASE/v2/bench/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
curl -sf -u bench:bench-pass -X PUT --data-binary @"$WORK/blob" "$BASE$LOCATION?digest=$DIGEST" >/dev/null
BLOB="$BASE/v2/bench/blobs/$DIGEST"
cat > "$WORK/wrong.lua" <<LUA
wrk.headers["Authorization"] = "Basic $(printf 'bench:wrong-pass' | base64)"
LUA
rate() { sed -n 's/^Requests\/sec: *//p'; }
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "blob GETs alone (wrk -t2 -c16 -d${SECONDS_EACH}s): $(wrk -t2 -c16 -d"${SECONDS_EACH}s" "$BLOB" | rate) req/s"
wrk -t1 -c16 -d"${SECONDS_EACH}s" -s "$WORK/wrong.lua" "$BASE/v2/" > "$WORK/flood.txt" &
FLOOD=$!
echo "blob GETs during the flood (wrk -t2 -c16): $(wrk -t2 -c16 -d"${SECONDS_EACH}s" "$BLOB" | rate) req/s"
wait "$FLOOD"
echo "wrong-password requests (wrk -t1 -c16 on /v2/): $(rate < "$WORK/flood.txt") req/s; $(grep -o 'Non-2xx or 3xx responses: [0-9]*' "$WORK/flood.txt")"
echo "status of one more wrong-password request: $(curl -s -o /dev/null -w '%{http_code}' -u bench:wrong-pass "$BASE/v2/")"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
