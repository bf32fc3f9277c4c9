#!/usr/bin/env bash
# Benchmarks loadsmoke side by side with wrk, hey, ab, h2load and bench/curl_multi_client.c on loopback servers that
# this script starts, prints one table per part and rewrites bench/RESULTS.md.
#
# Parts: efficiency measures req/s, CPU seconds per 10,000 requests and peak RSS against nginx. Accuracy compares
# p50 and p99 against a server that responds after 20 ms, and loadsmoke's open-loop p99 against a stalling server
# when loadsmoke has --rate. Scale measures loadsmoke's peak RSS from 10^4 to 10^6 requests.
# Servers run on CPU 0 and generators on CPU 1 (taskset). All traffic goes to 127.0.0.1.
#
# Environment (defaults in brackets):
#   BENCH_REQUESTS [100000]           requests per tool in the efficiency part
#   BENCH_CONCURRENCY [50]            connections in flight in every part
#   BENCH_REPEATS [1]                 runs per tool in the efficiency part; the tables show medians
#   BENCH_ACCURACY_REQUESTS [5000]    requests per tool against the 20 ms server
#   BENCH_SCALE_COUNTS ["10000 100000 1000000"]  request counts of the scale part
#   BENCH_STALL_RATE [200]            open-loop rate in requests per second against the stall server
#   BENCH_STALL_DURATION [20]         open-loop duration in seconds (a multiple of the 10 s stall period)
#   BENCH_SKIP_INSTALL [0]            1 skips apt-get
#   BENCH_SKIP_BUILD [0]              1 uses the existing .build/release/loadsmoke
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REQUESTS=${BENCH_REQUESTS:-100000}
CONCURRENCY=${BENCH_CONCURRENCY:-50}
REPEATS=${BENCH_REPEATS:-1}
ACCURACY_REQUESTS=${BENCH_ACCURACY_REQUESTS:-5000}
SCALE_COUNTS=${BENCH_SCALE_COUNTS:-10000 100000 1000000}
STALL_RATE=${BENCH_STALL_RATE:-200}
STALL_DURATION=${BENCH_STALL_DURATION:-20}
STALL_PERIOD=10
STALL_LENGTH=1
DELAY_MS=20
LOADSMOKE="$REPO_DIR/.build/release/loadsmoke"
C_CLIENT_SOURCE="$BENCH_DIR/curl_multi_client.c"
RESULTS="$BENCH_DIR/RESULTS.md"

for number in "$REQUESTS" "$CONCURRENCY" "$REPEATS" "$ACCURACY_REQUESTS" "$STALL_RATE" "$STALL_DURATION" $SCALE_COUNTS; do
    if ! [[ $number =~ ^[1-9][0-9]*$ ]]; then
        note "error: invalid number '$number' in a BENCH_ variable: expected a positive integer"
        exit 2
    fi
done

WORK_DIR=$(mktemp -d /tmp/loadsmoke-bench.XXXXXX)
ROWS="$WORK_DIR/rows.jsonl"
SAMPLER_PID=""

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

# Seconds a generator may run before timeout(1) stops it: one second per 1,000 requests plus a minute, which is
# generous for loopback runs and still bounds a hung tool.
limit_for() { echo $(( $1 / 1000 + 60 )); }

# ---------------------------------------------------------------------------------------------------------------
# 1. Tools from Debian.

