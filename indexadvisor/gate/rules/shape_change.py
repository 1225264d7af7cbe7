"""IA106 plan-shape: the statement's plan shape changed (node types, relations or indexes).

A warning, not a failure: a changed plan is often the point of a migration (a new index is
used). It says what changed, so a reviewer sees every plan a migration moves. A statement
whose cost rose past `cost-increase` is left to IA101, which says the same and more.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, cost_change, finding, make_rule, plan_change

RULE = make_rule(__doc__, Severity.WARNING)


def check(ctx: Context) -> Iterator[Finding]:
    for pair in ctx.compared():
        assert pair.before is not None and pair.after is not None
        if pair.before.signature == pair.after.signature:
            continue
        if pair.after.cost > pair.before.cost * (1 + ctx.thresholds(pair).cost_increase):
            continue
        yield finding(RULE, f"{pair.label}: plan changed: {plan_change(pair.before, pair.after)};"
                      f" {cost_change(pair.before, pair.after)}", pair=pair)
