#!/usr/bin/env python3
"""Output parsers, the schedule's true latencies and the result tables of bench/peers.sh.

record: parses one generator run (its stdout, its GNU time line and optional extras) into one JSON line of a rows file.
true-latency: computes the p50 and p99 an open-loop schedule would see from the stall server, from the schedule alone.
render: prints the tables of every part as Markdown, with the ratios against the targets.
callgrind: groups the self cost of `callgrind_annotate --inclusive=no` listings by object file and prints a table.
"""

import argparse
import json
import math
import re
import statistics
import sys

UNIT_MILLISECONDS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def nearest_rank(sorted_values, percentile):
    """Return the nearest-rank percentile: the value at rank ceil(p/100 * n), or None without values."""
    if not sorted_values:
        return None
    rank = math.ceil(len(sorted_values) * percentile / 100)
    return sorted_values[max(1, rank) - 1]


def search_number(pattern, text, default=None):
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else default


def parse_loadsmoke(text, _log):
    # --json prints one document on stdout; anything before its first brace is not part of it.
    document = json.loads(text[text.index("{"):])
    totals = document["totals"]
    latency = document.get("latency_ms") or {}
    return {
        "requests": totals["requests"],
        "failed": totals["failed"],
        "duration_s": totals["duration_s"],
        "rps": totals["throughput_rps"],
        "p50_ms": latency.get("p50"),
        "p99_ms": latency.get("p99"),
        "latency_source": "loadsmoke --json latency_ms",
    }


def parse_wrk(text, _log):
    def duration_ms(token):
        match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", token)
        return float(match.group(1)) * UNIT_MILLISECONDS[match.group(2)] if match else None

    def percentile(label):
        match = re.search(r"^\s+%s%%\s+(\S+)" % label, text, re.MULTILINE)
        return duration_ms(match.group(1)) if match else None

    requests = search_number(r"^\s*(\d+) requests in", text, 0)
    duration = re.search(r"requests in ([\d.]+)(us|ms|s|m),", text)
    errors = 0
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if socket_errors:
        errors += sum(int(value) for value in socket_errors.groups())
    errors += search_number(r"Non-2xx or 3xx responses: (\d+)", text, 0)
    return {
        "requests": int(requests),
        "failed": int(errors),
        "duration_s": float(duration.group(1)) * UNIT_MILLISECONDS[duration.group(2)] / 1000 if duration else None,
        "rps": search_number(r"^Requests/sec:\s+([\d.]+)", text),
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "latency_source": "wrk --latency distribution",
    }


def parse_hey(text, _log):
    def percentile(label):
        seconds = search_number(r"^\s+%s%% in ([\d.]+) secs" % label, text)
        return None if seconds is None else seconds * 1000

    statuses = {int(code): int(count) for code, count in re.findall(r"\[(\d+)\]\s+(\d+) responses", text)}
    ok = sum(count for code, count in statuses.items() if 200 <= code < 300)
    errors = 0
    if "Error distribution:" in text:
        error_lines = text.split("Error distribution:")[1]
        errors = sum(int(count) for count in re.findall(r"^\s+\[(\d+)\]\s+.+", error_lines, re.MULTILINE))
    total = sum(statuses.values()) + errors
    return {
        "requests": total,
        "failed": total - ok,
        "duration_s": search_number(r"^\s+Total:\s+([\d.]+) secs", text),
        "rps": search_number(r"^\s+Requests/sec:\s+([\d.]+)", text),
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "latency_source": "hey latency distribution (0.1 ms steps)",
    }


def parse_ab(text, _log):
    complete = int(search_number(r"^Complete requests:\s+(\d+)", text, 0))
    failed = int(search_number(r"^Failed requests:\s+(\d+)", text, 0))
    failed += int(search_number(r"^Non-2xx responses:\s+(\d+)", text, 0))
    return {
        "requests": complete,
        "failed": failed,
        "duration_s": search_number(r"^Time taken for tests:\s+([\d.]+) seconds", text),
        "rps": search_number(r"^Requests per second:\s+([\d.]+)", text),
        "p50_ms": search_number(r"^\s+50%\s+(\d+)", text),
        "p99_ms": search_number(r"^\s+99%\s+(\d+)", text),
        "latency_source": "ab percentile table (whole ms)",
    }


