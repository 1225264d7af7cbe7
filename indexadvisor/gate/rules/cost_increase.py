"""IA101 cost-increase: a watched statement's estimated cost rose by more than the threshold.

The planner's total cost of the statement after the migration is compared with the baseline
(default: more than 20% and at least 1 planner unit more). The finding says how the plan
changed and, where HypoPG finds one, the index that brings the cost back. Raise the threshold
with `cost-increase` in [tool.indexadvisor.check] (or per statement), or accept the regression
in the baseline with a reason and an expiry date.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, cost_change, finding, make_rule, plan_change

RULE = make_rule(__doc__, Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for pair in ctx.compared():
        assert pair.before is not None and pair.after is not None
        limits = ctx.thresholds(pair)
        before, after = pair.before.cost, pair.after.cost
        if (after <= before * (1 + limits.cost_increase)
                or after - before < limits.min_cost_increase):
            continue
        pct = 100 * (after - before) / before if before > 0 else float("inf")
        yield finding(RULE, f"{pair.label}: {cost_change(pair.before, pair.after)}, "
                      f"+{pct:,.0f}% over the {100 * limits.cost_increase:.0f}% allowed; "
                      f"{plan_change(pair.before, pair.after)}", pair=pair)
