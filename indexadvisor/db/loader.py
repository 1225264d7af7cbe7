"""Run SQL scripts into a sandbox (schema, data). Never used against a user's DSN."""

from __future__ import annotations

from pathlib import Path

import psycopg
from pglast.parser import ParseError, split

from ..model.errors import SandboxError, SourceError
from .connect import redact_dsn


def run_script(dsn: str, text: str, source: str) -> int:
    """Execute each statement of `text` in autocommit (VACUUM cannot run in a transaction),
    with synchronous commits, so a VACUUM in the script sets the visibility map.

    Returns the number of statements run; a failing statement stops the load with its source.
    """
    try:
        statements = split(text, with_parser=False)
    except ParseError as exc:
        raise SourceError(f"{source}: cannot be split into statements: {exc.args[0]}") from None
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            # The sandbox runs with synchronous_commit off; a VACUUM right after an
            # asynchronous commit cannot mark those rows all-visible yet, which would hide
            # every index-only scan from the advisor.
            conn.execute("SET synchronous_commit = on")
            for n, stmt in enumerate(statements, 1):
                try:
                    conn.execute(stmt.encode())
                except psycopg.Error as exc:
                    first = str(exc).strip().splitlines()[0]
                    raise SourceError(f"{source}: statement {n} failed: {first}",
                                      hint=" ".join(stmt.split())[:200]) from None
    except psycopg.OperationalError as exc:
        raise SandboxError(f"cannot reach the sandbox {redact_dsn(dsn)}: {exc}") from None
    return len(statements)


def run_files(dsn: str, files: list[Path]) -> int:
    """Run several script files in order."""
    total = 0
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{file}: cannot read: {exc}") from None
        total += run_script(dsn, text, str(file))
    return total