def parse_h2load(text, log):
    done = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, "
                     r"(\d+) errored, (\d+) timeout", text, re.MULTILINE)
    finished = re.search(r"^finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req/s", text, re.MULTILINE)
    statuses = re.search(r"^status codes: (\d+) 2xx", text, re.MULTILINE)
    row = {
        "requests": int(done.group(3)) if done else 0,
        "failed": (int(done.group(3)) - int(statuses.group(1))) if done and statuses else None,
        "duration_s": float(finished.group(1)) * UNIT_MILLISECONDS[finished.group(2)] / 1000 if finished else None,
        "rps": float(finished.group(3)) if finished else None,
        "p50_ms": None,
        "p99_ms": None,
        "latency_source": "h2load prints no percentiles",
    }
    if log:
        # --log-file rows: start time (us since the epoch), status, microseconds to the end of the response.
        durations = []
        with open(log) as lines:
            for line in lines:
                fields = line.split("\t")
                if len(fields) >= 3 and fields[1].startswith("2"):
                    durations.append(int(fields[2]) / 1000)
        durations.sort()
        row["p50_ms"] = nearest_rank(durations, 50)
        row["p99_ms"] = nearest_rank(durations, 99)
        row["latency_source"] = "nearest rank over h2load --log-file"
    return row


def parse_curl_multi_client(text, _log):
    fields = dict(re.findall(r"(\w+)=([\d.]+)", text))
    return {
        "requests": int(fields.get("requests", 0)),
        "failed": int(fields.get("failed", 0)),
        "duration_s": float(fields["duration_s"]) if "duration_s" in fields else None,
        "rps": float(fields["rps"]) if "rps" in fields else None,
        "p50_ms": float(fields["p50_ms"]) if "p50_ms" in fields else None,
        "p99_ms": float(fields["p99_ms"]) if "p99_ms" in fields else None,
        "latency_source": "curl_multi_client, nearest rank",
    }


PARSERS = {
    "loadsmoke": parse_loadsmoke,
    "wrk": parse_wrk,
    "hey": parse_hey,
    "ab": parse_ab,
    "h2load": parse_h2load,
    "c-client": parse_curl_multi_client,
}


def record(arguments):
    with open(arguments.out, errors="replace") as output:
        text = output.read()
    parser = PARSERS[arguments.parser]
    try:
        row = parser(text, arguments.log)
    except (ValueError, KeyError, AttributeError, IndexError) as error:
        row = {"requests": 0, "failed": None, "rps": None, "p50_ms": None, "p99_ms": None,
               "parse_error": "could not parse %s output %s: %s" % (arguments.parser, arguments.out, error)}
    row.update({"part": arguments.part, "tool": arguments.tool, "exit_status": arguments.exit_status})
    try:
        with open(arguments.time) as timing:
            user, system, max_rss_kb, elapsed = timing.read().split()
        row.update({"user_s": float(user), "sys_s": float(system), "max_rss_kb": int(max_rss_kb),
                    "elapsed_s": float(elapsed)})
    except (OSError, ValueError):
        row["parse_error"] = row.get("parse_error", "") + " no GNU time line in %s" % arguments.time
    for extra in arguments.extra or []:
        key, _, value = extra.partition("=")
        try:
            row[key] = json.loads(value)
        except ValueError:
            row[key] = value
    with open(arguments.rows, "a") as rows:
        rows.write(json.dumps(row) + "\n")
    print(json.dumps(row))


def true_latency(arguments):
    """Print the p50 and p99 of the latencies the intended schedule would see.

    Request i is due at i / rate seconds after the first one, which also starts the server's stall clock. A request
    due at t waits until the stall ends when t mod period >= period - stall, and every request then takes the base
    service time.
    """
    count = int(round(arguments.rate * arguments.duration))
    stall_begin = arguments.period - arguments.stall
    latencies = []
    for index in range(count):
        phase = (index / arguments.rate) % arguments.period
        wait_ms = (arguments.period - phase) * 1000 if phase >= stall_begin else 0.0
        latencies.append(wait_ms + arguments.base_ms)
    latencies.sort()
    print(json.dumps({"requests": count, "p50_ms": round(nearest_rank(latencies, 50), 3),
                      "p99_ms": round(nearest_rank(latencies, 99), 3)}))


def format_number(value, digits=1):
    if value is None:
        return "n/a"
    return "{:,.{}f}".format(value, digits)


def median_rows(rows):
    """Merge repeated runs of one tool into one row holding the median of each measured number."""
    merged = {}
    for row in rows:
        merged.setdefault(row["tool"], []).append(row)
    result = []
    for tool, runs in merged.items():
        row = dict(runs[-1])
        for key in ("rps", "cpu_per_10k_s", "max_rss_kb", "p50_ms", "p99_ms", "requests", "failed"):
            values = [run[key] for run in runs if run.get(key) is not None]
            row[key] = statistics.median(values) if values else None
        row["runs"] = len(runs)
        result.append(row)
    return result


