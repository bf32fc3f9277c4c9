#!/usr/bin/env bash
# Runs loadsmoke under valgrind's callgrind against a loopback nginx that this script starts. Prints the share of
# instructions per object-file group (loadsmoke's own code, Swift runtime and stdlib, Foundation, libcurl, libc,
# others). Appends that table to bench/RESULTS.md in place of the section an earlier run appended.
#
# A second run with BENCH_CALLGRIND_BASELINE requests measures start-up alone, so the table also gives instructions
# per request with start-up removed.
#
# Environment (defaults in brackets):
#   BENCH_CALLGRIND_REQUESTS [5000]      requests of the profiled run
#   BENCH_CALLGRIND_CONCURRENCY [10]     its concurrency
#   BENCH_CALLGRIND_BASELINE [10]        requests of the start-up run
#   BENCH_SKIP_BUILD [0]                 1 uses the existing .build/release/loadsmoke
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REQUESTS=${BENCH_CALLGRIND_REQUESTS:-5000}
CONCURRENCY=${BENCH_CALLGRIND_CONCURRENCY:-10}
BASELINE=${BENCH_CALLGRIND_BASELINE:-10}
LOADSMOKE="$REPO_DIR/.build/release/loadsmoke"
RESULTS="$BENCH_DIR/RESULTS.md"
SECTION_TITLE="## Callgrind: where loadsmoke's instructions go"

for number in "$REQUESTS" "$CONCURRENCY" "$BASELINE"; do
    if ! [[ $number =~ ^[1-9][0-9]*$ ]]; then
        note "error: invalid number '$number' in a BENCH_CALLGRIND_ variable: expected a positive integer"
        exit 2
    fi
done
if (( BASELINE >= REQUESTS )); then
    note "error: BENCH_CALLGRIND_BASELINE ($BASELINE) must be below BENCH_CALLGRIND_REQUESTS ($REQUESTS)"
    exit 2
fi
for tool in valgrind callgrind_annotate nginx; do
    if ! command -v "$tool" >/dev/null; then
        note "error: $tool not found; install it with 'apt-get install -y valgrind nginx-light' (bench/peers.sh does)"
        exit 1
    fi
done

WORK_DIR=$(mktemp -d /tmp/loadsmoke-callgrind.XXXXXX)
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop_started
    rm -rf "$WORK_DIR"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
    note "building loadsmoke in release mode"
    (cd "$REPO_DIR" && swift build -c release --product loadsmoke >"$WORK_DIR/swift-build.log" 2>&1) || {
        tail -n 20 "$WORK_DIR/swift-build.log" >&2
        exit 1
    }
fi

choose_pinning
PORT=$(free_port)
start_nginx "$PORT"

C_CLIENT="$WORK_DIR/curl_multi_client"
cc -O2 -Wall -Wextra -o "$C_CLIENT" "$BENCH_DIR/curl_multi_client.c" $(curl-config --cflags) $(curl-config --libs)

# Runs a client under callgrind as: profile NAME COUNT COMMAND... and writes the annotated self costs to
# $WORK_DIR/annotate-NAME-COUNT.txt.
profile() {
    local name=$1 count=$2 pid status=0
    shift 2
    note "callgrind: $name, $count requests at concurrency $CONCURRENCY against nginx on port $PORT"
    # Under callgrind a client runs about 50 times slower, so the limit allows 20 ms per request plus two minutes.
    timeout -k 5 $(( count / 50 + 120 )) valgrind --tool=callgrind --callgrind-out-file="$WORK_DIR/callgrind-$name-$count.out" \
        "$@" >"$WORK_DIR/run-$name-$count.out" 2>"$WORK_DIR/valgrind-$name-$count.log" &
    pid=$!
    STARTED_PIDS+=("$pid")
    wait "$pid" || status=$?
    unset 'STARTED_PIDS[-1]'
    if [[ $status != 0 ]]; then
        note "error: $name under callgrind exited with status $status; the last lines of its log:"
        tail -n 10 "$WORK_DIR/valgrind-$name-$count.log" >&2
        exit 1
    fi
    # callgrind_annotate 3.19 prints Perl warnings about empty line ranges; they do not change the totals.
    callgrind_annotate --inclusive=no --threshold=100 --auto=no "$WORK_DIR/callgrind-$name-$count.out" \
        >"$WORK_DIR/annotate-$name-$count.txt" 2>/dev/null
}

URL="http://127.0.0.1:$PORT"
for count in "$BASELINE" "$REQUESTS"; do
    profile loadsmoke "$count" "$LOADSMOKE" run --url "$URL" --path /ok --method GET --body '' \
        --request-id-header none -n "$count" -c "$CONCURRENCY" --json --no-progress
    profile c-client "$count" "$C_CLIENT" "$URL/ok" "$count" "$CONCURRENCY"
done

TABLE=$("$PYTHON" "$BENCH_DIR/report.py" callgrind --requests "$REQUESTS" --baseline-requests "$BASELINE" \
    --run "$WORK_DIR/annotate-loadsmoke-$REQUESTS.txt" --baseline "$WORK_DIR/annotate-loadsmoke-$BASELINE.txt" \
    --peer-run "$WORK_DIR/annotate-c-client-$REQUESTS.txt" --peer-baseline "$WORK_DIR/annotate-c-client-$BASELINE.txt")
SECTION="$SECTION_TITLE

\`bench/callgrind.sh\`: \`valgrind --tool=callgrind\` ($(valgrind --version)) on \`loadsmoke run -n $REQUESTS -c $CONCURRENCY\`
(GET, no request id) against nginx on 127.0.0.1, and a start-up run of $BASELINE requests; the same two runs of
\`bench/curl_multi_client.c\` give the last column. Self cost (Ir) per object file from
\`callgrind_annotate --inclusive=no\`, all threads together; per request = (run − start-up run) / $(( REQUESTS - BASELINE )). Instruction counts are exact for this binary
and input but do not weigh cache misses or system-call time.

$TABLE"
echo "$SECTION"

# Keep everything before an earlier callgrind section, then append the new one.
if [[ -f $RESULTS ]]; then
    awk -v title="$SECTION_TITLE" '$0 == title { exit } { print }' "$RESULTS" >"$WORK_DIR/results.md"
else
    : >"$WORK_DIR/results.md"
fi
printf '%s\n' "$SECTION" >>"$WORK_DIR/results.md"
cp "$WORK_DIR/results.md" "$RESULTS"
note "appended the callgrind section to $RESULTS"
