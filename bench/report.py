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
    "saturation": "saturation: 1,000 subscribers, events of 100 bytes "
                  "published as fast as possible for 10 s",
    "idle10000": "10,000 idle subscribers for 30 s (keepalives every 15 s)",
}


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


def idle_table(rows, out):
    by = {r["system"]: r for r in rows}
    out.append("| system | conns ok / failed | closed early | server CPU s in 30 s "
               "| RSS MiB before / after | KiB per connection | of which the litepush daemon "
               "| CPU ratio | KiB/conn ratio |")
    out.append("|" + " --- |" * 9)

    def per_conn(r, only=None):
        grown = sum(s["rss_kb"] - s.get("rss_before_kb", 0) for s in r["servers"]
                    if only is None or s["name"].startswith(only))
        return grown / r["conns_ok"] if r["conns_ok"] else None

    for r in order(rows):
        if "error" in r:
            out.append(f"| {r['system']} | {r['error']} |" + " |" * 7)
            continue
        b = by.get(baseline(r["system"]) or "")
        if b is not None and "error" in b:
            b = None
        before = sum(s.get("rss_before_kb", 0) for s in r["servers"]) / 1024
        after = sum(s["rss_kb"] for s in r["servers"]) / 1024
        pc = per_conn(r)
        if pc is None:
            out.append(f"| {r['system']} | 0 / {r['conns_failed']} |" + " |" * 7)
            continue
        own = "–" if r["system"].startswith("nchan") else f"{per_conn(r, 'litepush'):.1f}"
        out.append(
            f"| {r['system']} | {r['conns_ok']} / {r['conns_failed']} | {r['conns_closed']} "
            f"| {cpu(r):.2f} | {before:.1f} / {after:.1f} "
            f"| {pc:.1f} | {own} | {ratio(cpu(r), b and cpu(b))} "
            f"| {ratio(pc, b and per_conn(b))} |")


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
    for name, title in SCENARIOS.items():
        rows = [r for r in runs if r.get("scenario") == name]
        if not rows:
            continue
        out += [f"## {title}", ""]
        if name == "idle10000":
            idle_table(rows, out)
        else:
            traffic_table(rows, out)
        out.append("")
    rows = [r for r in runs if r.get("scenario") == "dbwork"]
    if rows:
        out += ["## Database work as subscribers grow (100 events/s for 10 s)", "",
                "The store's statements run by the litepush daemon during the run "
                "(its feed counters, read with SIGUSR1 before and after). nchan keeps "
                "messages in shared memory and has no such cost.", ""]
        dbwork_table(rows, out)
        out.append("")
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
