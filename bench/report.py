"""Renders the results of a run (bench/out) as Markdown tables.

    python -m bench.report RESULTS.md

A "## Reading" section already in RESULTS.md (written by hand) is kept.
"""
import json
import platform
import statistics
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench import api, world
from bench.pages import ENDPOINTS

OUT = world.OUT
READING = "## Reading"
# (endpoint, its baseline, p95 target in ms, requests/s target as a share of the baseline's).
TARGETS = [("accounts", "baseline_accounts", 60, 0.4), ("dropdown", "baseline_dropdown", 25, 0.4)]
RATE_TARGET = 0.7  # the token API's
# In one process: Manage Accounts renders in so many milliseconds at most, and weighs so many bytes.
RENDER_TARGET_MS, WEIGHT_TARGET = 10, 60 * 1024
LABELS = {
    "dropdown": "Expired Tokens dropdown's list (htmx fragment)",
    "accounts": "Manage Accounts (page 1, 50 rows)",
    "baseline_dropdown": "baseline: dropdown's rows, 1 SELECT + small template",
    "baseline_accounts": "baseline: 50 rows, 1 SELECT + small template",
    "accounts_unchanged": "Manage Accounts again, unchanged (If-None-Match: its ETag)",
}


def shell(command):
    return subprocess.run(command, shell=True, capture_output=True, text=True).stdout.strip()


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    memory = shell("free -h").splitlines()[1].split()
    return [
        f"- Measured {(OUT / 'started').read_text().strip()} (`date -u`), commit `{(OUT / 'commit').read_text().strip()}`",
        f"- CPU: {cpu}, `nproc` = {shell('nproc')}; memory (`free -h`): {memory[1]} total, {memory[6]} available",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {shell('wrk -v 2>&1 | head -1')}",
    ]


def load():
    """What else ran: the load average and the busiest processes between the steps."""
    lines = []
    for step in ("start", "pages", "delivery", "api", "end"):
        path = OUT / f"load-{step}.txt"
        if not path.exists():
            continue
        when, loadavg, *top = path.read_text().splitlines()
        processes = [line.split(None, 11) for line in top if not line.lstrip().startswith("PID")]
        busy = [f"`{fields[11][:60]}` {fields[8]}%" for fields in processes
                if len(fields) == 12 and float(fields[8]) >= 10]
        lines.append(f"- {step} ({when}): load average {' '.join(loadavg.split()[:3])}; "
                     f"busy: {', '.join(busy) or 'nothing above 10% CPU'}")
    return lines


def pages():
    return [*rendered(), "", *served()]


def rendered():
    """Each page and its baseline in one process (`python -m bench.pages render`)."""
    runs = json.loads((OUT / "render.json").read_text())
    rows = ["| in one process | ms a request (median) | best | CPU ms | × baseline | bytes | target | met |",
            "|---|---:|---:|---:|---:|---:|---|---|"]
    for name, baseline, *_ in TARGETS:
        run, base = runs[name], runs[baseline]
        target, met = "", ""
        if name == "accounts":
            target = f"≤ {RENDER_TARGET_MS} ms, ≤ {WEIGHT_TARGET // 1024} KB"
            met = "yes" if run["wall_median"] <= RENDER_TARGET_MS and run["bytes"] <= WEIGHT_TARGET else "**no**"
        for label, figures, ratio in ((LABELS[name], run, run["wall_median"] / base["wall_median"]),
                                      (LABELS[baseline], base, 1)):
            rows.append(f"| {label} | {figures['wall_median']:.1f} | {figures['wall_best']:.1f} "
                        f"| {figures['cpu_median']:.1f} | {ratio:.2f} | {figures['bytes']:,} "
                        f"| {target if figures is run else ''} | {met if figures is run else ''} |")
    first = runs["accounts"]
    rows += ["", f"Flask's test client signed in as the Owner (all brands), no server: {first['rounds']} rounds of "
                 f"{first['requests']} requests of each page then its baseline; milliseconds a request, the median "
                 f"and the best round (wall clock; CPU time, which the rest of the machine touches less, beside)."]
    return rows


