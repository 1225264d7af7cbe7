"""The validation loop: build the recommended set, measure, withdraw what made a statement slower
for real (or what no real plan reads), let the selection try again without it; until a round
withdraws nothing.

Each round is one transaction on a writable connection, never committed (see `build`). After
`max_rounds` re-selections, a round only removes indexes from the last set, so the loop ends;
the empty set regresses nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import psycopg
from psycopg import sql

from ..explain.explainer import Explainer
from ..model import (
    Advice,
    Candidate,
    Measurement,
    QueryCheck,
    QueryResult,
    Validation,
    ValidationRound,
    ValidationSettings,
    Withdrawal,
    format_size,
    is_relevant,
)
from ..pipeline.advise import AdviceRun
from .build import Build, build, hidden
from .judge import culprit, describe_change, judge
from .measure import measure_pair, real_plan

BUILD_TIMEOUT_MS = 30 * 60 * 1000  # one CREATE INDEX
IDLE_TIMEOUT_MS = 10 * 60 * 1000  # the round's transaction, should we stop talking to it


@dataclass(frozen=True)
class ValidationTarget:
    """Where indexes are built: a writable connection and whether it is our own sandbox
    (write statements are measured only there, in transactions rolled back)."""

    conn: psycopg.Connection
    sandbox: bool


def validate(run: AdviceRun, target: ValidationTarget, settings: ValidationSettings,
             say: Callable[[str], None] | None = None) -> Advice:
    """The advice of `run`, validated: its recommendations are the last set measured, and
    `advice.validation` says what every round built, measured and withdrew."""
    tell = say or (lambda _message: None)
    started = time.perf_counter()
    advice = run.advice()
    unvalidated = tuple(r.candidate for r in advice.recommendations)
    excluded: set[Candidate] = set()
    notes: dict[str, str] = {}
    befores: dict[str, Measurement] = {}
    rounds: list[ValidationRound] = []
    reselect = True
    while True:
        number = len(rounds) + 1
        tell(f"validation round {number}: building {len(advice.recommendations)} indexes")
        measured = _round(run, target, advice, befores, settings, number, reselect)
        rounds.append(measured)
        if not measured.withdrawn:
            break
        for w in measured.withdrawn:
            tell(f"round {number}: withdrew {w.candidate.label}: {w.reason}")
            excluded.add(w.candidate)
            rec = next(r for r in advice.recommendations if r.candidate == w.candidate)
            for key in (*rec.queries, *w.queries):
                text = f"validation withdrew {w.candidate.label}: {w.reason}"
                notes[key] = text if key not in notes else f"{notes[key]}; {text}"
        if number >= settings.max_rounds:
            reselect = False
        if not reselect:  # only removals from here on: the set shrinks until it passes
            keep = {r.candidate for r in advice.recommendations} - excluded
            excluded |= {c for c in run.pool.candidates if c not in keep}
        advice = run.advice(frozenset(excluded), notes)
    validation = Validation(settings, tuple(rounds), unvalidated,
                            time.perf_counter() - started)
    return replace(advice, validation=validation)


def _round(run: AdviceRun, target: ValidationTarget, advice: Advice,
           befores: dict[str, Measurement], settings: ValidationSettings, number: int,
           reselected: bool) -> ValidationRound:
    """Build the advice's set in a transaction never committed, measure, decide withdrawals."""
    conn = target.conn
    explainer = Explainer(conn, run.server_version_num)
    statements = run.statements
    results = {r.query.fingerprint: r for r in advice.results}
    sizes = {r.candidate: r.size_bytes for r in advice.recommendations}
    labels = {r.candidate.label for r in advice.recommendations}
    with conn.transaction(force_rollback=True):
        _session(conn, run.server_version_num)
        _limit(conn, BUILD_TIMEOUT_MS)
        builds = [build(conn, c, sizes[c]) for c in sizes]
        failed = [b for b in builds if b.index is None]
        built = [b for b in builds if b.index is not None]
        names = {name: b.candidate for b in built for name in b.names}
        _limit(conn, settings.statement_timeout_ms)
        affected = {key: q for key, q in statements.items()
                    if any(is_relevant(b.candidate, q.leading) for b in built)}
        used: dict[str, tuple[Candidate, ...]] = {}
        for key, query in sorted(affected.items()):
            plan = real_plan(conn, explainer, query)
            found = {names[n] for n in (plan.index_names if plan else ()) if n in names}
            used[key] = tuple(sorted(found))
        expected = {key: tuple(sorted(set(results[key].indexes_used) & labels))
                    for key in affected if key in results}
        to_run = sorted(k for k in affected if used[k])
        indexes = [b.index for b in built if b.index is not None]
        measured = {}
        for key in to_run:
            measured[key] = measure_pair(
                explainer, statements[key], settings, lambda: hidden(conn, indexes),
                writes_allowed=target.sandbox, before=befores.get(key))
            if measured[key][0].timed_out:  # it would time out again: not run next round
                befores[key] = measured[key][0]
        afters = {key: pair[1] for key, pair in measured.items()}
    checks = [_check(key, results[key], measured[key][0] if key in measured else Measurement(),
                     afters.get(key, Measurement()), expected.get(key, ()),
                     tuple(c.label for c in used.get(key, ())), settings, run)
              for key in sorted(affected) if key in results and (used[key] or expected[key])]
    final = tuple(replace(b.index, used_by=tuple(k for k in sorted(used) if b.candidate
                                                   in used[k]))
                    for b in built if b.index is not None)
    withdrawn = _withdrawals(checks, built, failed, names, afters, number)
    return ValidationRound(number, final, tuple(checks), withdrawn, reselected)


