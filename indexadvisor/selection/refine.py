"""After the greedy pass: prune what later picks made redundant, swap a chosen index for a
better one left out, and place those moves on the cost-vs-bytes curve.

All three keep the workload's cost up to date for the queries a move touches only
(`Tally`): a pass over every query per move costs O(queries x chosen) relevance tests, minutes
on a workload of thousands of statements.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..model import Candidate, CostedQuery, CostModel, SelectionStep
from .limits import Limits

SWAP_POOL = 12  # candidates left out that a swap may bring in: the best by gain per byte
SWAP_ROUNDS = 4

Affects = Mapping[Candidate, Sequence[CostedQuery]]


class Tally:
    """The workload's calls-weighted cost under a configuration, moved one step at a time."""

    def __init__(self, queries: Sequence[CostedQuery], costs: CostModel,
                 current: Mapping[str, float]) -> None:
        self.costs = costs
        self.weights = {q.key: q.weight for q in queries}
        self.current = dict(current)
        self.total = sum(q.weight * self.current[q.key] for q in queries)

    def move(self, configuration: Sequence[Candidate], touched: Sequence[CostedQuery]) -> float:
        """The total once `configuration` is live; only `touched` queries can change."""
        for q in touched:
            cost = self.costs.cost(q, configuration).cost
            self.total += self.weights[q.key] * (cost - self.current[q.key])
            self.current[q.key] = cost
        return self.total


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


def swap(chosen: list[Candidate], pool: Sequence[Candidate], sizes: Mapping[Candidate, int],
         costs: CostModel, affects: Affects, write: Mapping[Candidate, float], limits: Limits,
         tally: Tally, out_of_time: Callable[[], bool]) -> list[SelectionStep]:
    """Local improvement after the greedy pass: replace one chosen index by one of the best
    candidates left out (often one the budget blocked, or one whose worth only showed once
    others were in), whenever the workload, net of write costs, gets cheaper within the
    budget. Best swap per round, at most SWAP_ROUNDS rounds. Mutates `chosen`."""
    steps: list[SelectionStep] = []
    prefetch = getattr(costs, "prefetch", None)
    for _ in range(SWAP_ROUNDS):
        if out_of_time():
            break
        used = sum(sizes[c] for c in chosen)
        rate = limits.rate(tally.total)
        pairs = [(out, inn) for out in chosen for inn in pool
                 if inn not in chosen and (limits.budget_bytes is None
                                           or used - sizes[out] + sizes[inn]
                                           <= limits.budget_bytes)]
        if prefetch is not None:
            prefetch((q, [*(c for c in chosen if c != out), inn])
                     for out, inn in pairs for q in touched_by(affects, [out, inn]))
        best: tuple[float, Candidate, Candidate] | None = None
        for out, inn in pairs:
            others = [c for c in chosen if c != out]
            touched = touched_by(affects, [out, inn])
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
    while chosen and not out_of_time():
        rate = limits.rate(tally.total)
        if prefetch is not None:
            prefetch((q, [c for c in chosen if c != cand])
                     for cand in chosen for q in affects[cand])
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
            if ((net <= limits.min_gain * touched or net < worth)
                    and (worst is None or net - worth < worst[0])):
                worst = (net - worth, cand)
        if worst is None:
            break
        chosen.remove(worst[1])
        tally.move(chosen, affects[worst[1]])
        dropped.append(worst[1])
    return dropped
