"""The `orderdesk` command. The database comes from DATABASE_URL for every subcommand."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orderdesk.settings")
    import django

    django.setup()


def _manage(*argv: str) -> None:
    _django()
    from django.core.management import call_command

    call_command(*argv)


def _var_dir() -> None:
    from django.conf import settings

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)


def _migrate(*options: str) -> None:
    """Both databases: orderdesk's and the sandbox gateway's ledger (a no-op when the
    ledger shares orderdesk's PostgreSQL database); and the cache table of the rate limits
    (also made by a migration; this covers a cache table renamed in settings later). All
    idempotent."""
    _manage("migrate", "--no-input", *options)
    _manage("migrate", "--no-input", "--database", "sandbox", *options)
    _manage("createcachetable")


# Beyond the gateway's budget, what the rest of a request may take (database, template).
REQUEST_MARGIN_SECONDS = 30


def request_timeout_seconds() -> int:
    """gunicorn's worker timeout: longer than the gateway's budget for one operation, so a
    request waiting on a slow gateway is never killed while its answer is on the way."""
    from orderdesk.payments.gateways.transport import budget_seconds

    return int(budget_seconds()) + REQUEST_MARGIN_SECONDS


def gunicorn_command(args) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "orderdesk.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        "4",
        "--no-control-socket",
        "--timeout",
        str(request_timeout_seconds()),
        "--graceful-timeout",
        str(request_timeout_seconds()),
        "--access-logfile",
        "-",
        "--logger-class",
        "orderdesk.common.gunicorn_logger.TokenRedactingLogger",
        "--access-logformat",
        _access_log_format(),
    ]


def cmd_serve(args) -> int:
    _django()
    _var_dir()
    _migrate("-v", "0")
    _manage("collectstatic", "--no-input", "-v", "0")
    base = f"http://{args.host}:{args.port}"
    # Links e-mailed while serving point at the port being served, unless told otherwise.
    os.environ.setdefault("ORDERDESK_BASE_URL", base)
    children = [_start(gunicorn_command(args))]
    if args.with_worker:
        children.append(_start([sys.executable, "-m", "orderdesk.cli", "worker"]))
    print(
        f"orderdesk serving at {base}/ (dashboard {base}/dashboard/, admin {base}/admin/)"
        + (" with the background worker" if args.with_worker else "")
        + "; Ctrl-C stops everything",
        flush=True,
    )
    return _wait_all(children)


def _access_log_format() -> str:
    """gunicorn's access line, with the request id orderdesk answered in X-Request-ID."""
    from django.conf import settings

    if settings.ORDERDESK_LOG_FORMAT == "json":
        return (
            '{"time": "%(t)s", "level": "INFO", "logger": "gunicorn.access", '
            '"message": "%(r)s", "status": %(s)s, "duration_ms": %(M)s, '
            '"request_id": "%({x-request-id}o)s"}'
        )
    return '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms [%({x-request-id}o)s]'


def _start(command: list[str]) -> subprocess.Popen:
    """A child in a process group of its own: Ctrl-C in the terminal reaches `serve` alone,
    which stops each group as a whole, so that no gunicorn worker outlives its master."""
    return subprocess.Popen(command, start_new_session=True)  # noqa: S603 (our own interpreter and arguments)


def _wait_all(children: list[subprocess.Popen], grace_seconds: float = 15) -> int:
    """Run until Ctrl-C, SIGTERM, SIGHUP or any child exits; then stop every process the
    children started (SIGTERM to each group, SIGKILL to what is left after the grace time)
    and return only when none is left."""
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: received.append(signum))
    while not received and all(child.poll() is None for child in children):
        time.sleep(0.2)
    _signal_groups(children, signal.SIGTERM)
    _wait_for(children, seconds=grace_seconds)
    _signal_groups(children, signal.SIGKILL)
    _wait_for(children, seconds=5)
    if received:
        return 0  # a clean stop, even when a child reports the signal
    return next((child.returncode for child in children if child.returncode), 0)


def _signal_groups(children: list[subprocess.Popen], signum: int) -> None:
    for child in children:
        with contextlib.suppress(ProcessLookupError):  # the whole group has exited
            os.killpg(child.pid, signum)


def _group_running(child: subprocess.Popen) -> bool:
    child.poll()  # reaps the group's leader once it has exited
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(children: list[subprocess.Popen], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_group_running(child) for child in children):
        time.sleep(0.1)


