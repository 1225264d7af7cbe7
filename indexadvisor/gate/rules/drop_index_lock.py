"""IA302 drop-index-lock: DROP INDEX without CONCURRENTLY on an index of an existing table.

A plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the index's table: every read and
write of the table waits for it, and it waits for every running query. Use DROP INDEX
CONCURRENTLY (outside a transaction block).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    tables = {(d.location, d.name): d.table for d in ctx.dropped}
    for stmt in ctx.migration:
        if stmt.kind != "drop_index" or stmt.concurrently:
            continue
        for name in stmt.drops:
            table = tables.get((stmt.location, name.split(".")[-1].strip('"')))
            if table is None:
                continue
            yield finding(RULE, f"{stmt.location}: DROP INDEX {name} without CONCURRENTLY "
                          f"locks {table} against reads and writes; use DROP INDEX "
                          "CONCURRENTLY", location=stmt.location, subject=name)
