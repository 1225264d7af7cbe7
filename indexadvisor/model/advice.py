"""What one run of the advisor found: the values every report renders.

Nothing here does I/O or needs a database: an `Advice` read back from its JSON
(`indexadvisor.report.load_advice`) renders exactly like the one the run produced.
"""

from __future__ import annotations

from dataclasses import dataclass

from .candidate import Candidate
from .config import AdvisorConfig
from .drops import DropVerdict, Verdict
from .names import TableName, is_expression, quote_ident
from .outcome import Outcome
from .plan import Plan
from .validation import Validation
from .workload import Query, Workload


@dataclass(frozen=True)
class QueryResult:
    """The verdict on one query of the workload, with its plans before and after."""

    query: Query
    outcome: Outcome
    reason: str
    cost_before: float | None = None
    cost_after: float | None = None
    indexes_used: tuple[str, ...] = ()
    plan_before: Plan | None = None  # with the existing indexes only
    plan_after: Plan | None = None  # with the recommended indexes; None when unchanged


@dataclass(frozen=True)
class WriteOverhead:
    """What keeping one index up to date costs, calls-weighted planner units, by cause
    (see selection/writes.py): its own entries for INSERT and UPDATE rows, the other indexes'
    entries and heap pages of UPDATEs it stops being HOT, VACUUM work for DELETEd rows."""

    inserts: float = 0.0
    updates: float = 0.0
    lost_hot: float = 0.0
    deletes: float = 0.0

    @property
    def total(self) -> float:
        return self.inserts + self.updates + self.lost_hot + self.deletes


@dataclass(frozen=True)
class Rival:
    """A candidate that could have taken a recommendation's place: what it would have saved
    on the queries the recommendation serves, in its place, and its size."""

    candidate: Candidate
    benefit: float  # calls-weighted saving in place of the recommendation (writes not counted)
    size_bytes: int
    write_overhead: float = 0.0


@dataclass(frozen=True)
class Recommendation:
    """An index to create, with what it costs and what it buys."""

    candidate: Candidate
    ddl: str
    size_bytes: int
    benefit: float  # reduction in calls-weighted workload cost, planner units
    write_overhead: float
    queries: tuple[str, ...] = ()  # fingerprints of queries whose plan uses it
    write_detail: WriteOverhead | None = None  # write_overhead by cause
    rivals: tuple[Rival, ...] = ()  # the best candidates it won over, best first


@dataclass(frozen=True)
class NotCosted:
    """An index proposed without a cost: HypoPG cannot simulate its access method (GIN).

    Never counted in a budget, a benefit or the workload cost; `ddl` builds it for real
    (preceded by CREATE EXTENSION when `extension` is not installed yet).
    """

    table: TableName
    column: str
    method: str
    opclass: str | None
    operators: tuple[str, ...]
    reason: str
    ddl: str
    queries: tuple[str, ...]  # fingerprints
    extension: str | None = None  # an extension the opclass needs that is not installed

    @property
    def label(self) -> str:
        key = self.column if is_expression(self.column) else quote_ident(self.column)
        opclass = f" {self.opclass}" if self.opclass else ""
        return f"{self.table} USING {self.method} ({key}{opclass})"


@dataclass(frozen=True)
class Bounds:
    """Workload cost (calls-weighted) of the baselines that run beside every selection."""

    no_index: float
    all_candidates: float
    all_candidates_bytes: int
    candidates: int


@dataclass(frozen=True)
class SelectionStep:
    """One accepted move of the selection: an index added (or a chosen one widened into it,
    `replaced`), removed by pruning (`extra_bytes` < 0), or swapped in for `replaced`.

    `cost_after` and `bytes_after` place the move on the cost-vs-bytes curve: the workload's
    calls-weighted read cost and the bytes of the chosen set once it is made."""

    added: Candidate
    replaced: Candidate | None
    gain: float  # net calls-weighted saving of the move (reads saved minus write cost)
    extra_bytes: int
    cost_after: float = 0.0
    bytes_after: int = 0


@dataclass(frozen=True)
class Counters:
    """How much work the run did."""

    whatif_calls: int  # EXPLAINs under hypothetical indexes
    cache_requests: int
    cache_hits: int
    elapsed_s: float
    derived: int = 0  # cost look-ups answered by derivation (a plan that left candidates unused)
    by_stage: tuple[tuple[str, int], ...] = ()  # EXPLAINs per pipeline stage
    sessions: int = 1  # HypoPG sessions that costed in parallel
    timed_out: bool = False  # the search stopped at the time limit


@dataclass(frozen=True)
class Advice:
    """Everything one run found; reports render it."""

    tool_version: str
    server_version: str
    server_version_num: int
    hypopg_version: str
    config: AdvisorConfig
    workload: Workload
    results: tuple[QueryResult, ...]
    recommendations: tuple[Recommendation, ...]
    bounds: Bounds
    selection_stop: str
    counters: Counters
    steps: tuple[SelectionStep, ...] = ()
    drops: tuple[DropVerdict, ...] = ()  # existing indexes to drop (or keep)
    not_costed: tuple[NotCosted, ...] = ()  # GIN proposals HypoPG cannot cost
    validation: Validation | None = None  # real builds and runs (advise --validate)

    @property
    def whatif_calls(self) -> int:
        return self.counters.whatif_calls

    @property
    def cache_requests(self) -> int:
        return self.counters.cache_requests

    @property
    def cache_hits(self) -> int:
        return self.counters.cache_hits

    @property
    def elapsed_s(self) -> float:
        return self.counters.elapsed_s

    @property
    def cost_before(self) -> float:
        return sum(r.query.calls * r.cost_before for r in self.results
                   if r.cost_before is not None and r.cost_after is not None)

    @property
    def cost_after(self) -> float:
        return sum(r.query.calls * r.cost_after for r in self.results
                   if r.cost_before is not None and r.cost_after is not None)

    @property
    def improvement_pct(self) -> float:
        before = self.cost_before
        return 0.0 if before <= 0 else 100.0 * (before - self.cost_after) / before

    @property
    def index_bytes(self) -> int:
        return sum(r.size_bytes for r in self.recommendations)

    @property
    def freed_bytes(self) -> int:
        """What the advised drops free."""
        return sum(d.candidate.size_bytes for d in self.drops if d.verdict is Verdict.DROP)
