"""For a regression: the index that would bring the statement's cost back, found with HypoPG.

The advisor's own candidate generation (`pipeline.analysis` and `pipeline.proposals`: btree
keys, covering and partial twins, BRIN, hash) proposes indexes for the one statement against
the catalog after the migration; beside them, the indexes the migration dropped that the
statement read before. Each is planned as a hypothetical index on top of the migration's own;
of those that bring the cost back within the statement's `cost-increase` of the baseline, the
narrowest wins (the cheapest plan among equals); when none does, the one that lowers the cost
most is named as a partial fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..candidates.ddl import create_index_ddl
from ..catalog import Catalog
from ..explain.errors import CandidateRefused, StatementNotCostable
from ..explain.hypo import HypoSession
from ..model import AdvisorConfig, Candidate
from ..pipeline.analysis import Analyzed, analyze_query
from ..pipeline.proposals import propose
from ..sql.ddl import check_roundtrip
from .rules import DroppedIndex
from .watch import Watched

_FIX_NAME = "indexadvisor fix"


@dataclass(frozen=True)
class Fix:
    """An index to create, as DDL, and the statement's cost with it."""

    ddl: str
    cost: float
    complete: bool  # brings the cost back within the allowed increase


def _concurrently(definition: str) -> str:
    """pg_get_indexdef's CREATE INDEX as CREATE INDEX CONCURRENTLY.

    >>> _concurrently("CREATE UNIQUE INDEX a ON public.t USING btree (x)")
    'CREATE UNIQUE INDEX CONCURRENTLY a ON public.t USING btree (x);'
    """
    return check_roundtrip(re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX CONCURRENTLY ",
                                  definition, count=1) + ";")


def _candidates(watched: Watched, catalog: Catalog) -> list[Candidate]:
    from ..analyze import SchemaMap

    schema = SchemaMap(tables=catalog.schema_columns, search_path=catalog.search_path)
    problem, item = analyze_query(watched.query, schema, catalog)
    if problem is not None or item is None:
        return []
    analyzed = Analyzed((item,), (), {}, schema)
    proposals = propose(analyzed, catalog, AdvisorConfig())
    return list(proposals.fresh.get(item.key, ()))


def find_fix(session: HypoSession, watched: Watched, baseline_cost: float, allowed: float,
             catalog: Catalog, dropped: Sequence[DroppedIndex]) -> Fix | None:
    """The index that brings `watched` back to `baseline_cost` (x (1 + allowed)), or the
    best partial fix; None when no candidate lowers its cost."""
    try:
        current = session.explain(watched.text, watched.params or None, watched.param_count).cost
    except StatementNotCostable:
        return None
    tried: list[tuple[float, int, str]] = []
    for gone in dropped:
        if not gone.definition:
            continue
        try:
            session.pin(gone.definition, _FIX_NAME)
        except StatementNotCostable:
            continue
        try:
            cost = session.explain(watched.text, watched.params or None,
                                   watched.param_count).cost
            tried.append((cost, gone.definition.count(",") + 1, _concurrently(gone.definition)))
        except StatementNotCostable:
            pass
        finally:
            session.unpin(_FIX_NAME)
    for cand in _candidates(watched, catalog):
        try:
            session.use([cand])
            cost = session.explain(watched.text, watched.params or None,
                                   watched.param_count).cost
        except (CandidateRefused, StatementNotCostable):
            continue
        tried.append((cost, len(cand.columns) + len(cand.include),
                      create_index_ddl(cand, catalog)))
    session.use([])
    target = baseline_cost * (1 + allowed)
    enough = [(width, cost, ddl) for cost, width, ddl in tried if cost <= target]
    if enough:  # the narrowest index that is enough, the cheapest plan among those
        _, cost, ddl = min(enough)
        return Fix(ddl, cost, True)
    better = [t for t in tried if t[0] < current * 0.999]
    if not better:
        return None
    cost, _, ddl = min(better)
    return Fix(ddl, cost, False)