def served():
    runs = {name: rounds(name) for name, *_ in ENDPOINTS}
    rows = ["| under gunicorn | p50 ms | p90 ms | p95 ms | p99 ms | requests/s | × baseline | target | met |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for name, baseline, p95_target, rate_target in TARGETS:
        for endpoint in (name, baseline):
            run = runs[endpoint]
            ratio = run["rps"] / runs[baseline]["rps"]
            target = met = ""
            if endpoint == name:
                target = f"p95 ≤ {p95_target} ms, ≥ {rate_target}×"
                ok = run["p95"] <= p95_target and ratio >= rate_target and not run["bad_status"]
                met = "yes" if ok else "**no**"
            rows.append(f"| {LABELS[endpoint]} | {run['p50']:.1f} | {run['p90']:.1f} | {run['p95']:.1f} "
                        f"| {run['p99']:.1f} | {run['rps']:.0f} | {ratio:.2f} | {target} | {met} |")
    unchanged = runs["accounts_unchanged"]
    share = unchanged["not_modified"] / unchanged["requests"] if unchanged["requests"] else 0
    rows.append(f"| {LABELS['accounts_unchanged']} | {unchanged['p50']:.1f} | {unchanged['p90']:.1f} "
                f"| {unchanged['p95']:.1f} | {unchanged['p99']:.1f} | {unchanged['rps']:.0f} "
                f"| {unchanged['rps'] / runs['baseline_accounts']['rps']:.2f} | every answer 304 "
                f"| {'yes' if share == 1 else f'**no** ({share:.0%})'} |")
    bad = {name: run["bad_status"] + run["socket_errors"] for name, run in runs.items()
           if run["bad_status"] or run["socket_errors"]}
    seconds = runs["accounts"]["seconds"] / runs["accounts"]["rounds"]
    rows += ["", f"{runs['accounts']['rounds']} rounds, each page then its baseline, of `wrk -t2 -c10 -d{seconds:.0f}s "
                 f"--timeout 10s --latency`; each figure is the median of the rounds. Signed in as the Owner (all "
                 f"brands), gunicorn with 2 sync workers; errors or non-2xx answers: {bad or 'none'}. No page is "
                 f"kept on the server: every answer renders, but the last row, a repeat view that sends the page's "
                 f"ETag and answers 304 Not Modified without rendering ({unchanged['not_modified']:,} of "
                 f"{unchanged['requests']:,} answers 304)."]
    return rows


def delivery():
    rows = ["| database | sender | sent | seconds | messages/s | × plain loop |", "|---|---|---:|---:|---:|---:|"]
    notes = []
    for kind in ("sqlite", "postgresql"):
        path = OUT / f"delivery-{kind}.json"
        if not path.exists():
            continue
        run = json.loads(path.read_text())
        rows.append(f"| {kind} | {run['workers']} `rq worker --burst -w jobs.worker.Worker` ({run['jobs']} jobs of 50) "
                    f"| {run['received']:,} of {run['deliveries']:,} | {run['seconds']:.1f} | {run['rate']:.0f} "
                    f"| {run['rate'] / run['plain_rate']:.2f} |")
        rows.append(f"| {kind} | baseline: plain smtplib loop, one connection | {run['plain_received']:,} "
                    f"| {run['plain_seconds']:.1f} | {run['plain_rate']:.0f} | 1 |")
        cpu = f"; the workers' CPU time {run['worker_cpu_ms']:.2f} ms a message" if "worker_cpu_ms" in run else ""
        notes.append(f"- {kind}: deliveries by status after the workers stopped: {run['outcome']}; first to last "
                     f"message at the SMTP server {run['smtp_span']:.1f} s; messages of {run['message_bytes']} bytes"
                     f"{cpu}.")
    return rows + [""] + notes + ["", "messages/s of the workers: messages received / seconds from starting the "
                                  "workers to both having stopped (they stop when the queue is empty). Their CPU "
                                  "time (user and system, the job processes they fork included) does not depend "
                                  "on what else the machine runs, as the rate does."]


def scan():
    runs = json.loads((OUT / "scan.json").read_text())
    rows = ["| credentials | due | notices | deliveries | renewals enqueued | scan s | scan without silent "
            "renewals s | silent renewals alone s | seeding s |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        notices = f"{run['notices_seconds']:.3f}" if "notices_seconds" in run else "–"
        rows.append(f"| {run['credentials']:,} | {run['due']:,} | {run['notifications']:,} | {run['deliveries']:,} "
                    f"| {run['renewals_enqueued']:,} | {run['seconds']:.3f} | {notices} "
                    f"| {run['renew_due_seconds']:.3f} | {run['seed_seconds']:.0f} |")
    rows.append("")
    rows.append("Medians of 3 runs (1 from a million credentials up), each on a database with no notice written yet: "
                "the scan (`jobs.scan.scan`), the scan with its first step (`renew_due`, silent renewals) left out, "
                "and that step alone. The last row has a database of its own.")
    return rows


API_TARGETS = [("api_token", "baseline_api_token", 10), ("api_fallback", "baseline_api_fallback", 10)]
API_LABELS = {
    "api_token": "`GET /api/v1/profiles/{id}/token` (lives long enough: no refresh)",
    "api_fallback": f"`GET /api/v1/networks/{api.FALLBACK_NETWORK}/token` (the fallback)",
    "baseline_api_token": "baseline: key by hash, 1 SELECT by id, decrypt, JSON",
    "baseline_api_fallback": "baseline: key by hash, 1 SELECT of the network's first, decrypt, JSON",
}


def rounds(name):
    """The median of each figure over the rounds of `name` (bench/run.sh runs each API endpoint and its
    baseline in turns); counts of answers (all, errors, 304s) and seconds are summed."""
    runs = [json.loads(path.read_text()) for path in sorted(OUT.glob(f"wrk-{name}-*.json"))]
    summed = ("requests", "seconds", "bad_status", "socket_errors", "not_modified")
    return {field: (sum(run[field] for run in runs) if field in summed else statistics.median(run[field] for run in runs))
            for field in runs[0]} | {"rounds": len(runs)}


def token_api():
    runs = {name: rounds(name) for name, _ in api.ENDPOINTS}
    rows = ["| endpoint | p50 ms | p90 ms | p95 ms | p99 ms | requests/s | × baseline | target | met |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for name, baseline, p95_target in API_TARGETS:
        run, base = runs[name], runs[baseline]
        ratio = run["rps"] / base["rps"]
        met = run["p95"] <= p95_target and ratio >= RATE_TARGET and not run["bad_status"]
        rows.append(f"| {API_LABELS[name]} | {run['p50']:.1f} | {run['p90']:.1f} | {run['p95']:.1f} "
                    f"| {run['p99']:.1f} | {run['rps']:.0f} | {ratio:.2f} | p95 ≤ {p95_target} ms, ≥ {RATE_TARGET}× "
                    f"| {'yes' if met else '**no**'} |")
    for _, baseline, _ in API_TARGETS:
        run = runs[baseline]
        rows.append(f"| {API_LABELS[baseline]} | {run['p50']:.1f} | {run['p90']:.1f} | {run['p95']:.1f} "
                    f"| {run['p99']:.1f} | {run['rps']:.0f} | 1 | | |")
    bad = {name: run["bad_status"] + run["socket_errors"] for name, run in runs.items()
           if run["bad_status"] or run["socket_errors"]}
    seconds = runs["api_token"]["seconds"] / runs["api_token"]["rounds"]
    rows += ["", f"{runs['api_token']['rounds']} rounds, each endpoint then its baseline, of `wrk -t2 -c10 "
                 f"-d{seconds:.0f}s --timeout 10s --latency` with the key as `Authorization: Bearer`; each figure is "
                 f"the median of the rounds. gunicorn with 2 sync workers, the pages' world (1,000 profiles); errors "
                 f"or non-2xx answers: {bad or 'none'}. The per-key limit is raised for the run "
                 f"(`API_REQUESTS_PER_MINUTE`); its count is kept all the same."]
    return rows


# Each measured section: its heading, whether this run measured it, and its lines.
MEASURED = [
    ("## Pages", lambda: (OUT / "wrk-accounts-1.json").exists(), lambda: [
        "1,000 profiles in 10 brands, 5,000 superseded credentials; statuses: "
        + ", ".join(f"{status} {share}%" for status, share in world.PAGES_MIX) + ".", "", *pages()]),
    ("## Delivery", lambda: any((OUT / f"delivery-{kind}.json").exists() for kind in ("sqlite", "postgresql")),
     delivery),
    ("## Scan", lambda: (OUT / "scan.json").exists(), scan),
    ("## Token API", lambda: (OUT / "wrk-api_token-1.json").exists(), token_api),
]


def earlier_section(old, heading):
    """A section as an earlier run wrote it (a step this run left out), or None."""
    start = old.find(f"{heading}\n")
    if start < 0:
        return None
    end = old.find("\n## ", start + len(heading))
    return old[start:end if end >= 0 else len(old)].rstrip()


def main(path):
    path = Path(path)
    old = path.read_text() if path.exists() else ""
    reading = old[old.index(READING):] if READING in old else f"{READING}\n\n(to be written)\n"
    sections = [
        "# Benchmark results", "",
        "Written by `make bench` (`bench/run.sh`, then `python -m bench.report`); only the Reading is by hand.", "",
        "## Machine", "", *machine(), "", "Other processes during this run:", "", *load(), "",
    ]
    for heading, measured, lines in MEASURED:
        if measured():
            sections += [heading, "", *lines(), ""]
        elif (kept := earlier_section(old, heading)) is not None:
            note = "(from an earlier run: not measured in this one)"
            sections += [kept if note in kept else kept.replace(heading, f"{heading}\n\n{note}", 1), ""]
    sections += [reading.rstrip(), ""]
    path.write_text("\n".join(sections))


if __name__ == "__main__":
    main(sys.argv[1])