def _check(key: str, result: QueryResult, before: Measurement, after: Measurement,
           expected: tuple[str, ...], used: tuple[str, ...], settings: ValidationSettings,
           run: AdviceRun) -> QueryCheck:
    flags, regressed = judge(before, after, result.cost_before, result.cost_after, expected,
                             used, settings, run.config.min_improvement)
    note = ""
    if not used:
        note = "its real plan reads none of the new indexes: unchanged, not measured"
    elif before.error or after.error:
        note = before.error or after.error or ""
    return QueryCheck(key, result.cost_before, result.cost_after, before, after, expected,
                      used, flags, regressed, note)


def _withdrawals(checks: Sequence[QueryCheck], built: Sequence[Build],
                 failed: Sequence[Build], names: Mapping[str, Candidate],
                 afters: Mapping[str, Measurement], number: int) -> tuple[Withdrawal, ...]:
    """One culprit per regressed statement (the index its slow plan spent most time in);
    indexes no real plan reads; indexes the server would not build."""
    blamed: dict[Candidate, list[QueryCheck]] = {}
    by_label = {b.candidate.label: b.candidate for b in built}
    for check in checks:
        if not check.regressed:
            continue
        used = [by_label[label] for label in check.used]
        plan = afters[check.fingerprint].plan if check.fingerprint in afters else None
        cand = culprit(plan, used, names)
        if cand is not None:
            blamed.setdefault(cand, []).append(check)
    out = []
    for cand, regressed in sorted(blamed.items()):
        worst = max(regressed, key=lambda c: (c.after.best_ms or float("inf"))
                    - (c.before.best_ms or 0.0))
        reason = (f"made {len(regressed)} statement(s) slower for real: "
                  f"{describe_change(worst.before, worst.after)}")
        out.append(Withdrawal(cand, number, reason,
                              tuple(sorted(c.fingerprint for c in regressed))))
    reads = {label for check in checks for label in check.used}
    for b in built:
        if b.candidate.label not in reads and b.candidate not in blamed:
            size = format_size(b.index.real_bytes) if b.index else "?"
            out.append(Withdrawal(b.candidate, number,
                                  f"built ({size}), but no statement's real plan reads it"))
    for b in failed:
        out.append(Withdrawal(b.candidate, number, f"could not be built: {b.error}"))
    return tuple(out)


def _session(conn: psycopg.Connection, server_version_num: int) -> None:
    """Guards for the round's transaction: a client that goes away ends it promptly."""
    conn.execute(sql.SQL("SET LOCAL idle_in_transaction_session_timeout = {}").format(
        IDLE_TIMEOUT_MS))
    if server_version_num >= 140000:
        conn.execute("SET LOCAL client_connection_check_interval = 1000")


def _limit(conn: psycopg.Connection, ms: int) -> None:
    conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(ms))
