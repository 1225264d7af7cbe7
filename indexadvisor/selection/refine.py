"""After the greedy pass: prune what later picks made redundant, swap a chosen index for a
better one left out, and place those moves on the cost-vs-bytes curve.

All three keep the workload's cost up to date for the queries a move touches only
(`Tally`): a pass over every query per move costs O(queries x chosen) relevance tests, minutes
on a workload of thousands of statements.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..model import Candidate, CostedQuery, CostModel, SelectionStep, TableName
from .limits import Limits

SWAP_POOL = 12  # candidates left out that a swap may bring in: the best by gain per byte,
SWAP_POOL_MIN = 4  # at least this many, and beyond it only while they touch at most
SWAP_QUERIES = 120  # this many queries between them (a wide join touched by many indexes
# makes every pair of a round an EXPLAIN: on the analytic benchmark the 5th to 12th of the
# pool cost 960 EXPLAINs and never won a swap; on lookups a pair is a few)
SWAP_ROUNDS = 4
SWAP_PREFETCH = 4  # swap pairs costed ahead at once on parallel sessions

Affects = Mapping[Candidate, Sequence[CostedQuery]]
GainBound = Callable[[Candidate, frozenset[Candidate], Candidate], float]


class Tally:
    """The workload's calls-weighted cost under a configuration, moved one step at a time."""

    def __init__(self, queries: Sequence[CostedQuery], costs: CostModel,
                 current: Mapping[str, float]) -> None:
        self.costs = costs
        self.weights = {q.key: q.weight for q in queries}
        self.current = dict(current)
        self.total = sum(q.weight * self.current[q.key] for q in queries)

    def move(self, configuration: Sequence[Candidate] | Narrow,
             touched: Sequence[CostedQuery]) -> float:
        """The total once `configuration` is live; only `touched` queries can change."""
        live = configuration if isinstance(configuration, Narrow) else Narrow(configuration)
        for q in touched:
            cost = self.costs.cost(q, live.of(q)).cost
            self.total += self.weights[q.key] * (cost - self.current[q.key])
            self.current[q.key] = cost
        return self.total


class Narrow:
    """A configuration indexed by leading key: the part of it that can change a query's plan
    (`model.is_relevant`), in the time of the query's keys rather than of the configuration's
    size. What a cost model is asked about is then small, and the same look-up: a cost model
    narrows every configuration to the part relevant to the query anyway (a search over
    thousands of statements with hundreds of chosen indexes asks millions of times)."""

    def __init__(self, configuration: Iterable[Candidate]) -> None:
        self.by_lead: dict[tuple[TableName, str], list[Candidate]] = {}
        for cand in configuration:
            self.add(cand)

    def add(self, cand: Candidate) -> None:
        self.by_lead.setdefault(cand.lead, []).append(cand)

    def remove(self, cand: Candidate) -> None:
        self.by_lead[cand.lead].remove(cand)

    def of(self, query: CostedQuery, minus: Candidate | None = None,
           plus: Candidate | None = None) -> frozenset[Candidate]:
        """The configuration's part relevant to `query`, without `minus`, with `plus`."""
        out = {c for lead in query.leading for c in self.by_lead.get(lead, ())}
        if minus is not None:
            out.discard(minus)
        if plus is not None and plus.lead in query.leading:
            out.add(plus)
        return frozenset(out)


def touched_by(affects: Affects, cands: Sequence[Candidate]) -> list[CostedQuery]:
    """The queries any of `cands` is relevant to, each once, in a stable order."""
    return list({q.key: q for c in cands for q in affects[c]}.values())


class Curve:
    """Places the pruning and swap moves on the cost-vs-bytes curve."""

    def __init__(self, tally: Tally, sizes: Mapping[Candidate, int], affects: Affects) -> None:
        self.tally, self.sizes, self.affects = tally, sizes, affects

    def _point(self, configuration: Sequence[Candidate], touched: Sequence[Candidate],
               ) -> tuple[float, int]:
        cost = self.tally.move(configuration, touched_by(self.affects, touched))
        return cost, sum(self.sizes[c] for c in configuration)

    def removals(self, chosen: Sequence[Candidate],
                 removed: Sequence[Candidate]) -> list[SelectionStep]:
        out = []
        left = list(chosen)
        for cand in removed:
            left.remove(cand)
            out.append(SelectionStep(cand, None, 0.0, -self.sizes[cand],
                                     *self._point(left, [cand])))
        return out

    def swaps(self, chosen: Sequence[Candidate],
              moves: Sequence[SelectionStep]) -> list[SelectionStep]:
        out = []
        now = list(chosen)
        for step in moves:
            now = [step.added if c == step.replaced else c for c in now]
            touched = [step.added] + ([step.replaced] if step.replaced is not None else [])
            out.append(SelectionStep(step.added, step.replaced, step.gain, step.extra_bytes,
                                     *self._point(now, touched)))
        return out


