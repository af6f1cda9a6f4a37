"""report.py: writes bench/RESULTS.md from the JSON lines of a bench/compare run.

Usage: report.py RESULTS.jsonl COMMANDS MACHINE COMMAND_LINE RAW_NAME
(bench/compare calls it; the report is never edited by hand).
"""

import json
import sys

SYSTEMS = ["lighttpd-sse", "apache-sse", "ws-direct", "apache-ws",
           "nchan-sse", "nchan-ws"]
DESCRIBE = {
    "lighttpd-sse": "litepush-sse behind lighttpd (mod_fastcgi)",
    "apache-sse": "litepush-sse behind Apache (mod_proxy_fcgi)",
    "ws-direct": "litepush-ws, direct",
    "apache-ws": "litepush-ws behind Apache (mod_proxy_wstunnel)",
    "nchan-sse": "nginx + nchan, EventSource",
    "nchan-ws": "nginx + nchan, WebSocket",
}
SCENARIOS = {
    "fanout100": "100 subscribers, 100 events/s of 100 bytes for 10 s",
    "fanout1000": "1,000 subscribers, 100 events/s of 100 bytes for 10 s",
    "fanout5000": "5,000 subscribers, 100 events/s of 100 bytes for 10 s",
    "rate400": "1,000 subscribers, 400 events/s of 100 bytes for 10 s",
    "saturation": "saturation: 1,000 subscribers, events of 100 bytes "
                  "published as fast as possible for 10 s",
    "burst": "burst: 5,000 events of 100 bytes published at once to 1,000 "
             "subscribers (one transaction; for nchan, back-to-back POSTs)",
    "idle10000": "10,000 idle subscribers for 30 s (keepalives every 15 s)",
}


# Why the figures are what they are, from profiles of these runs
# (perf record -e cpu-clock -g on each process during a 1,000-subscriber
# run) and from the CPU split above; numbers belong in the tables.
LIMITS = [
    "- **Fan-out latency.** Each delivery is one send() per subscriber; in a "
    "profile of litepush-ws at 1,000 subscribers 82 % of the samples are in "
    "the kernel, mostly its TCP send path (litepush-ws's own code 7 %, wslay "
    "7 %, libc 3 %), and the last subscriber of an event waits for "
    "the sends to all the others, as with nchan. Latency also starts before "
    "the publisher's INSERT, whose commit syncs the WAL (synchronous=FULL, the "
    "sqlite3 shell's default) before any reader can see it; nchan's POST has "
    "no such step.",
    "- **Behind lighttpd.** lighttpd relays every delivery: it reads the "
    "FastCGI record from litepush-sse and writes it to the client (epoll, "
    "FIONREAD ioctl, read, writev per delivery). At 1,000 subscribers the CPU "
    "split shows lighttpd using several times litepush-sse's CPU: the relay, "
    "not litepush-sse, puts "
    "lighttpd-sse's p99 above nchan's, which writes to its clients itself. "
    "Beyond one process's descriptors (two per stream) lighttpd runs two "
    "workers sharing one litepush-sse.",
    "- **Behind Apache.** One worker thread per open stream, and "
    "mod_proxy_fcgi / mod_proxy_wstunnel copy each delivery between two "
    "sockets in that thread: thread wake-ups and scheduling on two cores "
    "dominate Apache's p99, and its RSS is mostly the threads' stacks.",
    "- **Bursts and saturation.** The ready events of a subscriber go out in "
    "one write (up to 64 KiB of event data per pull), so a backlog costs a few "
    "system calls per subscriber rather than one per event; nchan sends each "
    "message as it is published, and its HTTP publisher takes one POST per "
    "message, which also caps the rate it can be fed at. Under saturation "
    "litepush-ws is CPU-bound: each delivery encodes the event's JSON again "
    "for every subscriber.",
    "- **Idle memory.** An idle SSE stream is a feed cursor and a connection, "
    "well under a KiB in litepush-sse. An idle WebSocket is the same: "
    "litepush-ws writes its frames itself and makes the wslay context "
    "(8,784 bytes, measured with mallinfo2) only while client input is "
    "being read or a close is under way. Most of the per-connection memory "
    "of the systems with a web server in front is the web server's own.",
    "- **Database work.** One data_version check per wake-up and one SELECT "
    "per new batch for the whole process; with more subscribers the loop is "
    "busier, batches get larger, and statements per event fall.",
    "- **The machine.** Two cores shared by the load generator (its CPU is in "
    "each run's table on stderr), the publisher and the servers.",
]