def add_cpu_per_request(row):
    if row.get("requests") and row.get("user_s") is not None:
        row["cpu_s"] = row["user_s"] + row["sys_s"]
        row["cpu_per_10k_s"] = row["cpu_s"] / row["requests"] * 10000
    else:
        row["cpu_per_10k_s"] = None
    return row


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def render_efficiency(rows, lines):
    rows = median_rows([add_cpu_per_request(row) for row in rows])
    lines.append("| tool | requests | failed | req/s | CPU s per 10k req | peak RSS MB | loadsmoke CPU/req ÷ this | runs |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    loadsmoke = next((row for row in rows if row["tool"] == "loadsmoke"), None)
    by_tool = {row["tool"]: row for row in rows}
    for row in rows:
        relative = ratio(loadsmoke and loadsmoke["cpu_per_10k_s"], row["cpu_per_10k_s"])
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %d |" % (
            row["tool"], format_number(row.get("requests"), 0), format_number(row.get("failed"), 0),
            format_number(row.get("rps"), 0), format_number(row.get("cpu_per_10k_s"), 3),
            format_number(row["max_rss_kb"] / 1024 if row.get("max_rss_kb") else None, 1),
            format_number(relative, 2) + "x" if relative is not None else "n/a", row["runs"]))
    lines.append("")
    if loadsmoke:
        for peer, target, rule in (("c-client", 1.25, "at most"), ("hey", 0.75, "at most"), ("wrk", None, None)):
            peer_row = by_tool.get(peer)
            value = ratio(loadsmoke["cpu_per_10k_s"], peer_row and peer_row["cpu_per_10k_s"])
            if value is None:
                lines.append("- loadsmoke CPU per request vs. %s: n/a (no %s run)" % (peer, peer))
            elif target is None:
                lines.append("- loadsmoke CPU per request vs. %s: %.2fx (no target)" % (peer, value))
            else:
                verdict = "meets" if value <= target else "misses"
                lines.append("- loadsmoke CPU per request vs. %s: %.2fx, target %s %.2fx: %s" % (
                    peer, value, rule, target, verdict))
    for row in rows:
        if row.get("parse_error"):
            lines.append("- %s: %s" % (row["tool"], row["parse_error"]))


def render_accuracy(rows, lines, target_ms):
    lines.append("| tool | requests | failed | p50 ms | p50 − %g ms | p99 ms | p99 − %g ms | server hold p50 / p99 ms | latency source |"
                 % (target_ms, target_ms))
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        server = row.get("server") or {}
        p50_gap = None if row.get("p50_ms") is None else row["p50_ms"] - target_ms
        p99_gap = None if row.get("p99_ms") is None else row["p99_ms"] - target_ms
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s |" % (
            row["tool"], format_number(row.get("requests"), 0), format_number(row.get("failed"), 0),
            format_number(row.get("p50_ms"), 3), format_number(p50_gap, 3),
            format_number(row.get("p99_ms"), 3), format_number(p99_gap, 3),
            format_number(server.get("p50_ms"), 3), format_number(server.get("p99_ms"), 3),
            row.get("latency_source", row.get("parse_error", ""))))
    lines.append("")
    loadsmoke = next((row for row in rows if row["tool"] == "loadsmoke"), None)
    if loadsmoke and loadsmoke.get("p50_ms") is not None:
        gap = abs(loadsmoke["p50_ms"] - target_ms)
        lines.append("- loadsmoke p50 is %.3f ms from %g ms, target within 0.5 ms: %s" % (
            gap, target_ms, "meets" if gap <= 0.5 else "misses"))


def render_stall(rows, lines):
    if not rows:
        return
    lines.append("| run | requests | failed | reported p50 ms | reported p99 ms | true p50 ms | true p99 ms | p99 reported ÷ true |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        truth = row.get("truth") or {}
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            row["tool"], format_number(row.get("requests"), 0), format_number(row.get("failed"), 0),
            format_number(row.get("p50_ms"), 3), format_number(row.get("p99_ms"), 3),
            format_number(truth.get("p50_ms"), 3), format_number(truth.get("p99_ms"), 3),
            format_number(ratio(row.get("p99_ms"), truth.get("p99_ms")), 3)))
    lines.append("")


