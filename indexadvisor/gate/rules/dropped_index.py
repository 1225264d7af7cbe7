"""IA103 dropped-index-used: the migration drops an index that a watched statement's plan reads.

The baseline plan reads the index; after the migration it is gone. An error when the
statement's cost rises past `cost-increase`, a warning when the planner finds another way
about as cheap (the index may still be worth keeping: check its other readers).
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, cost_change, finding, make_rule, plan_change

RULE = make_rule(__doc__, Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for dropped in ctx.dropped:
        for pair in ctx.pairs:
            if pair.before is None or dropped.name not in pair.before.indexes:
                continue
            said = f"{pair.label} reads {dropped.name}, which {dropped.location} drops"
            if pair.after is None:
                yield finding(RULE, said, pair=pair, subject=dropped.name)
                continue
            limits = ctx.thresholds(pair)
            worse = pair.after.cost > pair.before.cost * (1 + limits.cost_increase)
            yield finding(RULE, f"{said}: {cost_change(pair.before, pair.after)}; "
                          f"{plan_change(pair.before, pair.after)}", pair=pair,
                          subject=dropped.name,
                          severity=None if worse else Severity.WARNING)
