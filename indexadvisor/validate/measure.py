"""Running statements for real: EXPLAIN (ANALYZE, BUFFERS) with a warm-up and measured runs, and
plain EXPLAIN to see which indexes a real plan reads. Every call runs inside the round's open
transaction, in a savepoint of its own, so a failing or timed-out statement ends only itself.
"""

from __future__ import annotations

import psycopg

from ..explain.errors import StatementNotCostable
from ..explain.explainer import Explainer
from ..model import CostedQuery, Measurement, Plan, ValidationSettings


def not_measured(query: CostedQuery, *, writes_allowed: bool) -> str | None:
    """Why a statement cannot be measured, or None when it can."""
    if query.param_count > 0 and not query.params:
        return "no parameter values (captured or from pg_stats): a generic plan cannot run"
    if not writes_allowed and not query.query.is_select:
        return "a write statement: run only in a sandbox"
    return None


def measure(explainer: Explainer, query: CostedQuery, settings: ValidationSettings, *,
            writes_allowed: bool) -> Measurement:
    """`settings.warmup` runs, then `settings.runs` measured ones (the statement's own
    transaction rolled back each time). A run that hits the statement timeout ends it."""
    why = not_measured(query, writes_allowed=writes_allowed)
    if why is not None:
        return Measurement(error=why)
    runs: list[float] = []
    best: Plan | None = None
    for n in range(settings.warmup + settings.runs):
        try:
            plan = explainer.explain(query.text, query.params, query.param_count, analyze=True)
        except StatementNotCostable as exc:
            if exc.timed_out:
                return Measurement(tuple(runs), timed_out=True, plan=best)
            return Measurement(tuple(runs), error=exc.message, plan=best)
        if n < settings.warmup:
            continue
        ms = plan.execution_ms or 0.0
        runs.append(ms)
        if best is None or ms < (best.execution_ms or 0.0):
            best = plan
    actual = best.root.actual if best is not None else None
    return Measurement(tuple(runs), plan=best,
                       shared_hit=_buffers(best, "hit") if actual else None,
                       shared_read=_buffers(best, "read") if actual else None)


def _buffers(plan: Plan | None, kind: str) -> int | None:
    if plan is None or plan.root.actual is None:
        return None
    value = plan.root.actual.shared_hit if kind == "hit" else plan.root.actual.shared_read
    return value


def real_plan(conn: psycopg.Connection, explainer: Explainer, query: CostedQuery) -> Plan | None:
    """The plan the server makes now (plain EXPLAIN, in a savepoint); None if it fails."""
    try:
        with conn.transaction():
            return explainer.explain(query.text, query.params, query.param_count)
    except StatementNotCostable:
        return None
