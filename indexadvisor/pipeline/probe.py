"""Stage 4b, probes: which candidates each query's planner actually picks.

Each query is EXPLAINed with every candidate relevant to it live; what that plan reads is
kept, taken out, and the query EXPLAINed again with the rest, `PROBE_ROUNDS` rounds: the
candidates a query's best plans use, and the runners-up a budget may leave it with. The first
round's cost is the query's floor (the bound of the `SearchSpace`). A query whose cheaper plan
names no candidate at all (a generic plan whose partitions are pruned at executor startup) is
left unprobed: it is costed against every candidate relevant to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..explain.costs import CachedCosts
from ..model import Candidate, CostedQuery
from ..selection import SearchSpace

PROBE_ROUNDS = 3
CHUNK_PER_SESSION = 8  # queries probed between two looks at the clock, per session


def probe(queries: Sequence[CostedQuery], candidates: Sequence[Candidate], costs: CachedCosts,
          base: Mapping[str, float], *, rounds: int = PROBE_ROUNDS,
          out_of_time: Callable[[], bool] = lambda: False,
          must_stop: Callable[[], bool] = lambda: False) -> SearchSpace:
    """The search space of `queries` over `candidates`, narrowed by probing. Rounds after
    the first stop once `out_of_time()`; the first one once `must_stop()` (the queries it
    did not reach are costed against every candidate relevant to them)."""
    full = SearchSpace.build(queries, candidates)
    mine: dict[str, set[Candidate]] = {q.key: set() for q in queries}
    for cand, relevant in full.relevant.items():
        for q in relevant:
            mine[q.key].add(cand)
    kept: dict[str, frozenset[Candidate]] = {}
    floor: dict[str, float] = {}
    best_used: dict[str, frozenset[Candidate]] = {}
    left = {q.key: frozenset(mine[q.key]) for q in queries}
    open_queries = [q for q in queries if left[q.key]]
    for n in range(rounds):
        if n > 0 and out_of_time():
            break
        still = []
        chunk = CHUNK_PER_SESSION * costs.parallelism
        for at, q in enumerate(open_queries):
            if at % chunk == 0:
                if n == 0 and at > 0 and must_stop():
                    break
                costs.prefetch((x, left[x.key]) for x in open_queries[at:at + chunk])
            cost = costs.cost(q, left[q.key])
            used = cost.used & left[q.key]
            if n == 0:
                floor[q.key] = cost.cost
                best_used[q.key] = used
                if not used and cost.cost < base[q.key] * (1 - 1e-9):
                    continue  # cheaper, but the plan names no candidate: not probed
                kept[q.key] = frozenset()
            if not used:
                continue
            kept[q.key] |= used
            left[q.key] = left[q.key] - used
            if left[q.key]:
                still.append(q)
        open_queries = still
    for q in queries:  # nothing relevant: nothing to cost it against
        if not mine[q.key]:
            kept[q.key] = frozenset()
    return SearchSpace.build(queries, candidates, kept=kept, floor=floor, best_used=best_used)