def swap_pool(left_out: Sequence[Candidate], affects: Affects) -> list[Candidate]:
    """The candidates a swap may bring in: `left_out` in its order (best first), SWAP_POOL at
    most, and past SWAP_POOL_MIN only while they touch SWAP_QUERIES queries or fewer.

    >>> from indexadvisor.model import TableName
    >>> cands = [Candidate(TableName("s", "t"), (c,)) for c in "abcdefgh"]
    >>> wide = {c: [None] * 50 for c in cands}
    >>> len(swap_pool(cands, wide)), len(swap_pool(cands, {c: [None] for c in cands}))
    (4, 8)
    """
    pool: list[Candidate] = []
    touched = 0
    for cand in left_out[:SWAP_POOL]:
        touched += len(affects.get(cand, ()))
        if len(pool) >= SWAP_POOL_MIN and touched > SWAP_QUERIES:
            break
        pool.append(cand)
    return pool


def swap(chosen: list[Candidate], pool: Sequence[Candidate], sizes: Mapping[Candidate, int],
         costs: CostModel, affects: Affects, write: Mapping[Candidate, float], limits: Limits,
         tally: Tally, out_of_time: Callable[[], bool],
         gain_bound: GainBound = lambda _c, _s, _o: math.inf) -> list[SelectionStep]:
    """Local improvement after the greedy pass: replace one chosen index by one of the best
    candidates left out (often one the budget blocked, or one whose worth only showed once
    others were in), whenever the workload, net of write costs, gets cheaper within the
    budget. Best swap per round, at most SWAP_ROUNDS rounds. Mutates `chosen`.

    Lazily: a swap's delta is what `inn` gains beside the others less what losing `out`
    costs (`loss`, known for every chosen index first). `gain_bound(inn, chosen, out)` bounds
    the first (the greedy's own costing of `inn` beside a subset of `others`: gains only shrink
    as indexes are added, the greedy's lazy evaluation assumes as much), so pairs are
    costed best bound first, until no bound left can beat the best delta found."""
    steps: list[SelectionStep] = []
    prefetch = getattr(costs, "prefetch", None)
    for _ in range(SWAP_ROUNDS):
        if out_of_time():
            break
        used = sum(sizes[c] for c in chosen)
        rate = limits.rate(tally.total)
        live = set(chosen)
        pairs = [(out, inn) for out in chosen for inn in pool
                 if inn not in live and (limits.budget_bytes is None
                                           or used - sizes[out] + sizes[inn]
                                           <= limits.budget_bytes)]
        loss = _losses(chosen, affects, costs, tally.current)
        now = frozenset(chosen)
        narrow = Narrow(chosen)
        bounds = {}
        for out, inn in pairs:
            bounds[out, inn] = (gain_bound(inn, now, out) - loss[out] - write.get(inn, 0.0)
                                + write.get(out, 0.0) - rate * (sizes[inn] - sizes[out]))
        pairs = sorted((p for p in pairs if bounds[p] > 0), key=lambda p: -bounds[p])
        best: tuple[float, Candidate, Candidate] | None = None
        # a pair whose two indexes share no query moves each query as one of them alone
        # does: its delta is `loss` and `gain` (what `inn` gains beside all chosen), found
        # once per candidate (thousands of chosen lookups make millions of such pairs)
        keys = {c: {q.key for q in affects[c]} for c in {c for pair in pairs for c in pair}}
        weighed = {c: sum(q.weight * tally.current[q.key] for q in affects[c]) for c in keys}
        gain: dict[Candidate, float] = {}
        for n, (out, inn) in enumerate(pairs):
            if (best is not None and bounds[out, inn] <= best[0]) or out_of_time():
                break
            if keys[out].isdisjoint(keys[inn]):
                if inn not in gain:
                    gain[inn] = sum(q.weight * (tally.current[q.key]
                                                - costs.cost(q, narrow.of(q, None, inn)).cost)
                                    for q in affects[inn])
                before = weighed[out] + weighed[inn]
                delta = gain[inn] - loss[out] - write.get(inn, 0.0) + write.get(out, 0.0)
                delta -= rate * (sizes[inn] - sizes[out])
                if delta > limits.min_gain * before and (best is None or delta > best[0]):
                    best = (delta, out, inn)
                continue
            if prefetch is not None and n % SWAP_PREFETCH == 0:
                ahead = pairs[n:n + SWAP_PREFETCH]
                prefetch((q, narrow.of(q, o, i))
                         for o, i in ahead for q in touched_by(affects, [o, i]))
            touched = touched_by(affects, [out, inn])
            before = sum(q.weight * tally.current[q.key] for q in touched)  # under `chosen`
            after = sum(q.weight * costs.cost(q, narrow.of(q, out, inn)).cost for q in touched)
            delta = before - after - write.get(inn, 0.0) + write.get(out, 0.0)
            delta -= rate * (sizes[inn] - sizes[out])  # the bytes' worth (the knee)
            if delta > limits.min_gain * before and (best is None or delta > best[0]):
                best = (delta, out, inn)
        if best is None:
            break
        delta, out, inn = best
        chosen[chosen.index(out)] = inn
        tally.move(chosen, touched_by(affects, [out, inn]))
        steps.append(SelectionStep(inn, out, delta, sizes[inn] - sizes[out]))
    return steps


