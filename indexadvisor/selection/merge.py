"""Covering variants of one key, merged into one index after the search.

Covering candidates are made per query: a key plus the other columns *that* query reads, so a
workload whose queries read different columns through one key offers several variants, and a
search can choose more than one, each with its own copy of the key (on a 99-query analytic
workload: five indexes led by ``store_sales(ss_sold_date_sk)``, 870 MB of a 2 GB budget). After
the search, the chosen variants of one key (same table, key columns and orders, predicate and
method) are replaced by a single index that INCLUDEs the union of their columns, when it is
smaller than they are together and the workload loses no more by it (reads and writes) than
the bytes it frees are worth: the knee's price per byte, or with the knee off
`MERGE_TOLERANCE` of what the affected queries cost (the same plans, give or take a wider
index's pages). Where one variant's columns hold another's, the union is that wider variant:
the narrower gives way.

>>> from indexadvisor.model import TableName
>>> t = TableName("public", "sales")
>>> groups = covering_groups([Candidate(t, ("d",), ("a",)), Candidate(t, ("d",), ("b",)),
...                           Candidate(t, ("d",)), Candidate(t, ("e",), ("a",))])
>>> [(union_of(g).label, len(g)) for g in groups]
[('public.sales(d) INCLUDE (a, b)', 2)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..model import Candidate, CostedQuery, CostModel, is_relevant

MERGE_TOLERANCE = 0.001


@dataclass(frozen=True)
class Merge:
    """One merge: `merged` stands in for the chosen variants `replaced`."""

    merged: Candidate
    replaced: tuple[Candidate, ...]
    loss: float  # calls-weighted cost it adds (reads and writes; negative: it saves)
    freed_bytes: int


def covering_groups(chosen: Sequence[Candidate]) -> list[list[Candidate]]:
    """Chosen covering variants sharing a key, two or more per group, sorted."""
    groups: dict[tuple[object, ...], list[Candidate]] = defaultdict(list)
    for cand in chosen:
        if cand.include:
            groups[(cand.table, cand.columns, cand.order, cand.where or "", cand.method)].append(
                cand)
    return [sorted(g) for _, g in sorted(groups.items(), key=lambda kv: min(kv[1]))
            if len(g) > 1]


def union_of(variants: Sequence[Candidate]) -> Candidate:
    """One index with every column the variants INCLUDE (sorted, as covering candidates are)."""
    first = variants[0]
    columns = set().union(*(set(v.include) for v in variants)) - set(first.columns)
    return replace(first, include=tuple(sorted(columns)))


def merge_covering(chosen: Sequence[Candidate], queries: Sequence[CostedQuery],
                   costs: CostModel, size_of: Callable[[Candidate], int],
                   write_of: Callable[[Candidate], float], rate: float,
                   ) -> tuple[list[Candidate], list[Merge]]:
    """The chosen set with overlapping covering variants merged, and the merges made (in
    order). `rate` is the knee's price per byte (0: the knee is off)."""
    current = list(chosen)
    merges: list[Merge] = []
    for variants in covering_groups(current):
        union = union_of(variants)
        proposed = [union if c == variants[0] else c for c in current if c not in variants[1:]]
        touched = [q for q in queries if is_relevant(union, q.leading)]
        now, then = frozenset(current), frozenset(proposed)
        before = sum(q.weight * costs.cost(q, now).cost for q in touched)
        after = sum(q.weight * costs.cost(q, then).cost for q in touched)
        kept = set(proposed)
        writes = (sum(write_of(c) for c in kept - set(current))
                  - sum(write_of(c) for c in set(current) - kept))
        freed = (sum(size_of(c) for c in set(current) - kept)
                 - sum(size_of(c) for c in kept - set(current)))
        loss = after - before + writes
        if freed > 0 and loss <= max(rate * freed, MERGE_TOLERANCE * before):
            merges.append(Merge(union, tuple(variants), loss, freed))
            current = proposed
    return current, merges