def render_scale(rows, lines):
    rows = [add_cpu_per_request(row) for row in rows]
    lines.append("| requests asked | completed | failed | req/s | CPU s per 10k req | peak RSS MB |")
    lines.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            format_number(row.get("asked"), 0), format_number(row.get("requests"), 0),
            format_number(row.get("failed"), 0), format_number(row.get("rps"), 0),
            format_number(row.get("cpu_per_10k_s"), 3),
            format_number(row["max_rss_kb"] / 1024 if row.get("max_rss_kb") else None, 1)))
    lines.append("")
    measured = [row["max_rss_kb"] for row in rows if row.get("max_rss_kb")]
    if measured:
        peak_mb = max(measured) / 1024
        spread = (max(measured) - min(measured)) / min(measured)
        lines.append("- peak RSS at most %.1f MB, target at most 25 MB: %s" % (peak_mb, "meets" if peak_mb <= 25 else "misses"))
        lines.append("- RSS spread from the smallest to the largest run %.0f %%, target within 10 %%: %s" % (
            spread * 100, "meets" if spread <= 0.10 else "misses"))


def render(arguments):
    rows = []
    with open(arguments.rows) as lines_in:
        for line in lines_in:
            if line.strip():
                rows.append(json.loads(line))
    parts = {}
    for row in rows:
        parts.setdefault(row["part"], []).append(row)
    lines = []
    lines.append("## Efficiency: nginx, concurrency %s" % arguments.concurrency)
    lines.append("")
    render_efficiency(parts.get("efficiency", []), lines)
    lines.append("")
    lines.append("## Accuracy: %g ms server, concurrency %s" % (arguments.delay_ms, arguments.concurrency))
    lines.append("")
    render_accuracy(parts.get("accuracy", []), lines, arguments.delay_ms)
    lines.append("")
    lines.append("## Accuracy: stall server, open loop")
    lines.append("")
    if parts.get("stall"):
        render_stall(parts["stall"], lines)
    else:
        lines.append(arguments.stall_note or "skipped")
    lines.append("")
    lines.append("## Scale: loadsmoke against nginx, concurrency %s" % arguments.concurrency)
    lines.append("")
    render_scale(parts.get("scale", []), lines)
    print("\n".join(lines))


# Object-file groups of the callgrind table, first match wins. The loadsmoke binary also contains the stdlib generics
# that the compiler specialised and inlined into it, so its share includes some standard-library work.
OBJECT_GROUPS = (
    ("loadsmoke (own code)", re.compile(r"/loadsmoke$")),
    ("Foundation (incl. ICU)", re.compile(r"/lib_?Foundation\w*\.so")),
    ("Swift runtime and stdlib", re.compile(r"/libswift\w*\.so|/libdispatch\.so|/libBlocksRuntime\.so")),
    ("libcurl", re.compile(r"/libcurl[\w.-]*\.so")),
    ("libc and libm", re.compile(r"/lib(c|m)\.so")),
    ("dynamic loader (ld.so)", re.compile(r"/ld-linux[\w.-]*\.so")),
    ("TLS and crypto (OpenSSL, GnuTLS)", re.compile(r"/lib(crypto|ssl|gnutls|nettle|hogweed|gmp|tasn1|p11-kit)[\w.-]*\.so")),
)
ANNOTATE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)\s*(?:\[(.*)\])?$")


def group_costs(path):
    """Return the instruction count of each object group in one callgrind_annotate listing, and the total."""
    groups = {name: 0 for name, _ in OBJECT_GROUPS}
    groups["others"] = 0
    total = None
    with open(path) as listing:
        for line in listing:
            match = ANNOTATE_LINE.match(line)
            if not match:
                continue
            cost = int(match.group(1).replace(",", ""))
            if match.group(2) == "PROGRAM TOTALS":
                total = cost
                continue
            obj = match.group(3) or ""
            name = next((group for group, pattern in OBJECT_GROUPS if pattern.search(obj)), "others")
            groups[name] += cost
    return groups, total


