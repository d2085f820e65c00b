"""Render the benchmark results as bench/README.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def machine(results: dict) -> dict:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else ""
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split("MemTotal:", 1)[1].split()[0])
        memory = f"{total_kb / 1024 / 1024:.1f} GiB"
    import django

    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "databases": ", ".join(result["database_version"] for result in results.values()),
    }


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


def render(results: dict, *, machine: dict, orders: int) -> str:
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (or `make bench BENCH_ORDERS=100000` for a smaller set) builds the data set",
        "with bulk SQL in an SQLite file under `var/bench/` and in the PostgreSQL database",
        "`orderdesk_bench` (`BENCH_PG_URL`), measures the targets of the design notes and rewrites",
        "this file. It is never part of `make test`. The code is in `bench/`: `data.py` (the data",
        "set), `measure.py` (the measurements), `report.py` (this page).",
        "",
        "Data set: N orders, 5 % of them unpaid (failed, expired, awaiting customer, not",
        "authorized, awaiting price, authorized but expiring within 5 days), the rest shipped",
        "and paid, authorized for 6 to 28 more days, cancelled or on terms; one authorization",
        "per order; 10,000 accounts.",
        "",
        f"## Last run: {orders:,} orders",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory']} RAM, {machine['os']};",
        f"Python {machine['python']}, Django {machine['django']}; {machine['databases']}.",
        "",
        "### (a) Unpaid panel: p95 under 50 ms, within 2x of the same SQL sent raw",
        "",
        "| database | measured | queries | ORM p50 | ORM p95 | raw SQL p50 | raw SQL p95 | ratio p50 / p95 | target |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        panel = result["panel"]
        ok = panel["orm_p95_ms"] < 50 and panel["ratio_p95"] <= 2
        lines.append(
            f"| {result['database_version']} | {panel['function']} | {panel['queries']} | "
            f"{panel['orm_p50_ms']} ms | {panel['orm_p95_ms']} ms | {panel['raw_p50_ms']} ms | "
            f"{panel['raw_p95_ms']} ms | {panel['ratio_p50']} / {panel['ratio_p95']} | {_verdict(ok)} |"
        )
    lines += [
        "",
        '"Raw SQL" replays the exact statements the ORM sent (captured once) on the DB-API',
        "cursor, so the ratio is the cost of the ORM and the selector's Python, not of the plan.",
        "",
        "### (b) Expiry sweep: set-based, within 2x of a raw SQL UPDATE",
        "",
    ]
    lines += sweep_lines(results)
    lines += [
        APPROVE_TITLE,
        "",
    ]
    lines += approve_lines(results)
    lines += [
        "### (d) Web worker memory: under 150 MB RSS under load",
        "",
        "| database | load | requests | peak RSS of the worker | target |",
        "| --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        web = result["web"]
        requests = ", ".join(f"`{key}` {count}" for key, count in sorted(web["requests"].items()))
        lines.append(
            f"| {result['database_version']} | one gunicorn worker, 4 threads, {web['clients']} "
            f"clients for {web['seconds']:.0f} s | {requests} | {web['peak_worker_rss_mb']} MB | "
            f"{_verdict(web['peak_worker_rss_mb'] < 150)} |"
        )
    lines += [
        "",
        "The clients are logged in as an administrator and cycle through `/healthz`, the admin",
        "log-in page, the dashboard (the unpaid panel over the whole data set) and the admin's",
        "order list. RSS is sampled every 0.2 s from `/proc`.",
        "",
    ]
    lines += pages_lines(results)
    lines += [
        "Build time of the data set: "
        + ", ".join(f"{r['database_version']} {r['build_seconds']} s" for r in results.values())
        + ".",
        "",
    ]
    return "\n".join(lines)


def sweep_lines(results: dict) -> list[str]:
    """The table and notes of target (b), without its heading."""
    lines = [
        "| database | authorizations | lapsing | sweep | same statements raw | raw UPDATE "
        "| sweep / raw statements | sweep / raw UPDATE | target | scheduled sweep, nothing due |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results.values():
        sweep = result["sweep"]
        lines.append(
            f"| {result['database_version']} | {sweep['authorizations']:,} | {sweep['lapsing']:,} | "
            f"{sweep['sweep_ms']:,} ms | {sweep['replay_ms']:,} ms ({sweep['statements']} "
            f"statements) | {sweep['raw_update_ms']:,} ms | {sweep['ratio_replay']} | "
            f"{sweep['ratio']} | {_verdict(sweep['ratio'] <= 2)} | "
            f"{sweep['scheduled_sweep_nothing_due_ms']} ms |"
        )
    lines += [
        "",
        "The sweep runs at a moment when every live authorization has lapsed (the worst case),",
        "in a transaction that is rolled back so every run meets the same rows; sweep, replay and",
        "raw UPDATE are interleaved, median of 3 each (PostgreSQL is vacuumed before each run).",
        '"Same statements raw" replays the statements the sweep sent (captured once; the',
        "savepoint and, on PostgreSQL, the advisory lock included) on the DB-API cursor: the",
        "first ratio is the cost of the ORM and the sweep's Python. The raw",
        "UPDATE expires the same authorizations and does nothing else; the sweep also writes",
        "one timeline row per authorization and rewrites each order's last action and payment",
        "state: the second ratio is that work.",
        "",
    ]
    return lines


APPROVE_HEADING = "### (c) Approve-payment endpoint"
APPROVE_TITLE = (
    APPROVE_HEADING + ": at least half the requests per second of a raw-SQL floor doing the "
    "same durable work"
)


def _load_text(load: dict) -> str:
    ran_out = ", links ran out" if load.get("ran_out_of_links") else ""
    others = ", ".join(
        f"{count:,} answered {status}"
        for status, count in sorted(load["statuses"].items())
        if status not in ("200", "302")
    )
    return (
        f"{load['rps']} ({load['requests']:,} requests{ran_out}{', ' if others else ''}{others}), "
        f"{load['p50_ms']} / {load['p95_ms']} ms"
    )


def approve_lines(results: dict) -> list[str]:
    """The table and notes of target (c), without its heading."""
    measured = [r for r in results.values() if "floor" in r.get("approve", {})]
    if not measured:
        return ["Not measured in this run.", ""]
    lines = [
        "| database | statements (commits) | floor: RPS, p50 / p95 | approve: RPS, p50 / p95 "
        "| approve / floor | target (>= 0.5) | bare view: RPS, p50 / p95 | peak worker RSS "
        "(approve / floor) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in measured:
        approve = result["approve"]
        counts = approve["statements"]
        lines.append(
            f"| {result['database_version']} | {counts['default']['statements']} "
            f"({counts['default']['commits']}) + ledger {counts['sandbox']['statements']} "
            f"({counts['sandbox']['commits']}) | {_load_text(approve['floor'])} | "
            f"{_load_text(approve['approve'])} | {approve['ratio']:.2f} | "
            f"{_verdict(approve['ratio'] >= 0.5)} | {_load_text(approve['bare'])} | "
            f"{approve['approve']['peak_worker_rss_mb']} / "
            f"{approve['floor']['peak_worker_rss_mb']} MB |"
        )
    first = measured[0]["approve"]
    lines += [
        "",
        f"Load: one gunicorn server ({first['workers']} worker, {first['threads']} threads, "
        "`DJANGO_SETTINGS_MODULE=bench.settings`,",
        "`ORDERDESK_BENCH_URLCONF=bench.urls`), "
        f"{first['clients']} client threads in the benchmark process on the same",
        f"machine; floor and approval alternate, {first['rounds']} rounds of "
        f"{first['seconds'] / first['rounds']:.0f} s each (RPS over their summed wall",
        "time, p50 / p95 the higher of the rounds'), then the bare view for one round. Every",
        "POST approves a different open reauthorization link (sent through",
        "`link_send_reauthorization`, each on its own never-authorized card order) with a",
        "sandbox token of 4242 4242 4242 4242, and counts when it answers 302. The link rate",
        "limits are raised for the bench server (they are still counted).",
        "",
        "The floor (`bench/approve_floor.py`, routed only in the bench URLconf at",
        "`/bench/floor/<token>`) does an approval's durable work in raw SQL on the database",
        "cursor: the rate limits' counters, the link read and claim, the order locked, the",
        "pending authorization with its idempotency key and timeline row committed, the sandbox",
        "ledger's row on its own connection, then the answer, the link, the timeline rows and",
        "the payment state with the CRM version bump under the order's and link's locks, on its",
        "own link and order each request. Before the loads, one real approval and one floor",
        "request are recorded on both connections and compared (statements, their tables in",
        "order, where the commits fall); the benchmark stops if they differ, and",
        "`tests/bench/test_approve_floor.py` checks the same. Statement counts above are the",
        "approval's, the ledger's connection apart; a statement sent in autocommit mode counts",
        "as a commit. What the floor leaves out is Python: models, ORM compiling, the form, the",
        "state machines' checks, the sandbox's token signature.",
        "",
        "Load average of the machine (1 min) at the end of each load, this benchmark's own "
        "included: "
        + "; ".join(
            f"{r['database_version']} floor {r['approve']['floor']['load_average']}, "
            f"approve {r['approve']['approve']['load_average']}, "
            f"bare {r['approve']['bare']['load_average']}"
            for r in measured
        )
        + ".",
        "",
    ]
    return lines


def approve_section_replace(text: str, results: dict, *, machine: dict, orders: int) -> str:
    """Rewrite section (c) of an existing README, keep the rest (`run.py --measure approve`)."""
    start = text.index(APPROVE_HEADING)
    body = text.index("\n", start) + 1
    end = text.index("\n### ", body) + 1
    versions = ", ".join(r["database_version"] for r in results.values())
    intro = [
        APPROVE_TITLE,
        "",
        f"Measured alone (`bench/run.py --measure approve --orders {orders:,}`) on a data set of",
        f"{orders:,} orders plus the link orders; {machine['cores']} cores ({machine['cpu']}),",
        f"{machine['memory']} RAM, {machine['os']}; Python {machine['python']}, Django",
        f"{machine['django']}; {versions}.",
        "",
    ]
    return text[:start] + "\n".join(intro + approve_lines(results)) + "\n" + text[end:]


PAGES_HEADING = "### (e) Whole pages, as a CSR waits for them"

PAGE_TARGETS_MS = {"page": 50, "order": 30, "metrics": 50}


def pages_lines(results: dict) -> list[str]:
    lines = [
        PAGES_HEADING,
        "",
        "Targets: every dashboard view p95 under 50 ms, the order screen under 30 ms, `/metrics`",
        "under 50 ms; the CSV export's first byte within 100 ms and at least 50,000 rows a second.",
        "",
    ]
    for result in results.values():
        pages = result.get("pages")
        if not pages:
            continue
        lines += [
            f"{result['database_version']}, {result['orders']:,} orders, {pages['repeats']} "
            "timed requests each (median / p95, ms):",
            "",
            "| page | status | queries | whole request | SQL floor | target | verdict |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for row in pages["rows"]:
            limit = PAGE_TARGETS_MS[row["target"]]
            lines.append(
                f"| {row['label']} | {row['status']} | {row['queries']} | {row['p50_ms']} / "
                f"{row['p95_ms']} | {row['sql_p50_ms']} / {row['sql_p95_ms']} | p95 < {limit} | "
                f"{_verdict(row['status'] == 200 and row['p95_ms'] < limit)} |"
            )
        lines += oscar_lines(result, pages)
        export = pages["csv"]
        met = export["first_byte_ms"] < 100 and export["rows_per_second"] >= 50_000
        lines += [
            f"| `/dashboard/unpaid.csv` ({export['rows']:,} rows) | 200 | — | first byte "
            f"{export['first_byte_ms']} ms, all in {export['total_ms']:,} ms = "
            f"{export['rows_per_second']:,} rows/s | {export['sql_ms']:,} ms | first byte < 100 ms, "
            f">= 50,000 rows/s | {_verdict(met)} |",
            "",
        ]
    lines += [
        "Each page is requested through Django's test client, logged in as a CSR (session,",
        "middleware, view and template); its SQL floor is the SELECT statements that request",
        "sent, captured once and replayed on the DB-API cursor, timed interleaved with it.",
        "",
    ]
    return lines


def oscar_lines(result: dict, pages: dict) -> list[str]:
    """Oscar's dashboard order list as a row of the same table, beside orderdesk's default."""
    oscar = result.get("oscar")
    if not oscar:
        return []
    default = pages["rows"][0]
    return [
        f"| peer: django-oscar {oscar['oscar']} `{oscar['path']}` ({oscar['rows']} rows a page; "
        f"orderdesk's default page median is {default['p50_ms'] / oscar['p50_ms']:.2f}x its) "
        f"| 200 | {oscar['queries'] or '—'} | {oscar['p50_ms']} / {oscar['p95_ms']} | — | — | — |"
    ]


def pages_section_replace(text: str, results: dict) -> str:
    """Rewrite section (e) of an existing README (or add it), keep the rest."""
    section = "\n".join(pages_lines(results))
    if PAGES_HEADING not in text:
        marker = "\nBuild time of the data set"
        at = text.index(marker) + 1 if marker in text else len(text)
        return text[:at] + section + "\n" + text[at:]
    start = text.index(PAGES_HEADING)
    following = [text.find(mark, start + 1) for mark in ("\n### ", "\nBuild time", "\n## ")]
    ends = [index + 1 for index in following if index != -1]
    end = min(ends) if ends else len(text)
    return text[:start] + section + "\n" + text[end:]
