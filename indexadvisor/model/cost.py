"""What costing works with: a query ready to EXPLAIN, its cost under a configuration, and the
protocol every selection algorithm costs through.

A *configuration* is a set of candidate indexes assumed built (hypothetical).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .candidate import Candidate
from .names import TableName
from .workload import Query


@dataclass(frozen=True)
class CostedQuery:
    """A query as costing sees it: what to EXPLAIN and which candidates can matter."""

    query: Query
    text: str
    param_count: int
    params: tuple[str | None, ...] | None
    leading: frozenset[tuple[TableName, str]]  # keys it filters, joins, sorts or groups on
    # the tables (with their partition trees) whose indexes its plan can read; empty: unknown
    scope: frozenset[TableName] = frozenset()

    @property
    def key(self) -> str:
        return self.query.fingerprint

    @property
    def weight(self) -> int:
        return self.query.calls


def is_relevant(candidate: Candidate, leading: frozenset[tuple[TableName, str]]) -> bool:
    """Whether a candidate can change a query's plan: its first key column is one the query
    filters, joins, sorts or groups on.

    >>> t = TableName("public", "orders")
    >>> is_relevant(Candidate(t, ("customer_id", "id")), frozenset({(t, "customer_id")}))
    True
    """
    return candidate.lead in leading


@dataclass(frozen=True)
class Cost:
    """The planner's verdict on one query under one configuration."""

    cost: float
    used: frozenset[Candidate]  # hypothetical indexes the plan reads
    existing: tuple[str, ...]  # real indexes the plan reads
    rows_written: float = 0.0  # rows an INSERT/UPDATE/DELETE writes per execution


class CostModel(Protocol):
    """What a selection algorithm needs: a query's cost under a configuration."""

    def cost(self, query: CostedQuery, configuration: Iterable[Candidate]) -> Cost: ...