TOOL_NOTES=()
install_tools() {
    local wanted=(nginx-light wrk hey apache2-utils nghttp2-client time util-linux python3 libcurl4-openssl-dev curl)
    local commands=(nginx wrk hey ab h2load /usr/bin/time taskset "$PYTHON" curl-config curl)
    local missing=() index package

    for index in "${!wanted[@]}"; do
        command -v "${commands[$index]}" >/dev/null || missing+=("${wanted[$index]}")
    done
    [[ ${#missing[@]} == 0 ]] && return 0
    if [[ ${BENCH_SKIP_INSTALL:-0} == 1 ]]; then
        note "note: BENCH_SKIP_INSTALL=1, not installing: ${missing[*]}"
        return 0
    fi

    note "installing from Debian: ${missing[*]}"
    apt-get update -qq
    local installable=()
    for package in "${missing[@]}"; do
        local candidate
        candidate=$(apt-cache policy "$package" | awk '/Candidate:/ { print $2 }')
        if [[ -z $candidate || $candidate == "(none)" ]]; then
            if [[ $package == nginx-light ]]; then
                candidate=$(apt-cache policy nginx | awk '/Candidate:/ { print $2 }')
                if [[ -n $candidate && $candidate != "(none)" ]]; then
                    installable+=(nginx)
                    continue
                fi
            fi
            TOOL_NOTES+=("$package is not in this machine's Debian archive; its part is skipped")
            note "note: ${TOOL_NOTES[-1]}"
        else
            installable+=("$package")
        fi
    done

    if [[ ${#installable[@]} -gt 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${installable[@]}" >"$WORK_DIR/apt.log"
    fi
}

has_tool() { command -v "$1" >/dev/null; }

# ---------------------------------------------------------------------------------------------------------------
# 2. Builds.

build_all() {
    if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
        note "building loadsmoke in release mode"
        (cd "$REPO_DIR" && swift build -c release --product loadsmoke >"$WORK_DIR/swift-build.log" 2>&1) || {
            note "error: swift build failed; the last lines of its log:"
            tail -n 20 "$WORK_DIR/swift-build.log" >&2
            exit 1
        }
    fi
    if [[ ! -x $LOADSMOKE ]]; then
        note "error: $LOADSMOKE not found; build it with 'swift build -c release --product loadsmoke'"
        exit 1
    fi
    C_CLIENT="$WORK_DIR/curl_multi_client"
    cc -O2 -Wall -Wextra -o "$C_CLIENT" "$C_CLIENT_SOURCE" $(curl-config --cflags) $(curl-config --libs)
}

# ---------------------------------------------------------------------------------------------------------------
# Load from other processes: the machine is shared, so the report lists what else ran.

start_load_sampler() {
    # One sample every 5 s, at most 2,000 samples (under 3 hours), stopped by PID at the end.
    (
        for sample in $(seq 2000); do
            ps -eo pcpu=,comm= --sort=-pcpu | head -n 8 | awk -v when="$(date +%s)" '$1 >= 20 { print when, $1, $2 }'
            sleep 5
        done
    ) >"$WORK_DIR/load-samples.txt" &
    SAMPLER_PID=$!
    STARTED_PIDS+=("$SAMPLER_PID")
}

# Prints the commands, not started by this script, that used at least 20 % of a CPU in some sample.
other_load_summary() {
    local own="loadsmoke|curl_multi_clie|wrk|hey|ab|h2load|nginx|python3|time|timeout|taskset|ps|awk|head|sleep|bash"
    awk '{ print $3 }' "$WORK_DIR/load-samples.txt" 2>/dev/null | { grep -Ev "^($own)$" || true; } | sort | uniq -c | sort -rn |
        awk '{ printf "%s%s (%d samples)", (NR > 1 ? ", " : ""), $2, $1 }'
}

# ---------------------------------------------------------------------------------------------------------------
# Generator command lines. Every tool sends GET /ok over keep-alive connections at $CONCURRENCY.

# Sets LOADSMOKE_GET to the loadsmoke command line for $2 plain GET requests to $1/ok. The budgets are raised so a
# slow server does not turn the run's exit status into a budget failure.
loadsmoke_get() {
    local url=$1 count=$2
    LOADSMOKE_GET=("$LOADSMOKE" run --url "$url" --path /ok --method GET --body '' --request-id-header none
        -n "$count" -c "$CONCURRENCY" --json --no-progress --budget-p50 100000 --budget-p95 100000 --budget-p99 100000)
}

record() {
    local part=$1 tool=$2 parser=$3 name=$4
    shift 4
    "$PYTHON" "$BENCH_DIR/report.py" record --rows "$ROWS" --part "$part" --tool "$tool" --parser "$parser" \
        --out "$WORK_DIR/$name.out" --time "$WORK_DIR/$name.time" --exit-status "$MEASURED_STATUS" "$@" >/dev/null
    if [[ $MEASURED_STATUS != 0 ]]; then
        note "warning: $tool ($part) exited with status $MEASURED_STATUS; its stderr: $(head -c 300 "$WORK_DIR/$name.err")"
    fi
}

# Runs every generator once against http://127.0.0.1:$port/ok with $count requests and records the rows under $part.
# wrk runs for a duration, so it gets the time the C client needed for $count requests (at least 2 s).
run_all_generators() {
    local part=$1 port=$2 count=$3 tag=$4 server_stats=${5:-0}
    local url="http://127.0.0.1:$port" limit
    limit=$(limit_for "$count")

    # The Python servers measure their own hold times; each run starts from a reset and stores them with its row.
    reset_server() { [[ $server_stats == 1 ]] && curl -s -o /dev/null --max-time 2 "$url/__bench/reset" || true; }
    server_extra() {
        SERVER_EXTRA=()
        if [[ $server_stats == 1 ]]; then
            SERVER_EXTRA=(--extra "server=$(curl -s --max-time 2 "$url/__bench/stats")")
        fi
    }

    note "  c-client"
    reset_server
    measure "c-client-$tag" "$limit" "$C_CLIENT" "$url/ok" "$count" "$CONCURRENCY" "$limit"
    server_extra
    record "$part" c-client c-client "c-client-$tag" "${SERVER_EXTRA[@]}"
    local seconds
    seconds=$("$PYTHON" -c "import re, math; t = open('$WORK_DIR/c-client-$tag.out').read(); m = re.search(r'duration_s=([\d.]+)', t); print(max(2, math.ceil(float(m.group(1))) if m else 10))")

    note "  loadsmoke"
    reset_server
    loadsmoke_get "$url" "$count"
    measure "loadsmoke-$tag" "$limit" "${LOADSMOKE_GET[@]}"
    server_extra
    record "$part" loadsmoke loadsmoke "loadsmoke-$tag" "${SERVER_EXTRA[@]}"

    if [[ $part == efficiency ]]; then
        # loadsmoke's default request: POST of a chat prompt body with a request id header, for comparison only.
        note "  loadsmoke (default POST)"
        measure "loadsmoke-post-$tag" "$limit" "$LOADSMOKE" run --url "$url" --path /ok -n "$count" -c "$CONCURRENCY" \
            --json --no-progress
        record "$part" "loadsmoke (POST, request id)" loadsmoke "loadsmoke-post-$tag"
    fi

    if has_tool wrk; then
        note "  wrk (${seconds} s)"
        reset_server
        measure "wrk-$tag" $((seconds + 60)) wrk -t1 -c"$CONCURRENCY" -d"${seconds}s" --timeout 30s --latency "$url/ok"
        server_extra
        record "$part" wrk wrk "wrk-$tag" "${SERVER_EXTRA[@]}"
    fi

    if has_tool hey; then
        note "  hey"
        reset_server
        measure "hey-$tag" "$limit" hey -n "$count" -c "$CONCURRENCY" -t 30 "$url/ok"
        server_extra
        record "$part" hey hey "hey-$tag" "${SERVER_EXTRA[@]}"
    fi

    if has_tool ab; then
        note "  ab -k"
        reset_server
        measure "ab-$tag" "$limit" ab -k -q -n "$count" -c "$CONCURRENCY" -s 30 "$url/ok"
        server_extra
        record "$part" "ab -k" ab "ab-$tag" "${SERVER_EXTRA[@]}"
    fi

    if has_tool h2load; then
        note "  h2load --h1"
        reset_server
        local log_options=()
        # The per-request log costs CPU, so only the accuracy part writes it.
        [[ $part == accuracy ]] && log_options=(--log-file="$WORK_DIR/h2load-$tag.log")
        measure "h2load-$tag" "$limit" h2load --h1 -t1 -c"$CONCURRENCY" -n"$count" "${log_options[@]}" "$url/ok"
        local log_arguments=()
        [[ $part == accuracy ]] && log_arguments=(--log "$WORK_DIR/h2load-$tag.log")
        server_extra
        record "$part" "h2load --h1" h2load "h2load-$tag" "${log_arguments[@]}" "${SERVER_EXTRA[@]}"
    fi
}

# ---------------------------------------------------------------------------------------------------------------
# Parts.

run_efficiency() {
    local port repeat
    port=$(free_port)
    start_nginx "$port"
    for repeat in $(seq "$REPEATS"); do
        note "efficiency: nginx on port $port, $REQUESTS requests, run $repeat of $REPEATS"
        run_all_generators efficiency "$port" "$REQUESTS" "eff$repeat"
    done
    note "scale: loadsmoke against the same nginx"
    local count
    for count in $SCALE_COUNTS; do
        note "  loadsmoke -n $count"
        loadsmoke_get "http://127.0.0.1:$port" "$count"
        measure "scale-$count" "$(limit_for "$count")" "${LOADSMOKE_GET[@]}"
        record scale loadsmoke loadsmoke "scale-$count" --extra "asked=$count"
    done
    stop_tree "$NGINX_PID"
}

run_accuracy() {
    start_python_server delay --delay-ms "$DELAY_MS"
    note "accuracy: ${DELAY_MS} ms server on port $SERVER_PORT, $ACCURACY_REQUESTS requests per tool"
    run_all_generators accuracy "$SERVER_PORT" "$ACCURACY_REQUESTS" acc 1
}

STALL_NOTE=""
# NOTE: never run against a loadsmoke with --rate yet. The option names (--rate, --duration, --max-in-flight) and
# the JSON keys (latency_ms.p50 and p99) are expected, not checked against a build that has them.
run_stall() {
    # The help text is read whole first: grep -q on a pipe could end loadsmoke with SIGPIPE under pipefail.
    local help
    help=$("$LOADSMOKE" run --help 2>&1 || true)
    if ! grep -q -- '--rate' <<<"$help"; then
        STALL_NOTE="skipped: loadsmoke has no --rate yet"
        echo "$STALL_NOTE"
        return 0
    fi
    start_python_server stall --period-s "$STALL_PERIOD" --stall-s "$STALL_LENGTH"
    local url="http://127.0.0.1:$SERVER_PORT"
    note "stall: open loop at $STALL_RATE req/s for $STALL_DURATION s on port $SERVER_PORT"

    # The base service time: one request at a time, well inside the first period after a reset.
    curl -s -o /dev/null --max-time 2 "$url/__bench/reset"
    measure stall-base 30 "$C_CLIENT" "$url/ok" 200 1 20
    curl -s -o /dev/null --max-time 2 "$url/__bench/reset"
    local base_ms
    base_ms=$("$PYTHON" -c "import re; print(re.search(r'p50_ms=([\d.]+)', open('$WORK_DIR/stall-base.out').read()).group(1))")

    # Enough room in flight for every request due during one stall, so none is dropped or delayed by the cap.
    local max_in_flight=$(( STALL_RATE * STALL_LENGTH * 2 + CONCURRENCY ))
    local limit=$(( STALL_DURATION + 60 ))
    local duration_value
    for duration_value in "${STALL_DURATION}s" "$STALL_DURATION"; do
        measure stall-loadsmoke "$limit" "$LOADSMOKE" run --url "$url" --path /ok --method GET --body '' \
            --request-id-header none --rate "$STALL_RATE" --duration "$duration_value" --max-in-flight "$max_in_flight" \
            --json --no-progress
        # Exit status 2 is a usage error: the duration may want another form, so try the next one.
        [[ $MEASURED_STATUS != 2 ]] && break
        curl -s -o /dev/null --max-time 2 "$url/__bench/reset"
    done
    local truth
    truth=$("$PYTHON" "$BENCH_DIR/report.py" true-latency --rate "$STALL_RATE" --duration "$STALL_DURATION" \
        --period "$STALL_PERIOD" --stall "$STALL_LENGTH" --base-ms "$base_ms")
    record stall "loadsmoke --rate $STALL_RATE" loadsmoke stall-loadsmoke --extra "truth=$truth" \
        --extra "server=$(curl -s --max-time 2 "$url/__bench/stats")"
}

# ---------------------------------------------------------------------------------------------------------------
# Report.

package_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }

write_results() {
    local tables=$1 load_start=$2 load_end=$3 other_load=$4 started=$5 finished=$6
    {
        echo "# loadsmoke beside other HTTP load generators"
        echo
        echo "Written by \`bench/peers.sh\` (each run replaces this page); the callgrind section is appended by"
        echo "\`bench/callgrind.sh\`. Run from $started to $finished (UTC)."
        echo
        echo "Settings: BENCH_REQUESTS=$REQUESTS, BENCH_CONCURRENCY=$CONCURRENCY, BENCH_REPEATS=$REPEATS,"
        echo "BENCH_ACCURACY_REQUESTS=$ACCURACY_REQUESTS, BENCH_SCALE_COUNTS=\"$SCALE_COUNTS\", stall part at"
        echo "$STALL_RATE req/s for $STALL_DURATION s. Every generator sends GET /ok over keep-alive HTTP/1.1 to 127.0.0.1;"
        echo "loadsmoke runs with \`--method GET --body '' --request-id-header none\` unless its row says otherwise."
        if [[ $PIN_CPUS == 1 ]]; then
            echo "Servers run on CPU 0 and generators on CPU 1 (\`taskset\`)."
        else
            echo "Servers and generators are not pinned (fewer than 2 CPUs or no taskset)."
        fi
        echo "CPU is user + system time from GNU time (\`/usr/bin/time -f '%U %S %M'\`), peak RSS its maximum resident"
        echo "set size; wrk runs for a duration, so its CPU is divided by its own request count."
        echo
        echo "## Machine"
        echo
        echo "- CPUs: $(nproc), $(lscpu | awk -F: '/Model name/ { gsub(/^ +/, "", $2); print $2; exit }')"
        echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
        echo "- kernel: $(uname -sr)"
        echo "- load average (1, 5, 15 min) at start: $load_start; at end: $load_end"
        if [[ -n $other_load ]]; then
            echo "- other work ran at the same time (commands outside this benchmark at 20 % CPU or more, sampled every"
            echo "  5 s): $other_load. The machine is shared, so every figure here carries that noise."
        else
            echo "- no command outside this benchmark used 20 % CPU or more in the 5 s samples."
        fi
        echo "- tools: $("$LOADSMOKE" --version 2>&1 | head -n 1), $(swift --version 2>&1 | head -n 1 | sed 's/ (.*//'),"
        echo "  libcurl $(curl-config --version | awk '{ print $2 }'), nginx $(package_version nginx-light) (nginx-light),"
        echo "  wrk $(package_version wrk), hey $(package_version hey), ab $(package_version apache2-utils),"
        echo "  h2load $(package_version nghttp2-client), $("$PYTHON" --version 2>&1), cc $(cc -dumpfullversion 2>/dev/null || cc -dumpversion)"
        for tool_note in "${TOOL_NOTES[@]}"; do echo "- $tool_note"; done
        echo
        echo "$tables"
    } >"$RESULTS"
}

main() {
    choose_pinning
    install_tools
    build_all
    start_load_sampler
    local started load_start
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    load_start=$(cut -d' ' -f1-3 /proc/loadavg)

    run_efficiency
    run_accuracy
    run_stall

    local tables finished load_end other_load
    tables=$("$PYTHON" "$BENCH_DIR/report.py" render --rows "$ROWS" --concurrency "$CONCURRENCY" \
        --delay-ms "$DELAY_MS" --stall-note "$STALL_NOTE")
    finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    load_end=$(cut -d' ' -f1-3 /proc/loadavg)
    other_load=$(other_load_summary)
    echo "$tables"
    write_results "$tables" "$load_start" "$load_end" "$other_load" "$started" "$finished"
    note "wrote $RESULTS"
}

main "$@"