def baseline(system):
    """The nchan system a litepush system is compared with."""
    if system.startswith("nchan"):
        return None
    return "nchan-ws" if system.endswith("ws") else "nchan-sse"


def cpu(r):
    return sum(s["cpu_s"] for s in r.get("servers", []))


def peak_mib(r):
    return sum(s["peak_rss_kb"] for s in r.get("servers", [])) / 1024


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def ms(us):
    return f"{us / 1000:.2f}"


def load(path):
    runs = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def order(rows):
    return sorted(rows, key=lambda r: SYSTEMS.index(r["system"])
                  if r["system"] in SYSTEMS else 99)


def traffic_table(rows, out):
    by = {r["system"]: r for r in rows}
    out.append("| system | conns ok / failed | received / expected | lost / repeated / out of order "
               "| p50 ms | p90 ms | p99 ms | max ms | deliveries/s | server CPU s | peak RSS MiB "
               "| p99 ratio | CPU ratio | RSS ratio | deliveries ratio |")
    out.append("|" + " --- |" * 15)
    for r in order(rows):
        if "error" in r:
            out.append(f"| {r['system']} | {r['error']} |" + " |" * 13)
            continue
        lat = r["latency_us"]
        b = by.get(baseline(r["system"]) or "")
        if b is not None and "error" in b:
            b = None
        out.append(
            f"| {r['system']} | {r['conns_ok']} / {r['conns_failed']} "
            f"| {r['received']} / {r['expected']} "
            f"| {r['lost']} / {r['repeated']} / {r['out_of_order']} "
            f"| {ms(lat['p50'])} | {ms(lat['p90'])} | {ms(lat['p99'])} | {ms(lat['max'])} "
            f"| {r['deliveries_per_s']:.0f} | {cpu(r):.2f} | {peak_mib(r):.1f} "
            f"| {ratio(lat['p99'], b and b['latency_us']['p99'])} "
            f"| {ratio(cpu(r), b and cpu(b))} "
            f"| {ratio(peak_mib(r), b and peak_mib(b))} "
            f"| {ratio(r['deliveries_per_s'], b and b['deliveries_per_s'])} |")


def cpu_split(rows, out):
    """One line per system: the server CPU of each of its processes."""
    out.append("")
    out.append("Server CPU by process: " + "; ".join(
        f"{r['system']}: " + ", ".join(f"{s['name']} {s['cpu_s']:.2f} s" for s in r["servers"])
        for r in order(rows) if "error" not in r) + ".")


def find(runs, scenario, system):
    for r in runs:
        if r.get("scenario") == scenario and r.get("system") == system and "error" not in r:
            return r
    return None


def idle_per_conn(r, only=""):
    """KiB of RSS grown per connection, in the processes named only*."""
    grown = sum(s["rss_kb"] - s.get("rss_before_kb", 0) for s in r["servers"]
                if s["name"].startswith(only))
    return grown / r["conns_ok"] if r["conns_ok"] else None


