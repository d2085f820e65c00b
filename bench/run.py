"""`make bench`: measure the targets of the design notes and write bench/README.md.

    python bench/run.py [--orders N] [--pg-url URL] [--only sqlite|postgresql] [--no-write]
                        [--measure all|approve|pages]

For each database (an SQLite file under var/bench/ and the PostgreSQL database of --pg-url)
a child process builds the data set with bulk SQL (N orders, 5 % unpaid, N authorizations),
then measures: (a) the unpaid panel through the ORM against the same SQL sent raw, (b) the
expiry sweep against a raw SQL UPDATE of the same rows, (c) the approve-payment endpoint
against a floor view doing its durable work in raw SQL on the same gunicorn server, (d) the web worker's memory under
load, (e) every dashboard page, the order screen, /metrics and the CSV export through
Django's test client beside their SQL floor. `--measure approve` (or `pages`) builds the
data set and measures (c) (or (e)) only; it then rewrites only that section of the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/orderdesk_bench")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--no-write", action="store_true", help="print, do not write the README")
    parser.add_argument("--measure", choices=["all", "approve", "pages"], default="all")
    parser.add_argument(
        "--oscar-python",
        help="the interpreter of a virtualenv with django-oscar 4.2.1: adds Oscar's peer row",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.orders, args.measure)
    var = Path(os.environ.get("ORDERDESK_VAR_DIR", ROOT / "var")) / "bench"
    var.mkdir(parents=True, exist_ok=True)
    targets = {
        "sqlite": f"sqlite:///{var / 'bench.sqlite3'}",
        "postgresql": args.pg_url,
    }
    results = {}
    for name, url in targets.items():
        if args.only and args.only != name:
            continue
        print(f"== {name}: {args.orders:,} orders", flush=True)
        environment = {**os.environ, "DATABASE_URL": url, "ORDERDESK_VAR_DIR": str(var)}
        completed = subprocess.run(  # noqa: S603 (our own interpreter and script)
            [sys.executable, __file__, "--child", name, "--orders", str(args.orders)]
            + ["--measure", args.measure],
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            print(f"{name}: the benchmark failed (exit {completed.returncode})", file=sys.stderr)
            return completed.returncode
        results[name] = json.loads(completed.stdout.strip().splitlines()[-1])
        if args.oscar_python and args.measure in ("all", "pages"):
            results[name]["oscar"] = oscar_peer(args.oscar_python, name, url, args.orders, var)
    from bench.report import approve_section_replace, machine, pages_section_replace, render

    readme = ROOT / "bench" / "README.md"
    if args.measure == "pages":
        text = pages_section_replace(readme.read_text(encoding="utf-8"), results)
    elif args.measure == "approve":
        text = approve_section_replace(
            readme.read_text(encoding="utf-8"),
            results,
            machine=machine(results),
            orders=args.orders,
        )
    else:
        text = render(results, machine=machine(results), orders=args.orders)
    print(text)
    if not args.no_write:
        readme.write_text(text, encoding="utf-8")
        print("written to bench/README.md")
    return 0


def oscar_peer(python: str, name: str, url: str, orders: int, var: Path) -> dict | None:
    """Oscar's dashboard order list at the same N, in its own interpreter and database."""
    if name == "sqlite":
        database = var / "oscar.sqlite3"
        database.unlink(missing_ok=True)
        oscar_url = f"sqlite:///{database}"
    else:
        import psycopg

        oscar_url = f"{url}_oscar"
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
            oscar_name = oscar_url.rsplit("/", 1)[1]
            connection.execute(f'DROP DATABASE IF EXISTS "{oscar_name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{oscar_name}"')
    print(f"== {name}: django-oscar's order list, {orders:,} orders", flush=True)
    completed = subprocess.run(  # noqa: S603 (the interpreter the user named, our script)
        [python, str(ROOT / "bench" / "oscar_peer.py"), "--orders", str(orders)]
        + ["--database-url", oscar_url],
        env={**os.environ, "ORDERDESK_VAR_DIR": str(var.parent)},
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        print(f"{name}: Oscar's peer row failed (exit {completed.returncode})", file=sys.stderr)
        return None
    return json.loads(completed.stdout.strip().splitlines()[-1])


def child(name: str, orders: int, measure_only: str = "all") -> int:
    """Runs in its own process so that DATABASE_URL picks the database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")
    os.environ.setdefault("ORDERDESK_LOG_LEVEL", "WARNING")
    from bench import measure

    measure.database_recreate(name)
    import django

    django.setup()
    runs = {"approve": measure.run_approve, "pages": measure.run_pages, "all": measure.run_all}
    result = runs[measure_only](orders)
    result["measured_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["python"] = platform.python_version()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
