"""What a search looks at: for each candidate, the queries a move with it is costed against,
and for each query a floor under its cost.

Relevance (`model.is_relevant`) says which queries a candidate *can* change: its leading key
is one they filter, join, sort or group on. A search that costs every such pair spends most
of its EXPLAINs on candidates a query's planner never picks. Probing narrows it the way
AutoAdmin-style advisors do: EXPLAIN each query once with all of its relevant candidates live,
keep what that plan reads, take those out and EXPLAIN again, a few rounds (`pipeline.probe`):
a query is then costed only against the candidates one of its probes used (its best plan, and
the next best ones without them), and against those that serve every lookup one of them
serves (`Candidate.is_prefix_of`: a wider key or more INCLUDE columns) when that makes two
queries or more: an index no query's planner picks can still be the one that serves several
of them (covering variants merged, a key shared by queries that each prefer a narrower one),
while for one query alone what its planner picked serves it as well, in fewer bytes.

The probes' first round is also the query's floor: with the planner choosing the cheapest
plan among the indexes it is offered, no configuration of these candidates costs less, so a
move's gain on a query is at most ``current - floor`` (the search's upper bounds).

>>> from indexadvisor.model import Candidate, CostedQuery, Query, TableName
>>> t = TableName("public", "t")
>>> a, b = Candidate(t, ("a",)), Candidate(t, ("b",))
>>> def q(key, *cols):
...     return CostedQuery(Query(key, key, ("t",), 1, None, ()), key, 0, None,
...                        frozenset((t, c) for c in cols))
>>> q1, q2 = q("q1", "a", "b"), q("q2", "b")
>>> space = SearchSpace.build([q1, q2], [a, b], kept={"q1": frozenset({a})})
>>> [x.key for x in space.evaluated[a]], [x.key for x in space.evaluated[b]]
(['q1'], ['q2'])
>>> [x.key for x in space.relevant[b]]
['q1', 'q2']
>>> ab, q3 = Candidate(t, ("a",), ("b",)), q("q3", "a")  # `ab` serves what `a` serves
>>> kept = {"q1": frozenset({a}), "q3": frozenset({a})}
>>> [x.key for x in SearchSpace.build([q1, q3], [a, ab], kept=kept).evaluated[ab]]
['q1', 'q3']
>>> SearchSpace.build([q1], [a, ab], kept={"q1": frozenset({a})}).evaluated[ab]
()
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..model import Candidate, CostedQuery, TableName


def by_leading_key(queries: Sequence[CostedQuery]
                   ) -> dict[tuple[TableName, str], list[CostedQuery]]:
    """Queries by the (table, key) pairs they lead with, in workload order."""
    index: dict[tuple[TableName, str], list[CostedQuery]] = defaultdict(list)
    for q in queries:
        for lead in q.leading:
            index[lead].append(q)
    return index


@dataclass(frozen=True)
class SearchSpace:
    """For each candidate, the queries it is relevant to and those a move with it is costed
    against; for some queries a floor under their cost."""

    relevant: Mapping[Candidate, tuple[CostedQuery, ...]]
    evaluated: Mapping[Candidate, tuple[CostedQuery, ...]]
    floor: Mapping[str, float] = field(default_factory=dict)  # query key -> lowest cost
    kept: Mapping[str, frozenset[Candidate]] = field(default_factory=dict)
    # query key -> what its cheapest probe plan read (every candidate live): a guess of the
    # best set that costs no EXPLAIN, for a search cut short by its time limit
    best_used: Mapping[str, frozenset[Candidate]] = field(default_factory=dict)

    @classmethod
    def build(cls, queries: Sequence[CostedQuery], candidates: Sequence[Candidate], *,
              kept: Mapping[str, frozenset[Candidate]] | None = None,
              floor: Mapping[str, float] | None = None,
              best_used: Mapping[str, frozenset[Candidate]] | None = None) -> SearchSpace:
        """`kept`: query key -> the candidates its probes used (a query not in it is costed
        against every candidate relevant to it)."""
        index = by_leading_key(queries)
        kept = kept or {}
        relevant: dict[Candidate, tuple[CostedQuery, ...]] = {}
        evaluated: dict[Candidate, tuple[CostedQuery, ...]] = {}
        kept_by_lead: dict[tuple[str, tuple[TableName, str]], list[Candidate]] = {}
        for key, used in kept.items():  # a prefix has the same leading key
            for x in used:
                kept_by_lead.setdefault((key, x.lead), []).append(x)
        for cand in candidates:
            mine = tuple(index.get(cand.lead, ()))
            relevant[cand] = mine
            own = {q.key for q in mine if q.key not in kept or cand in kept[q.key]}
            wider = {q.key for q in mine if q.key not in own
                     and any(x.is_prefix_of(cand)
                             for x in kept_by_lead.get((q.key, cand.lead), ()))}
            if wider and len(own) + len(wider) >= 2:
                own |= wider
            evaluated[cand] = tuple(q for q in mine if q.key in own)
        return cls(relevant, evaluated, dict(floor or {}), dict(kept), dict(best_used or {}))

    def candidates(self) -> list[Candidate]:
        """The candidates some query is costed against."""
        return [c for c, qs in self.evaluated.items() if qs]
