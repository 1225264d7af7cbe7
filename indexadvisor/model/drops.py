"""Drop advice as values: existing indexes a database could lose, and the verdict on each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .candidate import Candidate
from .names import TableName


class DropReason(StrEnum):
    """Why an existing index could go."""

    INVALID = "invalid"
    DUPLICATE = "duplicate"
    PREFIX_REDUNDANT = "prefix_redundant"
    UNUSED = "unused"
    SUPERSEDED = "superseded"  # redundant once a recommended index exists


@dataclass(frozen=True)
class DropCandidate:
    """An existing index that could be dropped, with the evidence and the DDL."""

    index: str  # schema-qualified, quoted where needed
    table: TableName
    reason: DropReason
    detail: str  # a sentence a DBA can check
    size_bytes: int  # summed over the partitions for a partitioned index
    ddl: str
    oid: int | None = None
    hide_oids: tuple[int, ...] = ()  # what the planner sees: the index, or its partitions' ones
    kept_by: str | None = None  # the index that serves instead (duplicate, prefix, superseded)
    requires: tuple[Candidate, ...] = ()  # new indexes the drop assumes built (superseded)
    partitioned: bool = False
    schema: str = ""  # unquoted, as pg_catalog spells them
    name: str = ""
    columns: frozenset[str] = frozenset()  # every column it depends on (keys, expressions,
    #                                        INCLUDE, predicate): an UPDATE of one maintains it
    plan_names: frozenset[str] = frozenset()  # "Index Name"s a plan shows for it (partitions')


class Verdict(StrEnum):
    DROP = "drop"
    KEEP = "keep"  # the workload uses it: dropping it would make a query costlier


class DropMethod(StrEnum):
    """How a drop was simulated."""

    HIDE = "hypopg_hide_index"
    ROLLBACK = "drop_in_rolled_back_transaction"
    NONE = "none"


@dataclass(frozen=True)
class QueryChange:
    """One workload query's planner cost with the index and without it."""

    fingerprint: str
    text: str
    source: str
    calls: int
    before: float
    after: float

    @property
    def increase(self) -> float:
        """Relative cost increase without the index (0.4 = 40% more)."""
        return 0.0 if self.before <= 0 else (self.after - self.before) / self.before


@dataclass(frozen=True)
class DropVerdict:
    """A drop candidate after the what-if: drop it, or keep it because the workload needs it."""

    candidate: DropCandidate
    verdict: Verdict
    measured: bool
    cost_change: float | None  # calls-weighted planner cost added by the drop; None: unknown
    reason: str
    method: DropMethod = DropMethod.NONE
    changes: tuple[QueryChange, ...] = ()
    write_saving: float = 0.0  # calls-weighted maintenance the workload's writes stop paying
    queries: tuple[str, ...] = ()  # fingerprints of the queries that cost more without it
    #                                (not measured: whose current plans read it)