def prune(chosen: list[Candidate], affects: Affects, costs: CostModel,
          write: Mapping[Candidate, float], limits: Limits, sizes: Mapping[Candidate, int],
          tally: Tally, out_of_time: Callable[[], bool]) -> list[Candidate]:
    """Drop, one at a time, chosen indexes that later picks made redundant: an index stays
    only while the workload, with everything else chosen, still gains from it more than its
    write cost and `min_gain` of what its queries cost, and (the knee rule) what its bytes
    must earn. Returns the dropped ones; `tally` follows `chosen`."""
    dropped: list[Candidate] = []
    prefetch = getattr(costs, "prefetch", None)
    known: dict[Candidate, tuple[float, float]] = {}  # (gain, touched) beside the others
    while chosen and not out_of_time():
        rate = limits.rate(tally.total)
        narrow = Narrow(chosen)
        fresh = [cand for cand in chosen if cand not in known]
        if prefetch is not None:
            prefetch((q, narrow.of(q, cand)) for cand in fresh for q in affects[cand])
        for cand in fresh:
            gain = touched = 0.0
            for q in affects[cand]:
                with_it = tally.current[q.key]  # the tally follows `chosen`
                without = costs.cost(q, narrow.of(q, cand)).cost
                gain += q.weight * (without - with_it)
                if without != with_it:
                    touched += q.weight * without
            known[cand] = (gain, touched)
        worst: tuple[float, Candidate] | None = None
        for cand in chosen:
            gain, touched = known[cand]
            net = gain - write.get(cand, 0.0)
            worth = rate * sizes[cand]
            if ((net <= limits.min_gain * touched or net < worth)
                    and (worst is None or net - worth < worst[0])):
                worst = (net - worth, cand)
        if worst is None:
            break
        gone = worst[1]
        chosen.remove(gone)
        tally.move(chosen, affects[gone])
        dropped.append(gone)
        # only an index sharing a query with the one dropped can be worth more now
        hit = {q.key for q in affects[gone]}
        for cand in list(known):
            if cand == gone or any(q.key in hit for q in affects[cand]):
                del known[cand]
    return dropped


def _losses(chosen: Sequence[Candidate], affects: Affects, costs: CostModel,
            current: Mapping[str, float]) -> dict[Candidate, float]:
    """What the workload loses when each chosen index goes (the others kept; `current`:
    each query's cost with all of them)."""
    prefetch = getattr(costs, "prefetch", None)
    narrow = Narrow(chosen)
    if prefetch is not None:
        prefetch((q, narrow.of(q, cand)) for cand in chosen for q in affects[cand])
    loss = {}
    for cand in chosen:
        loss[cand] = sum(q.weight * (costs.cost(q, narrow.of(q, cand)).cost
                                     - current[q.key])
                         for q in affects[cand])
    return loss
