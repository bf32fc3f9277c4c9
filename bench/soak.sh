#!/usr/bin/env bash
# Runs the daemon for a bounded time against the built-in demo API on 127.0.0.1. Two targets fire every second and
# the retention is short enough that pruning runs. It prints the daemon's resident memory over time, the run count,
# the errors logged and the database's integrity check: memory that keeps growing here would grow for months in
# service.
#
# Environment: SOAK_SECONDS [120] how long the daemon runs; BENCH_SKIP_BUILD [0] 1 uses the existing release build.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "$0")/.." && pwd)
LOADSMOKE="$REPO_DIR/.build/release/loadsmoke"
SOAK_SECONDS=${SOAK_SECONDS:-120}
WORK_DIR=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK_DIR"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    (cd "$REPO_DIR" && swift build -c release --product loadsmoke >"$WORK_DIR/build.log" 2>&1) || {
        tail -n 20 "$WORK_DIR/build.log" >&2
        exit 1
    }
fi

DEMO_PORT=$(free_port)
STATUS_PORT=$(free_port)
cat >"$WORK_DIR/soak.yaml" <<YAML
storage:
  path: $WORK_DIR/soak.db
  retention: 1m
  prune_interval: 10s
server:
  listen: 127.0.0.1:$STATUS_PORT
targets:
  - name: chat
    url: http://127.0.0.1:$DEMO_PORT
    schedule: every 1s
    requests: 50
    concurrency: 5
  - name: stream
    url: http://127.0.0.1:$DEMO_PORT
    schedule: every 1s
    openai: demo
    stream: true
    requests: 5
    concurrency: 5
    budgets: {p50: 5s, p95: 5s, p99: 5s}
YAML

"$LOADSMOKE" serve-demo --port "$DEMO_PORT" --latency-ms 2 --first-token-ms 5 --token-interval-ms 1 2>/dev/null &
PIDS+=($!)
sleep 1
"$LOADSMOKE" daemon --config "$WORK_DIR/soak.yaml" 2>"$WORK_DIR/daemon.log" &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")

echo "| seconds | resident MB | runs stored |"
echo "| ---: | ---: | ---: |"
for ((elapsed = 10; elapsed <= SOAK_SECONDS; elapsed += 10)); do
    sleep 10
    rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$DAEMON_PID/status")
    runs=$(grep -c 'event=run.finished' "$WORK_DIR/daemon.log" || true)
    awk -v seconds="$elapsed" -v kb="$rss_kb" -v runs="$runs" 'BEGIN { printf "| %d | %.1f | %d |\n", seconds, kb / 1024, runs }'
done

kill -TERM "$DAEMON_PID"
for _ in $(seq 1 100); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
done
echo
echo "errors logged: $(grep -c 'level=error' "$WORK_DIR/daemon.log" || true)"
echo "stopped: $(grep -o 'event=daemon.stopped.*' "$WORK_DIR/daemon.log" || echo 'no stop line')"
echo "integrity check: $(sqlite3 "$WORK_DIR/soak.db" 'PRAGMA integrity_check;' 2>/dev/null || echo 'sqlite3 not installed')"
