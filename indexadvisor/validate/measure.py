"""Running statements for real: EXPLAIN (ANALYZE, BUFFERS) without and with the indexes,
interleaved, after a warm-up; and plain EXPLAIN to see which indexes a real plan reads. Every
call runs inside the round's open transaction, in a savepoint of its own, so a failing or
timed-out statement ends only itself.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

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


def measure_pair(explainer: Explainer, query: CostedQuery, settings: ValidationSettings,
                 hide: Callable[[], AbstractContextManager[object]], *, writes_allowed: bool,
                 before: Measurement | None = None) -> tuple[Measurement, Measurement]:
    """A statement without (inside `hide()`) and with the indexes, interleaved run by run
    and the order alternating, so both sides meet the same machine load; a warm-up of each
    first. A side that fails or hits the timeout stops there. `before`, when given, is kept
    instead of measuring that side again (a timeout from an earlier round)."""
    why = not_measured(query, writes_allowed=writes_allowed)
    if why is not None:
        return Measurement(error=why), Measurement(error=why)
    runs: dict[str, list[float]] = {"before": [], "after": []}
    best: dict[str, Plan | None] = {"before": None, "after": None}
    ended: dict[str, Measurement | None] = {"before": before, "after": None}
    for n in range(settings.warmup + settings.runs):
        for side in ("before", "after") if n % 2 == 0 else ("after", "before"):
            if ended[side] is not None:
                continue
            try:
                if side == "before":
                    with hide():
                        plan = explainer.explain(query.text, query.params, query.param_count,
                                                 analyze=True)
                else:
                    plan = explainer.explain(query.text, query.params, query.param_count,
                                             analyze=True)
            except StatementNotCostable as exc:
                ended[side] = Measurement(tuple(runs[side]), timed_out=exc.timed_out,
                                          error=None if exc.timed_out else exc.message,
                                          plan=best[side])
                continue
            if n < settings.warmup:
                continue
            ms = plan.execution_ms or 0.0
            runs[side].append(ms)
            current = best[side]
            if current is None or ms < (current.execution_ms or 0.0):
                best[side] = plan

    def result(side: str) -> Measurement:
        done = ended[side]
        if done is not None:
            return done
        plan = best[side]
        return Measurement(tuple(runs[side]), plan=plan, shared_hit=_buffers(plan, "hit"),
                           shared_read=_buffers(plan, "read"))

    return result("before"), result("after")


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