def callgrind(arguments):
    run_groups, run_total = group_costs(arguments.run)
    base_groups, base_total = group_costs(arguments.baseline)
    per_request_count = arguments.requests - arguments.baseline_requests
    peer_groups, peer_total = group_costs(arguments.peer_run) if arguments.peer_run else ({}, None)
    peer_base_groups, peer_base_total = group_costs(arguments.peer_baseline) if arguments.peer_baseline else ({}, None)

    def peer_per_request(name=None):
        if peer_total is None or peer_base_total is None:
            return "n/a"
        if name is None:
            return format(round((peer_total - peer_base_total) / per_request_count), ",")
        return format(round((peer_groups.get(name, 0) - peer_base_groups.get(name, 0)) / per_request_count), ",")

    lines = [
        "| group | share of the %s-request run | instructions per request after start-up | C client, per request |"
        % format(arguments.requests, ","),
        "| --- | ---: | ---: | ---: |",
    ]
    per_request_total = (run_total - base_total) / per_request_count
    for name, cost in sorted(run_groups.items(), key=lambda item: -item[1]):
        share = cost / run_total * 100
        per_request = (cost - base_groups.get(name, 0)) / per_request_count
        lines.append("| %s | %.1f %% | %s | %s |" % (name, share, format(round(per_request), ","), peer_per_request(name)))
    lines.append("| total | 100.0 %% | %s | %s |" % (format(round(per_request_total), ","), peer_per_request()))
    lines.append("")
    lines.append("Start-up (the %d-request run): %s instructions; the %s-request run: %s." % (
        arguments.baseline_requests, format(base_total, ","), format(arguments.requests, ","), format(run_total, ",")))
    lines.append("")
    lines.append("Most expensive functions of the %s-request run (self cost):" % format(arguments.requests, ","))
    lines.append("")
    lines.append("| instructions | share | function | object |")
    lines.append("| ---: | ---: | --- | --- |")
    shown = 0
    with open(arguments.run) as listing:
        for line in listing:
            match = ANNOTATE_LINE.match(line)
            if not match or match.group(2) == "PROGRAM TOTALS":
                continue
            cost = int(match.group(1).replace(",", ""))
            function = match.group(2).split(":", 1)[-1]
            lines.append("| %s | %.1f %% | `%s` | %s |" % (
                format(cost, ","), cost / run_total * 100, function[:110], (match.group(3) or "?").rsplit("/", 1)[-1]))
            shown += 1
            if shown == arguments.top:
                break
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    record_parser = commands.add_parser("record", help="parse one run and append it to the rows file")
    record_parser.add_argument("--rows", required=True)
    record_parser.add_argument("--part", required=True)
    record_parser.add_argument("--tool", required=True, help="row label")
    record_parser.add_argument("--parser", required=True, choices=sorted(PARSERS))
    record_parser.add_argument("--out", required=True, help="the generator's stdout")
    record_parser.add_argument("--time", required=True, help="GNU time line: user_s sys_s max_rss_kb elapsed_s")
    record_parser.add_argument("--log", help="h2load --log-file output")
    record_parser.add_argument("--exit-status", type=int, default=0)
    record_parser.add_argument("--extra", action="append", help="KEY=JSON value stored with the row")

    truth_parser = commands.add_parser("true-latency", help="p50 and p99 of the intended schedule on the stall server")
    truth_parser.add_argument("--rate", type=float, required=True, help="requests per second")
    truth_parser.add_argument("--duration", type=float, required=True, help="seconds")
    truth_parser.add_argument("--period", type=float, required=True, help="seconds from one stall to the next")
    truth_parser.add_argument("--stall", type=float, required=True, help="stall length in seconds")
    truth_parser.add_argument("--base-ms", type=float, required=True, help="service time outside stalls, in ms")

    render_parser = commands.add_parser("render", help="print every table as Markdown")
    render_parser.add_argument("--rows", required=True)
    render_parser.add_argument("--concurrency", required=True)
    render_parser.add_argument("--delay-ms", type=float, required=True)
    render_parser.add_argument("--stall-note", help="text shown when the stall part did not run")

    callgrind_parser = commands.add_parser("callgrind", help="group callgrind_annotate self costs by object file")
    callgrind_parser.add_argument("--run", required=True, help="callgrind_annotate --inclusive=no listing of the run")
    callgrind_parser.add_argument("--requests", type=int, required=True, help="requests of that run")
    callgrind_parser.add_argument("--baseline", required=True, help="the same listing for a start-up-only run")
    callgrind_parser.add_argument("--baseline-requests", type=int, required=True, help="requests of the start-up run")
    callgrind_parser.add_argument("--peer-run", help="the same listing for bench/curl_multi_client.c, same requests")
    callgrind_parser.add_argument("--peer-baseline", help="the C client's start-up listing, same requests")
    callgrind_parser.add_argument("--top", type=int, default=15, help="functions listed by self cost")

    arguments = parser.parse_args()
    commands_by_name = {"record": record, "true-latency": true_latency, "render": render, "callgrind": callgrind}
    commands_by_name[arguments.command](arguments)


if __name__ == "__main__":
    sys.exit(main())
