"""IA102 seq-scan: a table the statement read through an index is now read by a sequential scan.

Only tables over `seq-scan-rows` rows (default 10,000) count: on a small table a sequential
scan is often the right plan. This is the classic regression of a dropped or changed index,
and the one whose cost grows with the table.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, cost_change, finding, index_reads, make_rule

RULE = make_rule(__doc__, Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for pair in ctx.compared():
        assert pair.before is not None and pair.after is not None
        limit = ctx.thresholds(pair).seq_scan_rows
        before, after = index_reads(pair.before), index_reads(pair.after)
        seq_after = {n.relation for n in pair.after.nodes if n.node_type == "Seq Scan"}
        for relation in sorted(set(before) & seq_after):
            if relation in after:
                continue
            rows = ctx.table_rows.get(relation, 0.0)
            if rows < limit:
                continue
            was = " / ".join(sorted(before[relation]))
            yield finding(RULE, f"{pair.label}: {relation} ({rows:,.0f} rows) was read by "
                          f"{was}, now by Seq Scan; {cost_change(pair.before, pair.after)}",
                          pair=pair, subject=relation)