def targets(runs, out):
    """The issue's targets, each checked against this run's figures."""
    rows = []

    def verdict(ok):
        return "met" if ok else "**missed**"

    def p99(r):
        return r["latency_us"]["p99"] / 1000

    for system, base, factor in (("lighttpd-sse", "nchan-sse", 1.0),
                                 ("apache-sse", "nchan-sse", 1.5),
                                 ("ws-direct", "nchan-ws", 1.0),
                                 ("apache-ws", "nchan-ws", 1.0)):
        r, b = find(runs, "fanout1000", system), find(runs, "fanout1000", base)
        if r and b:
            limit = "" if factor == 1.0 else f"{factor} × "
            rows.append(f"| 1,000 subscribers: p99 of {system} at most {limit}{base}'s "
                        f"| {p99(r):.2f} ms against {p99(b):.2f} ms "
                        f"| {verdict(p99(r) <= factor * p99(b))} |")
    for system in ("lighttpd-sse", "ws-direct"):
        r = find(runs, "rate400", system)
        if r:
            ok = p99(r) < 100 and r["lost"] == 0 and r["received"] == r["expected"]
            rows.append(f"| 400 events/s to 1,000: {system} keeps up, p99 under 100 ms "
                        f"| p99 {p99(r):.2f} ms, {r['received']} of {r['expected']} "
                        f"| {verdict(ok)} |")
    for system, base in (("lighttpd-sse", "nchan-sse"), ("ws-direct", "nchan-ws")):
        r, b = find(runs, "burst", system), find(runs, "burst", base)
        if r and b and b["deliveries_per_s"]:
            x = r["deliveries_per_s"] / b["deliveries_per_s"]
            rows.append(f"| burst drained at least 5 × {base}'s rate: {system} "
                        f"| {r['deliveries_per_s']:.0f} against {b['deliveries_per_s']:.0f} "
                        f"deliveries/s ({x:.1f} ×) | {verdict(x >= 5)} |")
    for system, daemon in (("lighttpd-sse", "litepush-sse"), ("apache-sse", "litepush-sse"),
                           ("ws-direct", "litepush-ws")):
        r = find(runs, "idle10000", system)
        if r:
            kib = idle_per_conn(r, daemon)
            rows.append(f"| at most 4 KiB of RSS per idle stream in {daemon} ({system}) "
                        f"| {kib:.2f} KiB | {verdict(kib <= 4)} |")
    for system, daemon in (("lighttpd-sse", "litepush-sse"), ("ws-direct", "litepush-ws")):
        r = find(runs, "idle10000", system)
        if r and r.get("window_s"):
            busy = sum(s["cpu_s"] for s in r["servers"] if s["name"] == daemon)
            share = busy / r["window_s"] * 5000 / r["conns_ok"] * 100
            rows.append(f"| 5,000 idle streams cost {daemon} under 1 % of a core ({system}) "
                        f"| {share:.3f} % | {verdict(share < 1)} |")
    for system in ("lighttpd-sse", "ws-direct"):
        steps = sorted((r for r in runs if r.get("scenario") == "dbwork"
                        and r.get("system") == system and "feed" in r),
                       key=lambda r: r["conns"])
        if len(steps) >= 2:
            per = [r["feed"]["statements"] / r["published"] for r in steps if r["published"]]
            catchup = sum(r["feed"]["catchup_queries"] for r in steps)
            # Flat: no step costs more than the smallest one (within 20 %),
            # and no subscriber ever reads SQLite on its own.
            flat = max(per) <= 1.2 * per[0] and catchup == 0
            rows.append(f"| store statements per event do not grow from {steps[0]['conns']} to "
                        f"{steps[-1]['conns']} subscribers ({system}) "
                        f"| {' → '.join(f'{x:.2f}' for x in per)}; {catchup} catch-up SELECTs "
                        f"| {verdict(flat)} |")
    if rows:
        out += ["## Targets", "",
                "The targets of the issue that asked for this benchmark, checked by "
                "report.py against the figures below.", "",
                "| target | this run | |", "| --- | --- | --- |"] + rows + [""]


