"""Stage 4, the candidate pool: the candidates some costable query can use (not only the
query that proposed them), their sizes, and what each costs to keep up under the workload's
writes (the workload's own, else the tables' write counters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from ..candidates.sizes import candidate_btree_size
from ..catalog import Catalog
from ..explain.hypo import HypoSession
from ..model import AdvisorConfig, Candidate, TableName, Workload, WriteOverhead, is_relevant
from ..selection.writes import WriteLoad, counter_loads, table_writes, write_overhead
from .baseline import Baseline
from .proposals import Proposals


@dataclass(frozen=True)
class Pool:
    """What the selection chooses from."""

    candidates: tuple[Candidate, ...]
    sizes: Mapping[Candidate, int]
    writes: Mapping[Candidate, WriteOverhead]  # maintenance cost, by cause
    loads: tuple[WriteLoad, ...]  # the write load it was priced with

    @cached_property
    def write_cost(self) -> dict[Candidate, float]:
        return {c: detail.total for c, detail in self.writes.items()}


def build_pool(proposals: Proposals, baseline: Baseline, catalog: Catalog,
               session: HypoSession, config: AdvisorConfig, workload: Workload, *,
               sandbox: bool) -> Pool:
    """Relevant candidates, sized (our btree model, else HypoPG's estimate) and priced."""
    leads = frozenset(lead for item in baseline.reads for lead in item.costed.leading)
    candidates = [c for c in proposals.candidates if is_relevant(c, leads)]
    sizes = {c: candidate_btree_size(c, catalog, proposals.fractions.get(c, 1.0))
             or session.size(c) for c in candidates}
    loads = list(baseline.loads)
    if not sandbox:  # a sandbox's counters only count our own data load
        loads += counter_loads(catalog, loads, config.counter_weight, workload)
    parents = {name: table.parent for name, table in catalog.tables.items()
               if table.parent is not None}
    tables = table_writes(catalog)
    on = loads_by_table(loads, parents)
    writes = {c: write_overhead(c, on.get(c.table, ()), tables, parents,
                                share=proposals.fractions.get(c, 1.0)) for c in candidates}
    return Pool(tuple(candidates), sizes, writes, tuple(loads))


def loads_by_table(loads: Sequence[WriteLoad], parents: Mapping[TableName, TableName],
                   ) -> dict[TableName, list[WriteLoad]]:
    """The write loads an index on each table pays for: the table's own, and a partition's
    for its parent (thousands of candidates each read only their table's few)."""
    out: dict[TableName, list[WriteLoad]] = {}
    for load in loads:
        out.setdefault(load.table, []).append(load)
        parent = parents.get(load.table)
        if parent is not None and parent != load.table:
            out.setdefault(parent, []).append(load)
    return out


def extend_pool(pool: Pool, extra: list[Candidate], catalog: Catalog,
                session: HypoSession) -> Pool:
    """The pool with `extra` candidates (made after the search: merged covering variants)
    sized and priced like the others (whole-table ones: no partial share)."""
    fresh = [c for c in extra if c not in pool.sizes]
    if not fresh:
        return pool
    parents = {name: table.parent for name, table in catalog.tables.items()
               if table.parent is not None}
    tables = table_writes(catalog)
    sizes = {**pool.sizes, **{c: candidate_btree_size(c, catalog) or session.size(c)
                              for c in fresh}}
    writes = {**pool.writes, **{c: write_overhead(c, pool.loads, tables, parents)
                                for c in fresh}}
    return Pool((*pool.candidates, *fresh), sizes, writes, pool.loads)
