"""IA303 lock-timeout: a statement that locks an existing table, with no lock_timeout set before it.

DDL waits for its lock behind any running query, and every query after it waits behind the
DDL: a short ALTER TABLE can stall a busy table for as long as the slowest query runs. Put
`SET lock_timeout = '2s'` (or similar) at the top of the migration file and retry on failure.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.WARNING)
LOCKING = frozenset({"ddl", "create_index", "drop_index"})


def check(ctx: Context) -> Iterator[Finding]:
    guarded: set[str] = set()  # files that set lock_timeout so far
    dropped = {d.location for d in ctx.dropped}  # drops of existing indexes
    for stmt in ctx.migration:
        if stmt.kind == "set" and stmt.setting == "lock_timeout":
            guarded.add(stmt.location.file)
            continue
        if stmt.kind not in LOCKING or stmt.concurrently or stmt.location.file in guarded:
            continue
        if stmt.kind == "drop_index":
            if stmt.location not in dropped:
                continue
        elif not ctx.existed(stmt.table):
            continue
        guarded.add(stmt.location.file)  # once per file: the fix is one SET at its top
        yield finding(RULE, f"{stmt.location}: {stmt.short[:60]} locks an existing table and "
                      f"{stmt.location.file} sets no lock_timeout before it",
                      location=stmt.location, subject=stmt.short[:60])
