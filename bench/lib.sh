# Shared helpers of bench/peers.sh and bench/callgrind.sh; source it, do not run it.
# Every process a helper starts is recorded in STARTED_PIDS and stopped by PID in stop_started, which the callers
# install as their EXIT trap. Every server binds 127.0.0.1 only.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
STARTED_PIDS=()

note() { printf '%s\n' "$*" >&2; }

# Prints the PIDs of every descendant of $1, children before grandchildren.
descendants() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

# Sends SIGTERM to $1 and its descendants, then SIGKILL to whatever is left after 3 s.
stop_tree() {
    local root=$1 pids pid waited
    kill -0 "$root" 2>/dev/null || return 0
    pids="$root $(descendants "$root")"
    for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
    for waited in $(seq 30); do
        kill -0 "$root" 2>/dev/null || break
        sleep 0.1
    done
    for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "$root" 2>/dev/null || true
}

stop_started() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do stop_tree "$pid"; done
    STARTED_PIDS=()
}

# Prints a TCP port of 127.0.0.1 that was free a moment ago. Another process may take it before nginx binds it,
# and then nginx fails to start and logs the bind error.
free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits at most 10 s until http://127.0.0.1:$1$2 returns a response.
wait_for_http() {
    local attempt
    for attempt in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1$2" && return 0
        sleep 0.1
    done
    note "error: no answer from http://127.0.0.1:$1$2 within 10 s; see the server log in $WORK_DIR"
    return 1
}

# Runs "$@" pinned to CPU $1 (or unpinned when PIN_CPUS is 0) in the background and records its PID.
start_pinned() {
    local cpu=$1
    shift
    if [[ $PIN_CPUS == 1 ]]; then
        taskset -c "$cpu" "$@" &
    else
        "$@" &
    fi
    STARTED_PIDS+=("$!")
}

# Starts nginx with one worker on 127.0.0.1:$1, serving a small JSON body at /ok for every method with keep-alive.
# Its configuration, pid file, logs and temporary folders all live in $WORK_DIR/nginx.
start_nginx() {
    local port=$1 root="$WORK_DIR/nginx"
    mkdir -p "$root/logs" "$root/tmp"
    cat >"$root/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $root/nginx.pid;
error_log $root/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $root/tmp/body;
    proxy_temp_path $root/tmp/proxy;
    fastcgi_temp_path $root/tmp/fastcgi;
    uwsgi_temp_path $root/tmp/uwsgi;
    scgi_temp_path $root/tmp/scgi;
    keepalive_requests 10000000;
    keepalive_timeout 120s;
    server {
        listen 127.0.0.1:$port;
        default_type application/json;
        # "return" responds in the rewrite phase, so POST gets 200 too, not the static module's 405.
        location / { return 200 '{"answer":"ok","fallback":false}\n'; }
    }
}
EOF
    start_pinned 0 nginx -p "$root" -c "$root/nginx.conf" -e "$root/logs/error.log"
    NGINX_PID=${STARTED_PIDS[-1]}
    wait_for_http "$port" /ok
}

# Starts bench/servers.py in mode $1 (delay or stall) with the options in "${@:2}" and sets SERVER_PORT.
start_python_server() {
    local mode=$1 port_file="$WORK_DIR/$1.port" attempt
    shift
    start_pinned 0 "$PYTHON" "$BENCH_DIR/servers.py" "$mode" --port-file "$port_file" "$@" \
        >"$WORK_DIR/$mode.log" 2>&1
    for attempt in $(seq 100); do
        [[ -s $port_file ]] && break
        sleep 0.1
    done
    if [[ ! -s $port_file ]]; then
        note "error: the $mode server did not start within 10 s; see $WORK_DIR/$mode.log"
        return 1
    fi
    SERVER_PORT=$(cat "$port_file")
    wait_for_http "$SERVER_PORT" /__bench/stats
}

# Runs a load generator as: measure NAME TIMEOUT_S COMMAND...
# The generator is pinned to CPU 1 and runs under GNU time and timeout; its stdout and stderr go to
# $WORK_DIR/NAME.out and .err, and "user_s sys_s max_rss_kb elapsed_s" to $WORK_DIR/NAME.time. The rusage that GNU
# time reports covers timeout(1) as well as the generator, which adds about a millisecond of CPU.
# Sets MEASURED_STATUS to the generator's exit status (124 when timeout stopped it) and never fails itself.
measure() {
    local name=$1 limit=$2 pid
    shift 2
    local command=(/usr/bin/time -o "$WORK_DIR/$name.time" -f '%U %S %M %e' timeout -k 5 "$limit" "$@")
    if [[ $PIN_CPUS == 1 ]]; then
        command=(taskset -c 1 "${command[@]}")
    fi
    "${command[@]}" >"$WORK_DIR/$name.out" 2>"$WORK_DIR/$name.err" &
    pid=$!
    STARTED_PIDS+=("$pid")
    MEASURED_STATUS=0
    wait "$pid" || MEASURED_STATUS=$?
    unset 'STARTED_PIDS[-1]'
    # GNU time writes "Command exited with non-zero status N" before its format line; keep only the last line.
    if [[ -s $WORK_DIR/$name.time ]]; then
        tail -n 1 "$WORK_DIR/$name.time" >"$WORK_DIR/$name.time.last" && mv "$WORK_DIR/$name.time.last" "$WORK_DIR/$name.time"
    fi
    if [[ $MEASURED_STATUS == 124 || $MEASURED_STATUS == 137 ]]; then
        note "warning: $name was stopped after its limit of $limit s"
    fi
    return 0
}

# Checks that both CPUs used for pinning exist; sets PIN_CPUS to 1 or 0.
choose_pinning() {
    if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
        PIN_CPUS=1
    else
        PIN_CPUS=0
        note "note: fewer than 2 CPUs or no taskset: server and generator are not pinned"
    fi
}
