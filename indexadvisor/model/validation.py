"""Validation by real execution, as values: what the recommended indexes did when built and run.

Estimates are guesses until a statement runs. Validation builds the recommended set for real,
runs each statement whose real plan changes under EXPLAIN (ANALYZE, BUFFERS) without and with
it (a warm-up, then measured runs), and withdraws an index that makes a statement slower than
`tolerance` allows; the selection then tries the next candidate. Each try is a round.

>>> m = Measurement((12.0, 10.0, 11.0))
>>> m.best_ms, m.median_ms, m.finished
(10.0, 11.0, True)
>>> Measurement((), timed_out=True).best_ms is None
True
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from .candidate import Candidate
from .plan import Plan


@dataclass(frozen=True)
class ValidationSettings:
    """How statements are measured and what counts as slower."""

    warmup: int = 1  # runs before the measured ones (caches warm, plans settled)
    runs: int = 3  # measured runs; the best one is compared (noise only adds time)
    statement_timeout_ms: int = 30_000  # per run; a warm-up that hits it ends that statement
    tolerance: float = 0.10  # slower by more than this fraction ...
    min_ms: float = 1.0  # ... and by more than this many milliseconds is a regression
    max_rounds: int = 4  # tries with a re-run selection before only removing indexes
    where: str = "sandbox"  # "sandbox", or the database named by --validate-dsn (redacted)


@dataclass(frozen=True)
class Measurement:
    """One statement run for real under one configuration."""

    runs_ms: tuple[float, ...] = ()  # execution time of each measured run
    timed_out: bool = False
    error: str | None = None  # the server's words when it failed otherwise
    shared_hit: int | None = None  # buffers of the best run (whole plan)
    shared_read: int | None = None
    plan: Plan | None = None  # the best run's plan, with measured times per node

    @property
    def finished(self) -> bool:
        return bool(self.runs_ms) and not self.timed_out and self.error is None

    @property
    def best_ms(self) -> float | None:
        return min(self.runs_ms) if self.finished else None

    @property
    def median_ms(self) -> float | None:
        return float(median(self.runs_ms)) if self.finished else None


class Flag:
    """Why an estimate was wrong (or could not be checked); the texts reports show."""

    NOT_USED = "index not used"  # the what-if plan read a new index, the real plan does not
    SLOWER = "slower"  # measured slower beyond the tolerance
    NOT_FASTER = "not faster"  # estimated faster by the threshold, measured not faster
    TIMEOUT = "timed out"  # hit the per-statement limit (before, after or both)
    NOT_MEASURED = "not measured"  # no parameter values, a write outside a sandbox, an error


@dataclass(frozen=True)
class QueryCheck:
    """One statement measured without and with the indexes of a round."""

    fingerprint: str
    estimated_before: float | None  # planner cost, existing indexes only
    estimated_after: float | None  # planner cost with the round's indexes (hypothetical)
    before: Measurement
    after: Measurement
    expected: tuple[str, ...] = ()  # new indexes (labels) the what-if plan read
    used: tuple[str, ...] = ()  # new indexes (labels) the real plan read
    flags: tuple[str, ...] = ()
    regressed: bool = False  # slower than the tolerance allows: its culprit is withdrawn
    note: str = ""

    @property
    def speedup(self) -> float | None:
        """Measured before / after (2.0 = twice as fast); None unless both finished."""
        b, a = self.before.best_ms, self.after.best_ms
        return None if b is None or a is None or a <= 0 else b / a

    @property
    def estimated_ratio(self) -> float | None:
        """Estimated after / before."""
        b, a = self.estimated_before, self.estimated_after
        return None if b is None or a is None or b <= 0 else a / b


@dataclass(frozen=True)
class BuiltIndex:
    """A recommended index built for real in a round."""

    candidate: Candidate
    name: str  # as built (the name our DDL gives it)
    estimated_bytes: int
    real_bytes: int
    build_s: float
    used_by: tuple[str, ...] = ()  # fingerprints whose real plan reads it
    visible: bool = True  # False: the planner may not use it inside the building transaction


@dataclass(frozen=True)
class Withdrawal:
    """A recommendation validation took back, and the evidence."""

    candidate: Candidate
    round: int
    reason: str
    queries: tuple[str, ...] = ()  # fingerprints that regressed with it


@dataclass(frozen=True)
class ValidationRound:
    """One try: a set built and measured."""

    number: int
    built: tuple[BuiltIndex, ...]
    checks: tuple[QueryCheck, ...]
    withdrawn: tuple[Withdrawal, ...] = ()
    reselected: bool = True  # the set came from the selection (False: only removals)

    @property
    def regressions(self) -> tuple[QueryCheck, ...]:
        return tuple(c for c in self.checks if c.regressed)


@dataclass(frozen=True)
class Validation:
    """Every round of a validation; the last one measured the set the advice recommends."""

    settings: ValidationSettings
    rounds: tuple[ValidationRound, ...]
    unvalidated: tuple[Candidate, ...]  # what the estimates alone recommended
    elapsed_s: float = 0.0

    @property
    def final(self) -> ValidationRound | None:
        return self.rounds[-1] if self.rounds else None

    @property
    def withdrawn(self) -> tuple[Withdrawal, ...]:
        return tuple(w for r in self.rounds for w in r.withdrawn)

    @property
    def passed(self) -> bool:
        """The final set regresses no measured statement beyond the tolerance."""
        final = self.final
        return final is None or not final.regressions

    def check(self, fingerprint: str) -> QueryCheck | None:
        """The final round's check of a statement, if it was measured there."""
        final = self.final
        if final is None:
            return None
        return next((c for c in final.checks if c.fingerprint == fingerprint), None)
