"""Backup and restore of orderdesk's database, whole, in one file.

SQLite (the embedded default): the sqlite3 online backup API copies a consistent snapshot
page by page while the server keeps serving. PostgreSQL: `pg_dump --format=custom` and
`pg_restore --clean`, the tools of the server's own version (README, "Backup and restore").
A restore replaces everything in the target database: stop the web and worker processes
first.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import quote

from django.db import connections


class BackupRefused(Exception):
    """A backup or restore that cannot be done as asked; the message says why."""


def _is_sqlite(database: dict) -> bool:
    return database["ENGINE"].endswith("sqlite3")


def _postgres_url(database: dict) -> str:
    user = quote(database.get("USER") or "postgres")
    password = f":{quote(database['PASSWORD'])}" if database.get("PASSWORD") else ""
    host = database.get("HOST") or "127.0.0.1"
    port = database.get("PORT") or 5432
    return f"postgresql://{user}{password}@{host}:{port}/{quote(database['NAME'])}"


def _run(command: list[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as missing:
        raise BackupRefused(
            f"{command[0]} is not installed: install the PostgreSQL client tools"
        ) from missing
    if result.returncode != 0:
        raise BackupRefused(f"{command[0]} failed: {result.stderr.strip()[-1000:]}")


def database_backup(file: Path, *, alias: str = "default", overwrite: bool = False) -> Path:
    """Write the whole database to `file` (a SQLite file, or a pg_dump custom archive)."""
    file = Path(file)
    if file.exists() and not overwrite:
        raise BackupRefused(f"{file} exists; choose a new file name")
    file.parent.mkdir(parents=True, exist_ok=True)
    # Written beside, then renamed: an interrupted backup never leaves a half file by the name.
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    connection = connections[alias]
    if _is_sqlite(connection.settings_dict):
        connection.ensure_connection()
        target = sqlite3.connect(partial)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
    else:
        url = _postgres_url(connection.settings_dict)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", url])
    os.replace(partial, file)
    return file


def _sqlite_backup_check(file: Path) -> None:
    try:
        source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            (ok,) = source.execute("PRAGMA integrity_check").fetchone()
            migrated = source.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders_order'"
            ).fetchone()
        finally:
            source.close()
    except sqlite3.DatabaseError as error:
        raise BackupRefused(f"{file} is not an orderdesk SQLite backup: {error}") from error
    if ok != "ok" or not migrated:
        raise BackupRefused(f"{file} is not an orderdesk SQLite backup")


def database_restore(file: Path, *, alias: str = "default") -> None:
    """Replace the whole database with the backup in `file`."""
    file = Path(file)
    if not file.is_file():
        raise BackupRefused(f"{file} does not exist")
    connection = connections[alias]
    if _is_sqlite(connection.settings_dict):
        _sqlite_backup_check(file)
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    with file.open("rb") as archive:
        if archive.read(5) != b"PGDMP":
            raise BackupRefused(f"{file} is not a pg_dump custom-format archive")
    connection.close()  # pg_restore drops and re-creates the tables this connection reads
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_postgres_url(connection.settings_dict)}",
            str(file),
        ]
    )
