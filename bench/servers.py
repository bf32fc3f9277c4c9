#!/usr/bin/env python3
"""Loopback HTTP/1.1 servers for the peer benchmark (bench/peers.sh), a thread per connection, standard library only.

delay: responds to every request after a fixed delay (default 20 ms), timed from the moment the request's last byte
    was parsed, so the server adds no queueing of its own.
stall: responds at once, except that every period (default 10 s) ends with a stall (default 1 s) during which no
    response is sent. Requests that arrive inside a stall get their responses when it ends. The period clock starts
    at the first request after start-up or after GET /__bench/reset, so the stall windows are known from the
    client's own schedule: a request at t seconds after that first request stalls when t mod period >= period - stall.

Both servers speak keep-alive HTTP/1.1 (and HTTP/1.0 with "Connection: keep-alive", as ab -k sends), read and drop
request bodies sized by Content-Length, respond to every path with the same small JSON body, and reserve two paths:
GET /__bench/stats returns the server-side hold times (from request parsed to response written) since the last
reset as JSON, and GET /__bench/reset clears them and restarts the stall clock. The server binds 127.0.0.1 only,
on a free port that it writes to --port-file once it listens.
"""

import argparse
import json
import os
import signal
import socket
import socketserver
import threading
import time

BODY = b'{"answer":"ok","fallback":false}\n'
MAX_HEADER_BYTES = 16 * 1024


def nearest_rank(sorted_values, percentile):
    """Return the nearest-rank percentile: the value at rank ceil(p/100 * n), or None without values."""
    if not sorted_values:
        return None
    rank = -(-len(sorted_values) * percentile // 100)
    return sorted_values[max(1, int(rank)) - 1]


class ServerState:
    """Hold times of completed responses and the start of the stall clock, shared by every connection."""

    def __init__(self, mode, delay_seconds, period_seconds, stall_seconds):
        self.mode = mode
        self.delay_seconds = delay_seconds
        self.period_seconds = period_seconds
        self.stall_seconds = stall_seconds
        self.hold_seconds = []
        self.clock_start = None
        self.lock = threading.Lock()

    def reset(self):
        with self.lock:
            self.hold_seconds = []
            self.clock_start = None

    def record_hold(self, seconds):
        with self.lock:
            self.hold_seconds.append(seconds)

    def response_due(self, arrival):
        """Return the monotonic time at which the response to a request that arrived at `arrival` is due."""
        if self.mode == "delay":
            return arrival + self.delay_seconds
        with self.lock:
            if self.clock_start is None:
                self.clock_start = arrival
        phase = (arrival - self.clock_start) % self.period_seconds
        stall_begin = self.period_seconds - self.stall_seconds
        if phase >= stall_begin:
            return arrival + (self.period_seconds - phase)
        return arrival

    def stats(self):
        with self.lock:
            ordered = sorted(self.hold_seconds)

        def milliseconds(value):
            return None if value is None else round(value * 1000, 3)

        return {
            "mode": self.mode,
            "count": len(ordered),
            "p50_ms": milliseconds(nearest_rank(ordered, 50)),
            "p99_ms": milliseconds(nearest_rank(ordered, 99)),
            "max_ms": milliseconds(ordered[-1] if ordered else None),
        }


class ConnectionHandler(socketserver.StreamRequestHandler):
    """Serves one keep-alive connection in its own thread, so each response waits in a precise sleep of its own."""

    def setup(self):
        super().setup()
        # One write per response, so Nagle's algorithm could only delay it.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self):
        state = self.server.state
        while True:
            request_line = self.rfile.readline(MAX_HEADER_BYTES)
            if not request_line:
                return
            parts = request_line.decode("latin-1").split()
            if len(parts) != 3:
                return
            method, path, version = parts

            headers = {}
            header_bytes = 0
            while True:
                line = self.rfile.readline(MAX_HEADER_BYTES)
                header_bytes += len(line)
                if not line or header_bytes > MAX_HEADER_BYTES:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip().lower()
            try:
                body_length = int(headers.get("content-length", "0"))
            except ValueError:
                return
            if body_length > 0 and len(self.rfile.read(body_length)) < body_length:
                return
            arrival = time.monotonic()

            connection_header = headers.get("connection", "")
            if version == "HTTP/1.0":
                keep_alive = connection_header == "keep-alive"
            else:
                keep_alive = connection_header != "close"

            if path == "/__bench/reset":
                state.reset()
                body = b'{"reset":true}\n'
            elif path.startswith("/__bench/"):
                body = json.dumps(state.stats()).encode() + b"\n"
            else:
                body = BODY
                wait = state.response_due(arrival) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)

            head = "%s 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (version, len(body))
            if keep_alive and version == "HTTP/1.0":
                head += "Connection: keep-alive\r\n"
            if not keep_alive:
                head += "Connection: close\r\n"
            response = head.encode("latin-1") + b"\r\n" + (b"" if method == "HEAD" else body)
            try:
                self.request.sendall(response)
            except OSError:
                return
            if body is BODY:
                state.record_hold(time.monotonic() - arrival)
            if not keep_alive:
                return


class LoopbackServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def serve(arguments):
    server = LoopbackServer(("127.0.0.1", 0), ConnectionHandler)
    server.state = ServerState(arguments.mode, arguments.delay_ms / 1000, arguments.period_s, arguments.stall_s)
    port = server.server_address[1]
    with open(arguments.port_file + ".tmp", "w") as port_file:
        port_file.write("%d\n" % port)
    # The rename makes the port file appear complete or not at all.
    os.replace(arguments.port_file + ".tmp", arguments.port_file)

    def stop(signal_number, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if arguments.lifetime_s:
        signal.signal(signal.SIGALRM, stop)
        signal.alarm(int(arguments.lifetime_s))
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["delay", "stall"])
    parser.add_argument("--port-file", required=True, help="file that receives the bound port")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="delay mode: response delay in milliseconds")
    parser.add_argument("--period-s", type=float, default=10.0, help="stall mode: seconds from one stall to the next")
    parser.add_argument("--stall-s", type=float, default=1.0, help="stall mode: length of each stall in seconds")
    parser.add_argument("--lifetime-s", type=float, default=3600.0,
                        help="exit after this many seconds unless stopped earlier by SIGTERM or SIGINT (0: no limit)")
    arguments = parser.parse_args()
    if not 0 < arguments.stall_s < arguments.period_s:
        parser.error("--stall-s must be greater than 0 and less than --period-s")
    serve(arguments)


if __name__ == "__main__":
    main()