def cmd_worker(args) -> int:
    argv = ["worker"] + (["--batch"] if args.batch else [])
    _manage(*argv)
    return 0


def cmd_sweep(args) -> int:
    _manage("sweep")
    return 0


def cmd_demo(args) -> int:
    _django()
    _var_dir()
    _migrate("-v", "0")
    _manage("demo", "--orders", str(args.orders))
    return 0


def cmd_import_orders(args) -> int:
    _manage("import_orders", args.file)
    return 0


def cmd_createstaff(args) -> int:
    extra = ["--password", args.password] if args.password else []
    _manage("createstaff", args.username, "--role", args.role, *extra)
    return 0


def cmd_apikey(args) -> int:
    if args.action == "create":
        _manage("createapikey", args.name, "--user", args.user, "--scope", args.scope)
    elif args.action == "list":
        _manage("listapikeys")
    else:
        _manage("revokeapikey", args.prefix)
    return 0


def _manage_or_explain(command: str, *argv: str) -> int:
    """A refused command says why on one line, without a traceback."""
    _django()
    from django.core.management import CommandError

    try:
        _manage(command, *argv)
    except CommandError as refusal:
        print(f"orderdesk {command}: {refusal}", file=sys.stderr)
        return 1
    return 0


def cmd_backup(args) -> int:
    return _manage_or_explain("backup", args.file, *(["--overwrite"] if args.overwrite else []))


def cmd_restore(args) -> int:
    return _manage_or_explain("restore", args.file)


def cmd_migrate(args) -> int:
    _django()
    _var_dir()
    _migrate()
    return 0


def cmd_manage(args) -> int:
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["orderdesk", *args.rest])
    return 0


def _backup_parsers(sub) -> None:
    backup = sub.add_parser("backup", help="write the whole database to FILE")
    backup.add_argument("file")
    backup.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    backup.set_defaults(handler=cmd_backup)
    restore = sub.add_parser("restore", help="replace the database with the backup in FILE")
    restore.add_argument("file")
    restore.set_defaults(handler=cmd_restore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the dashboard, customer pages and API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--with-worker", action="store_true", help="also run the background worker")
    serve.set_defaults(handler=cmd_serve)
    worker = sub.add_parser("worker", help="run background work and the sweep schedule")
    worker.add_argument("--batch", action="store_true", help="drain the queue once and exit")
    worker.set_defaults(handler=cmd_worker)
    sub.add_parser("sweep", help="expire lapsed authorizations and links now").set_defaults(
        handler=cmd_sweep
    )
    demo = sub.add_parser("demo", help="migrate and load demo data (idempotent)")
    demo.add_argument("--orders", type=int, default=200)
    demo.set_defaults(handler=cmd_demo)
    importer = sub.add_parser("import-orders", help="import orders from a CSV file")
    importer.add_argument("file")
    importer.set_defaults(handler=cmd_import_orders)
    staff = sub.add_parser("createstaff", help="create a CSR or supervisor log-in")
    staff.add_argument("username")
    staff.add_argument("--role", choices=["csr", "supervisor"], required=True)
    staff.add_argument("--password")
    staff.set_defaults(handler=cmd_createstaff)
    _apikey_parser(sub)
    _backup_parsers(sub)
    sub.add_parser("migrate", help="create or update the database tables").set_defaults(
        handler=cmd_migrate
    )
    manage = sub.add_parser("manage", help="run any Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=cmd_manage)
    return parser


def _apikey_parser(sub) -> None:
    apikey = sub.add_parser("apikey", help="create, list or revoke API keys")
    actions = apikey.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key (printed once, stored hashed)")
    create.add_argument("name", help="what the key is for, e.g. storefront")
    create.add_argument("--user", required=True, help="the staff user the key acts as")
    create.add_argument("--scope", choices=["read", "write"], default="write")
    actions.add_parser("list", help="every key: created, last used, revoked")
    revoke = actions.add_parser("revoke", help="revoke a key by its prefix")
    revoke.add_argument("prefix")
    apikey.set_defaults(handler=cmd_apikey)


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. A refusal (a bad row, a missing file, a short password) is one
    line on standard error and exit status 1, never a traceback."""
    from django.core.management import CommandError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CommandError as refusal:
        print(f"orderdesk {args.command}: {refusal}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