def idle_table(rows, out):
    by = {r["system"]: r for r in rows}
    out.append("| system | conns ok / failed | closed early | server CPU s in 30 s "
               "| RSS MiB before / after | KiB per connection | of which the litepush daemon "
               "| CPU ratio | KiB/conn ratio |")
    out.append("|" + " --- |" * 9)

    for r in order(rows):
        if "error" in r:
            out.append(f"| {r['system']} | {r['error']} |" + " |" * 7)
            continue
        b = by.get(baseline(r["system"]) or "")
        if b is not None and "error" in b:
            b = None
        before = sum(s.get("rss_before_kb", 0) for s in r["servers"]) / 1024
        after = sum(s["rss_kb"] for s in r["servers"]) / 1024
        pc = idle_per_conn(r)
        if pc is None:
            out.append(f"| {r['system']} | 0 / {r['conns_failed']} |" + " |" * 7)
            continue
        own = "–" if r["system"].startswith("nchan") else f"{idle_per_conn(r, 'litepush'):.1f}"
        out.append(
            f"| {r['system']} | {r['conns_ok']} / {r['conns_failed']} | {r['conns_closed']} "
            f"| {cpu(r):.2f} | {before:.1f} / {after:.1f} "
            f"| {pc:.1f} | {own} | {ratio(cpu(r), b and cpu(b))} "
            f"| {ratio(pc, b and idle_per_conn(b))} |")


def dbwork_table(rows, out):
    out.append("| subscribers | system | events published | statements | feed SELECTs "
               "| catch-up SELECTs | data_version polls | statements per event |")
    out.append("|" + " --- |" * 8)
    for r in sorted(rows, key=lambda r: (r.get("conns", 0), r["system"])):
        if "error" in r or "feed" not in r:
            out.append(f"| {r.get('conns', '')} | {r['system']} | {r.get('error', 'no counters')} |"
                       + " |" * 5)
            continue
        f = r["feed"]
        per = f["statements"] / r["published"] if r["published"] else 0
        out.append(f"| {r['conns']} | {r['system']} | {r['published']} | {f['statements']} "
                   f"| {f['feed_queries']} | {f['catchup_queries']} | {f['polls']} | {per:.2f} |")


def main():
    jsonl, commands, machine, command_line, raw_name = sys.argv[1:6]
    runs = load(jsonl)
    out = ["# litepush benchmark results", "",
           f"Written by `{command_line}` from `{raw_name}`; do not edit by hand.", "",
           "## Machine", "", "```"]
    with open(machine) as f:
        out += f.read().rstrip("\n").split("\n")
    out += ["```", "",
            "Ratios are litepush / nchan on the same transport (SSE systems against "
            "nchan-sse, WebSocket systems against nchan-ws): below 1 is better for "
            "latency, CPU and memory, above 1 is better for deliveries/s. Server CPU "
            "and RSS add up every process of the system (web server, its children "
            "and the litepush daemon); shared pages count once per process. Latency "
            "is from the publisher's clock before the INSERT (or POST) to receipt, "
            "taken from a log-linear histogram (±1.6%).", ""]
    targets(runs, out)
    for name, title in SCENARIOS.items():
        rows = [r for r in runs if r.get("scenario") == name]
        if not rows:
            continue
        out += [f"## {title}", ""]
        if name == "idle10000":
            idle_table(rows, out)
        else:
            traffic_table(rows, out)
        cpu_split(rows, out)
        out.append("")
    rows = [r for r in runs if r.get("scenario") == "dbwork"]
    if rows:
        out += ["## Database work as subscribers grow (100 events/s for 10 s)", "",
                "The store's statements run by the litepush daemon during the run "
                "(its feed counters, read with SIGUSR1 before and after). nchan keeps "
                "messages in shared memory and has no such cost.", ""]
        dbwork_table(rows, out)
        out.append("")
    out += ["## What limits the figures", ""] + LIMITS + [""]
    out += ["## Systems", ""]
    for s in SYSTEMS:
        out.append(f"- `{s}`: {DESCRIBE[s]}")
    out += ["", "## Commands", "", "Each run's load generator command (paths as on the machine):", "",
            "```"]
    with open(commands) as f:
        for line in f:
            label, _, cmd = line.rstrip("\n").partition("\t")
            out.append(f"# {label}")
            out.append(cmd)
    out += ["```", ""]
    sys.stdout.write("\n".join(out))


if __name__ == "__main__":
    main()
