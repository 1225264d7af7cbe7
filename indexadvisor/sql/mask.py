"""Masking literals in workload text before it goes into a shared report (HTML, Markdown):
every string, number, bit-string and dollar-quoted constant becomes ``?``, found by
PostgreSQL's own scanner (so ``'it''s'`` and ``$$x$$`` are one token each, and a quote inside
a comment is not a literal). Identifiers, keywords, operators and ``$n`` stay.

>>> mask_literals("SELECT * FROM t WHERE a = 'x''y' AND b > 4.5 AND c = $1 LIMIT 10")
'SELECT * FROM t WHERE a = ? AND b > ? AND c = $1 LIMIT ?'
>>> mask_literals("SELECT 'naïve', '€'")
'SELECT ?, ?'
>>> mask_literals("SELECT 'unterminated")
'(hidden: the text could not be scanned to mask its literals)'
"""

from __future__ import annotations

from dataclasses import replace

from pglast.parser import ParseError, scan

from ..model import Advice, Plan, PlanNode, QueryResult, Validation
from ..model.validation import Measurement, QueryCheck, ValidationRound

LITERALS = frozenset({"SCONST", "ICONST", "FCONST", "BCONST", "XCONST", "USCONST"})
HIDDEN = "(hidden: the text could not be scanned to mask its literals)"
#: Plan details that are SQL expressions (the others are counts or names).
EXPRESSION_DETAILS = frozenset({"Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond",
                                "Join Filter", "Filter", "Sort Key", "Presorted Key",
                                "Group Key", "One-Time Filter"})


def mask_literals(text: str) -> str:
    """`text` with each literal replaced by ``?`` (pglast's offsets count characters, the
    end inclusive)."""
    try:
        tokens = scan(text)
    except ParseError:
        return HIDDEN
    out = []
    at = 0
    for token in tokens:
        if token.name in LITERALS:
            out.append(text[at:token.start] + "?")
            at = token.end + 1
    out.append(text[at:])
    return "".join(out)


def _node(node: PlanNode) -> PlanNode:
    details = tuple((k, mask_literals(v) if k in EXPRESSION_DETAILS else v)
                    for k, v in node.details)
    return replace(node, details=details, children=tuple(_node(c) for c in node.children))


def mask_plan(plan: Plan | None) -> Plan | None:
    """The plan with literals masked in its conditions and keys."""
    return None if plan is None else replace(plan, root=_node(plan.root))


def _result(r: QueryResult) -> QueryResult:
    samples = tuple(replace(s, text=mask_literals(s.text), params=(), plan=None)
                    for s in r.query.samples)
    query = replace(r.query, text=mask_literals(r.query.text), samples=samples)
    return replace(r, query=query, plan_before=mask_plan(r.plan_before),
                   plan_after=mask_plan(r.plan_after))


def _measurement(m: Measurement) -> Measurement:
    return replace(m, plan=mask_plan(m.plan))


def _validation(v: Validation | None) -> Validation | None:
    if v is None:
        return None

    def check(c: QueryCheck) -> QueryCheck:
        return replace(c, before=_measurement(c.before), after=_measurement(c.after))

    def one(r: ValidationRound) -> ValidationRound:
        return replace(r, checks=tuple(check(c) for c in r.checks))

    return replace(v, rounds=tuple(one(r) for r in v.rounds))


def mask_advice(advice: Advice) -> Advice:
    """The advice with literals masked in every statement, sample and plan condition; captured
    parameter values are dropped. DDL, index labels and reasons stay as they are (a partial
    index's predicate is part of what to build)."""
    results = tuple(_result(r) for r in advice.results)
    workload = replace(advice.workload, queries=tuple(r.query for r in results),
                       skipped=tuple(replace(s, text=mask_literals(s.text) if s.text else "")
                                     for s in advice.workload.skipped))
    return replace(advice, results=results, workload=workload,
                   validation=_validation(advice.validation))
