"""IA202 write-cost: a new index costs the workload's writes more than it saves its reads.

Saving: what the statements that read it would cost without it, minus with it, weighted by
calls. Write cost: one index entry per inserted row and per updated row that changes a
column it covers, priced as the advisor prices index maintenance, weighted by calls.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.WARNING)


def check(ctx: Context) -> Iterator[Finding]:
    for index in ctx.created:
        if index.write_cost is None or index.saving is None or not index.used_by:
            continue
        if index.write_cost <= index.saving:
            continue
        yield finding(RULE, f"{index.location}: new index {index.name} on {index.table} saves "
                      f"its {len(index.used_by)} reader(s) {index.saving:,.2f} but costs the "
                      f"workload's writes {index.write_cost:,.2f} (calls-weighted planner units)",
                      location=index.location, subject=index.name)
