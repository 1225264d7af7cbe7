"""Stage 8, verdicts: the one place every query's outcome and reason are decided.

Everything known about a query is gathered first (`Facts`); `decide` turns it into exactly one
`QueryResult`. Nothing patches a reason afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..model import AdvisorConfig, Candidate, Outcome, Plan, Query, QueryResult, is_expression
from .analysis import Problem


@dataclass(frozen=True)
class Costs:
    """A costable query's planner costs and plans under the configurations that matter."""

    before: float  # existing indexes only
    after: float  # with the recommended set
    best: float  # with every candidate at once
    new: tuple[str, ...]  # labels of the recommended indexes it uses, sorted
    existing: tuple[str, ...]  # existing indexes its plan reads with the recommended set
    plan_before: Plan | None = None
    plan_after: Plan | None = None


@dataclass(frozen=True)
class Facts:
    """Everything the advisor learned about one query."""

    query: Query
    problem: Problem | None = None  # stopped before or during costing
    costs: Costs | None = None
    proposed: tuple[Candidate, ...] = ()  # new candidates it gave
    covered: tuple[str, ...] = ()  # existing indexes that cover its other candidates
    refused: Mapping[Candidate, str] = field(default_factory=dict)  # server refusals
    write_losers: tuple[str, ...] = ()  # its candidates rejected for their write cost
    stop_reason: str = ""  # why the selection stopped
    gin_note: str | None = None  # a GIN index proposed for it, not costed
    values_note: str = ""  # which values its $n were costed with
    withdrawn_note: str = ""  # validation took back an index it was to use, and why


def decide(facts: Facts, config: AdvisorConfig) -> QueryResult:
    """The outcome and reason of one query."""
    outcome, reason = _outcome(facts, config)
    if facts.withdrawn_note and outcome is not Outcome.IMPROVED and facts.problem is None:
        outcome, reason = Outcome.WITHDRAWN, facts.withdrawn_note
    elif facts.withdrawn_note:
        reason = f"{reason}; {facts.withdrawn_note}"
    notes = [reason]
    if facts.gin_note and outcome is not Outcome.IMPROVED:
        notes.append(facts.gin_note)
    if facts.values_note:
        notes.append(facts.values_note)
    text = "; ".join(notes)
    c = facts.costs
    if c is None:
        return QueryResult(facts.query, outcome, text)
    return QueryResult(facts.query, outcome, text, c.before, c.after, c.new + c.existing,
                       c.plan_before, c.plan_after)


def _outcome(facts: Facts, config: AdvisorConfig) -> tuple[Outcome, str]:
    if facts.problem is not None:
        return facts.problem.outcome, facts.problem.reason
    c = facts.costs
    assert c is not None, "a query without a problem has costs"
    saving = 0.0 if c.before <= 0 else (c.before - c.after) / c.before
    best_saving = 0.0 if c.before <= 0 else (c.before - c.best) / c.before
    if saving >= config.min_improvement:
        return Outcome.IMPROVED, (
            f"cost {c.before:,.2f} -> {c.after:,.2f} (-{100 * saving:.0f}%) with "
            + "; ".join(c.new or ("the recommended indexes",)))
    if not facts.proposed:
        if facts.covered:
            return Outcome.ALREADY_OPTIMAL, ("every useful index already exists: "
                                             + ", ".join(sorted(set(facts.covered))))
        if facts.refused:
            return Outcome.NO_CANDIDATE, "no candidate: " + _refusals(facts.refused)
        return Outcome.NO_CANDIDATE, ("no column is filtered, joined, sorted or grouped on in "
                                      "a way a btree index serves")
    if facts.write_losers:
        return Outcome.WRITE_COST, (
            f"candidates could save {100 * best_saving:.0f}% but cost more to keep up under "
            "the workload's writes than they save: " + "; ".join(facts.write_losers[:3]))
    if best_saving < config.min_improvement:
        return Outcome.BELOW_THRESHOLD, (
            f"even all {len(facts.proposed)} candidates together save only "
            f"{100 * max(best_saving, 0):.1f}% (threshold {100 * config.min_improvement:.0f}%)")
    return Outcome.OVER_BUDGET, (f"candidates could save {100 * best_saving:.0f}% but were not "
                                 f"chosen: {facts.stop_reason}")


def _refusals(refused: Mapping[Candidate, str]) -> str:
    """Why the server would not create a query's candidates, one clause per reason."""
    by_reason: dict[str, set[str]] = {}
    for cand, reason in refused.items():
        by_reason.setdefault(reason, set()).update(
            f"{cand.table}.{k}" for k in cand.columns if is_expression(k))
    parts = []
    for reason, keys in sorted(by_reason.items()):
        text = f"{', '.join(sorted(keys)) or 'its index'} cannot be indexed: {reason}"
        if "IMMUTABLE" in reason:
            text += (" (a result that depends on a setting, like date_trunc or a ::date cast "
                     "of a timestamp with time zone, which depend on TimeZone, is not)")
        parts.append(text)
    return "; ".join(parts)
