"""IA301 create-index-lock: CREATE INDEX without CONCURRENTLY on a table that already exists.

A plain CREATE INDEX holds a SHARE lock on the table for the whole build: every INSERT,
UPDATE and DELETE waits. Use CREATE INDEX CONCURRENTLY (outside a transaction block). An
index on a table the same migration creates is fine.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for stmt in ctx.migration:
        if stmt.kind != "create_index" or stmt.concurrently or not ctx.existed(stmt.table):
            continue
        yield finding(RULE, f"{stmt.location}: CREATE INDEX on {stmt.table} without "
                      "CONCURRENTLY blocks writes to the table while the index builds; "
                      "use CREATE INDEX CONCURRENTLY", location=stmt.location,
                      subject=stmt.index or stmt.table or "")
