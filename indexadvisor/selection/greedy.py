"""Workload-level greedy selection by benefit per byte, with widening moves.

Each step weighs every move against the whole workload (calls-weighted planner cost):
- add a candidate;
- widen a chosen index into a candidate it is a prefix of (pay only the extra bytes).
The move with the best net gain per byte that fits the budget and the index count wins; the
search stops when no move gains at least `min_gain` of what the queries whose cost it changes
cost (not of every query it could touch: one huge query must not mask small wins).
This is the "Extend" idea of the index-selection literature, fed by candidates of any width.

A budget is a ceiling, not a target: a move must also earn its bytes against the whole
workload, its gain per byte at least `Limits.rate` of what the workload costs at that point
(the knee rule, `knee`). The search takes moves in falling gain per byte, so the first move
below that rate ends it: the knee of the cost-vs-bytes curve, where more bytes buy little.
Pruning keeps an index only while
it still earns its bytes beside the others, swaps pay for the bytes they add, and covering
variants of one key are merged afterwards where the bytes saved were not earning their keep
(`merge`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..model import Candidate, CostedQuery, CostModel, SelectionStep, is_relevant
from .knee import Knee

SWAP_POOL = 12  # candidates left out that a swap may bring in: the best by gain per byte
SWAP_ROUNDS = 4


@dataclass(frozen=True)
class Selection:
    """The chosen configuration and how the search got there."""

    chosen: tuple[Candidate, ...]
    steps: tuple[SelectionStep, ...]
    costs: Mapping[str, float]  # query key -> cost under `chosen`
    stop_reason: str
    rejected_write: frozenset[Candidate] = frozenset()  # reads gain, writes lose more


@dataclass(frozen=True)
class Limits:
    budget_bytes: int | None = None
    max_indexes: int | None = None
    min_gain: float = 0.01  # fraction of the affected queries' current weighted cost
    write_cost: Mapping[Candidate, float] | None = None  # weighted maintenance cost per index
    knee: Knee | None = None  # what a byte of index must earn; None fills the budget

    def rate(self, workload_cost: float) -> float:
        """The least net gain (calls-weighted planner units) a byte of index must buy while
        the workload costs `workload_cost`; 0 without a knee."""
        return self.knee.rate(workload_cost) if self.knee is not None else 0.0


def greedy(queries: Sequence[CostedQuery], candidates: Sequence[Candidate],
           sizes: Mapping[Candidate, int], costs: CostModel, limits: Limits) -> Selection:
    """Pick indexes step by step; every query's cost comes from `costs` (the planner).

    Lazy evaluation (as in CELF): a move's gain per byte rarely grows as indexes are chosen,
    so each step re-costs candidates in order of their last known ratio and stops as soon as
    the best fresh ratio beats every stale one. The exception is widening: choosing an index
    turns every candidate it is a prefix of into a cheaper move, so those are re-costed.
    """
    write = limits.write_cost or {}
    affects = {c: [q for q in queries if is_relevant(c, q.leading)] for c in candidates}
    chosen: list[Candidate] = []
    current = {q.key: costs.cost(q, ()).cost for q in queries}
    used_bytes = 0
    steps: list[SelectionStep] = []
    write_losers: set[Candidate] = set()
    stale: dict[Candidate, float] = {c: math.inf for c in candidates if affects[c]}
    blocked: set[Candidate] = set()  # would gain, but over the budget or the count
    paid: dict[Candidate, float] = {}  # last gain per byte of every move that paid
    below: dict[Candidate, float] = {}  # moves that pay, but not for their bytes
    stop = "no candidate left"

    def move(cand: Candidate) -> tuple[float, Candidate | None, int] | None:
        """(net gain, replaced, extra bytes) of adding or widening into `cand`, if it pays."""
        replaced = next((old for old in chosen if old.is_prefix_of(cand)), None)
        extra = sizes[cand] - (sizes[replaced] if replaced else 0)
        configuration = [c for c in chosen if c != replaced] + [cand]
        gain = touched = 0.0
        for q in affects[cand]:  # a widened index has the same leading column
            before = current[q.key]
            after = costs.cost(q, configuration).cost
            gain += q.weight * (before - after)
            if after != before:  # the threshold is relative to what the move changes
                touched += q.weight * before
        read_gain = gain
        gain -= write.get(cand, 0.0) - (write.get(replaced, 0.0) if replaced else 0.0)
        if gain <= limits.min_gain * touched or gain <= 0:
            if read_gain > limits.min_gain * touched and read_gain > 0:
                write_losers.add(cand)
            return None
        return gain, replaced, extra

    while True:
        allow_add = limits.max_indexes is None or len(chosen) < limits.max_indexes
        now = sum(q.weight * current[q.key] for q in queries)
        rate = limits.rate(now)
        best: tuple[float, float, Candidate, Candidate | None, int] | None = None
        for cand in sorted(stale, key=lambda c: (-stale[c], c)):
            if stale[cand] == -math.inf or (best is not None and stale[cand] <= best[0]):
                break  # dead moves, or no stale bound can beat the best fresh move
            if rate > 0 and stale[cand] < rate:
                break  # no move left can earn its bytes
            found = move(cand)
            if found is None:
                stale[cand] = -math.inf
                continue
            gain, replaced, extra = found
            ratio = gain / max(extra, 8192)
            stale[cand] = paid[cand] = ratio
            if ratio < rate:  # pays, but not for its bytes: below the knee
                below[cand] = ratio
                continue
            # Neither frees up later (bytes and count only grow) unless a widening appears.
            if replaced is None and not allow_add:
                blocked.add(cand)
                stale[cand] = -math.inf
                continue
            if limits.budget_bytes is not None and used_bytes + extra > limits.budget_bytes:
                blocked.add(cand)
                stale[cand] = -math.inf
                continue
            if best is None or (ratio, gain) > (best[0], best[1]):
                best = (ratio, gain, cand, replaced, extra)
        if best is None:
            if blocked - set(chosen):
                stop = ("index count limit reached" if not allow_add else "storage budget reached")
            else:
                stop = _knee_stop(below, chosen, move, now, used_bytes, limits)
            break
        _, gain, cand, replaced, extra = best
        if replaced is not None:
            chosen.remove(replaced)
        chosen.append(cand)
        del stale[cand]
        used_bytes += extra
        for q in affects[cand]:
            current[q.key] = costs.cost(q, chosen).cost
        steps.append(SelectionStep(cand, replaced, gain, extra,
                                   sum(q.weight * current[q.key] for q in queries), used_bytes))
        for other in stale:  # widening moves just got cheaper
            if cand.is_prefix_of(other):
                stale[other] = math.inf
                blocked.discard(other)
    placed = _Curve(queries, costs, sizes, affects, current)
    before = list(chosen)
    pruned = _prune(chosen, affects, costs, write, limits, sizes, queries)
    steps += placed.removals(before, pruned)
    pool = sorted((c for c in paid if c not in chosen), key=lambda c: (-paid[c], c))
    before = list(chosen)
    swaps = _swap(chosen, pool[:SWAP_POOL], sizes, costs, affects, write, limits, queries)
    if swaps:
        steps += placed.swaps(before, swaps)
        before = list(chosen)
        pruned = _prune(chosen, affects, costs, write, limits, sizes, queries)
        steps += placed.removals(before, pruned)
    final = {q.key: costs.cost(q, chosen).cost for q in queries}
    return Selection(tuple(chosen), tuple(steps), final, stop,
                     frozenset(write_losers - set(chosen)))


def _knee_stop(below: Mapping[Candidate, float], chosen: Sequence[Candidate],
               move: Callable[[Candidate], tuple[float, Candidate | None, int] | None],
               now: float, used_bytes: int, limits: Limits) -> str:
    """Why the search stopped when nothing else blocked it: the knee (the best move left
    pays, but less than its bytes must earn; re-costed for the reason), or no gain at all."""
    for cand in sorted(below, key=lambda c: (-below[c], c)):
        found = None if cand in chosen else move(cand)
        if found is not None:
            gain, _, extra = found
            assert limits.knee is not None  # `below` is only filled with a knee
            return limits.knee.reason(cand, gain, extra, now, used_bytes, limits.budget_bytes)
    return "no remaining candidate gains enough"


class _Curve:
    """Places the pruning and swap moves on the cost-vs-bytes curve: the workload cost kept
    up to date for the queries a move touches only (configurations the search costed already:
    cache hits, no EXPLAIN)."""

    def __init__(self, queries: Sequence[CostedQuery], costs: CostModel,
                 sizes: Mapping[Candidate, int], affects: Mapping[Candidate, list[CostedQuery]],
                 current: Mapping[str, float]) -> None:
        self.costs, self.sizes, self.affects = costs, sizes, affects
        self.weights = {q.key: q.weight for q in queries}
        self.current = dict(current)
        self.total = sum(q.weight * self.current[q.key] for q in queries)

    def _move(self, configuration: Sequence[Candidate], touched: Sequence[Candidate],
              ) -> tuple[float, int]:
        for q in {q.key: q for c in touched for q in self.affects[c]}.values():
            cost = self.costs.cost(q, configuration).cost
            self.total += self.weights[q.key] * (cost - self.current[q.key])
            self.current[q.key] = cost
        return self.total, sum(self.sizes[c] for c in configuration)

    def removals(self, chosen: Sequence[Candidate],
                 removed: Sequence[Candidate]) -> list[SelectionStep]:
        out = []
        left = list(chosen)
        for cand in removed:
            left.remove(cand)
            out.append(SelectionStep(cand, None, 0.0, -self.sizes[cand],
                                     *self._move(left, [cand])))
        return out

    def swaps(self, chosen: Sequence[Candidate],
              moves: Sequence[SelectionStep]) -> list[SelectionStep]:
        out = []
        now = list(chosen)
        for step in moves:
            now = [step.added if c == step.replaced else c for c in now]
            touched = [step.added] + ([step.replaced] if step.replaced is not None else [])
            out.append(SelectionStep(step.added, step.replaced, step.gain, step.extra_bytes,
                                     *self._move(now, touched)))
        return out


def _swap(chosen: list[Candidate], pool: Sequence[Candidate], sizes: Mapping[Candidate, int],
          costs: CostModel, affects: Mapping[Candidate, list[CostedQuery]],
          write: Mapping[Candidate, float], limits: Limits,
          queries: Sequence[CostedQuery]) -> list[SelectionStep]:
    """Local improvement after the greedy pass: replace one chosen index by one of the best
    candidates left out (often one the budget blocked, or one whose worth only showed once
    others were in), whenever the workload, net of write costs, gets cheaper within the
    budget. Best swap per round, at most SWAP_ROUNDS rounds. Mutates `chosen`."""
    steps: list[SelectionStep] = []
    for _ in range(SWAP_ROUNDS):
        used = sum(sizes[c] for c in chosen)
        rate = limits.rate(_workload(queries, chosen, costs)) if limits.knee else 0.0
        best: tuple[float, Candidate, Candidate] | None = None
        for out in list(chosen):
            others = [c for c in chosen if c != out]
            for inn in pool:
                if inn in chosen or (limits.budget_bytes is not None
                                     and used - sizes[out] + sizes[inn] > limits.budget_bytes):
                    continue
                touched = {q.key: q for q in (*affects[out], *affects[inn])}.values()
                before = sum(q.weight * costs.cost(q, chosen).cost for q in touched)
                after = sum(q.weight * costs.cost(q, [*others, inn]).cost for q in touched)
                delta = before - after - write.get(inn, 0.0) + write.get(out, 0.0)
                delta -= rate * (sizes[inn] - sizes[out])  # the bytes' worth (the knee)
                if delta > limits.min_gain * before and (best is None or delta > best[0]):
                    best = (delta, out, inn)
        if best is None:
            break
        delta, out, inn = best
        chosen[chosen.index(out)] = inn
        steps.append(SelectionStep(inn, out, delta, sizes[inn] - sizes[out]))
    return steps


def _prune(chosen: list[Candidate], affects: Mapping[Candidate, list[CostedQuery]],
           costs: CostModel, write: Mapping[Candidate, float], limits: Limits,
           sizes: Mapping[Candidate, int], queries: Sequence[CostedQuery]) -> list[Candidate]:
    """Drop, one at a time, chosen indexes that later picks made redundant: an index stays
    only while the workload, with everything else chosen, still gains from it more than its
    write cost and `min_gain` of what its queries cost, and (the knee rule) what its bytes
    must earn. Returns the dropped ones."""
    min_gain = limits.min_gain
    dropped: list[Candidate] = []
    while chosen:
        rate = limits.rate(_workload(queries, chosen, costs)) if limits.knee else 0.0
        worst: tuple[float, Candidate] | None = None
        for cand in chosen:
            others = [c for c in chosen if c != cand]
            gain = touched = 0.0
            for q in affects[cand]:
                with_it = costs.cost(q, chosen).cost
                without = costs.cost(q, others).cost
                gain += q.weight * (without - with_it)
                if without != with_it:
                    touched += q.weight * without
            net = gain - write.get(cand, 0.0)
            worth = rate * sizes[cand]
            if (net <= min_gain * touched or net < worth) and (worst is None
                                                               or net - worth < worst[0]):
                worst = (net - worth, cand)
        if worst is None:
            break
        chosen.remove(worst[1])
        dropped.append(worst[1])
    return dropped


def _workload(queries: Sequence[CostedQuery], chosen: Sequence[Candidate],
              costs: CostModel) -> float:
    """Calls-weighted cost of `queries` under `chosen` (cached configurations)."""
    return sum(q.weight * costs.cost(q, chosen).cost for q in queries)
