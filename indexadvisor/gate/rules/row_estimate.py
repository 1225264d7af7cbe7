"""IA105 row-estimate: the statement's estimated row count changed by a large factor.

The root node's row estimate after the migration against the baseline's (default factor 10,
either way). A changed estimate with the same data means the planner now reads statistics
differently (a dropped or retyped column, a new expression index with its own statistics),
and plans above it may change with it.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.WARNING)


def check(ctx: Context) -> Iterator[Finding]:
    for pair in ctx.compared():
        assert pair.before is not None and pair.after is not None
        factor = ctx.thresholds(pair).row_estimate_factor
        low = max(min(pair.before.rows, pair.after.rows), 1.0)
        high = max(pair.before.rows, pair.after.rows, 1.0)
        if high / low < factor:
            continue
        yield finding(RULE, f"{pair.label}: estimated rows {pair.before.rows:,.0f} -> "
                      f"{pair.after.rows:,.0f} ({high / low:,.0f}x)", pair=pair)
