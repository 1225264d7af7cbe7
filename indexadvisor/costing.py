"""What-if costs with a cache keyed by (query, the candidates relevant to it).

A query's cost under a configuration depends only on the candidates that can touch its plan,
so two configurations that agree on those share one EXPLAIN. The counters are reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .candidates import is_relevant
from .model import Candidate, Query, TableName
from .whatif import Plan, WhatIf


@dataclass(frozen=True)
class CostedQuery:
    """A query as costing sees it: what to EXPLAIN and which candidates can matter."""

    query: Query
    text: str
    param_count: int
    params: tuple[str | None, ...] | None
    leading: frozenset[tuple[TableName, str]]

    @property
    def key(self) -> str:
        return self.query.fingerprint

    @property
    def weight(self) -> int:
        return self.query.calls


@dataclass(frozen=True)
class Cost:
    """The planner's verdict on one query under one configuration."""

    cost: float
    used: frozenset[Candidate]  # hypothetical indexes the plan reads
    existing: tuple[str, ...]  # real indexes the plan reads
    rows_written: float = 0.0  # rows an INSERT/UPDATE/DELETE writes per execution


class CostModel(Protocol):
    def cost(self, query: CostedQuery, config: Iterable[Candidate]) -> Cost: ...


class CachedWhatIfCosts:
    """CostModel over a WhatIf session, with the relevant-subset cache and its counters."""

    def __init__(self, whatif: WhatIf) -> None:
        self.whatif = whatif
        self.requests = 0
        self.hits = 0
        self._cache: dict[tuple[str, frozenset[Candidate]], Cost] = {}

    def relevant(self, query: CostedQuery, config: Iterable[Candidate]) -> frozenset[Candidate]:
        return frozenset(c for c in config if is_relevant(c, query.leading))

    def cost(self, query: CostedQuery, config: Iterable[Candidate]) -> Cost:
        """Cost of `query` with `config` live; raises StatementNotCostable for a bad query."""
        subset = self.relevant(query, config)
        key = (query.key, subset)
        self.requests += 1
        found = self._cache.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.whatif.use(subset)
        plan = self.whatif.explain(query.text, query.params, query.param_count)
        result = self._result(plan)
        self._cache[key] = result
        return result

    def _result(self, plan: Plan) -> Cost:
        used = set()
        existing = []
        for name in plan.index_names:
            cand = self.whatif.candidate_for(name)
            if cand is not None:
                used.add(cand)
            else:
                existing.append(name)
        return Cost(plan.cost, frozenset(used), tuple(sorted(set(existing))), plan.modified_rows)

    @property
    def explain_calls(self) -> int:
        return self.whatif.explain_calls
