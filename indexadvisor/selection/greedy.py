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
Pruning keeps an index only while it still earns its bytes beside the others, swaps pay for
the bytes they add (`refine`), and covering variants of one key are merged afterwards where
the bytes saved were not earning their keep (`merge`).

What keeps it fast (`SearchSpace`):
- a move is costed only against the queries whose probes used the candidate;
- with a floor under each query's cost, a move's gain is bounded by what its queries can
  still lose: candidates start in that order and one whose bound cannot beat the best move
  found is never costed (lazy evaluation, as in CELF, from a real bound instead of infinity);
- the cost look-ups a step is about to make are handed to `prefetch` first, which a cost
  model with several database sessions answers in parallel; decisions stay the same.
It is anytime: past `Limits.deadline` it adds nothing more and returns the best set so far.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

from ..model import Candidate, CostedQuery, CostModel, SelectionStep, TableName
from .limits import Limits
from .refine import Curve, Narrow, Tally, prune, swap, swap_pool
from .space import SearchSpace

# Moves costed ahead at once with parallel sessions: candidates in the order the search will
# weigh them, until there are this many look-ups per session (few: what the search does not
# reach is wasted work).
PREFETCH_PER_SESSION = 8
# With a time limit, one round may take this share of the time left: past it the best move
# weighed so far is made (the candidates are weighed best bound first), so a short limit
# still returns the indexes that pay most, not nothing.
ROUND_SHARE = 0.25
TIME_LIMIT_STOP = "time limit reached: the best set found so far"


@dataclass(frozen=True)
class Selection:
    """The chosen configuration and how the search got there."""

    chosen: tuple[Candidate, ...]
    steps: tuple[SelectionStep, ...]
    costs: Mapping[str, float]  # query key -> cost under `chosen`
    stop_reason: str
    rejected_write: frozenset[Candidate] = frozenset()  # reads gain, writes lose more
    timed_out: bool = False


def greedy(queries: Sequence[CostedQuery], candidates: Sequence[Candidate],
           sizes: Mapping[Candidate, int], costs: CostModel, limits: Limits,
           space: SearchSpace | None = None) -> Selection:
    """Pick indexes step by step; every query's cost comes from `costs` (the planner).

    Lazy evaluation (as in CELF): a move's gain per byte rarely grows as indexes are chosen,
    so each step re-costs candidates in order of their last known ratio (at first: their
    upper bound) and stops as soon as the best fresh ratio beats every stale one. The
    exception is widening: choosing an index turns every candidate it is a prefix of into a
    cheaper move, so those are re-costed.
    """
    space = space or SearchSpace.build(queries, candidates)
    search = _Search(queries, candidates, sizes, costs, limits, space)
    return search.run()


class _Search:
    def __init__(self, queries: Sequence[CostedQuery], candidates: Sequence[Candidate],
                 sizes: Mapping[Candidate, int], costs: CostModel, limits: Limits,
                 space: SearchSpace) -> None:
        self.queries, self.sizes, self.costs, self.limits = queries, sizes, costs, limits
        self.write = limits.write_cost or {}
        self.evaluated = {c: space.evaluated.get(c, ()) for c in candidates}
        self.relevant = {c: space.relevant.get(c, ()) for c in candidates}
        self.floor = space.floor
        self.best_used = space.best_used
        self.prefetch: Callable[..., None] | None = getattr(costs, "prefetch", None)
        self.parallel = int(getattr(costs, "parallelism", 1))
        if self.parallel < 2:
            self.prefetch = None
        if self.prefetch is not None:
            self.prefetch((q, ()) for q in queries)
        self.current = {q.key: costs.cost(q, ()).cost for q in queries}
        self.tally = Tally(queries, costs, self.current)
        self.chosen: list[Candidate] = []
        self.narrow = Narrow(())  # the chosen ones by leading key
        self.by_lead: dict[tuple[TableName, str], list[Candidate]] = {}
        for cand in candidates:
            self.by_lead.setdefault(cand.lead, []).append(cand)
        self.used_bytes = 0
        self.write_losers: set[Candidate] = set()
        self.stale = _Stale()
        for cand in candidates:
            if self.evaluated[cand]:
                self.stale[cand] = self.bound(cand)
        self.blocked: set[Candidate] = set()  # would gain, but over the budget or the count
        self.history: dict[Candidate, list[tuple[frozenset[Candidate], float]]] = {}
        self._fit_others: frozenset[Candidate] | None = None  # `gain_bound`'s last set
        self._fit: dict[Candidate, list[tuple[float, frozenset[Candidate]]]] = {}
        self.paid: dict[Candidate, float] = {}  # last gain per byte of every move that paid
        self.steps: list[SelectionStep] = []
        self.timed_out = False
        self.rushed = 0  # rounds cut short by the deadline (`ROUND_SHARE`)

    # -- moves -----------------------------------------------------------------------------
    def replaced(self, cand: Candidate) -> Candidate | None:
        """The chosen index `cand` widens (a prefix of it has its leading key), if any."""
        return next((old for old in self.narrow.by_lead.get(cand.lead, ())
                     if old.is_prefix_of(cand)), None)

    def bound(self, cand: Candidate) -> float:
        """An upper bound of the move's net gain per byte now: each query it is costed
        against can at best fall to its floor (infinite without floors)."""
        if not self.floor:
            return math.inf
        room = 0.0
        for q in self.evaluated[cand]:
            floor = self.floor.get(q.key)
            if floor is None:
                return math.inf
            room += q.weight * max(0.0, self.current[q.key] - floor)
        if room <= 0:
            return -math.inf
        replaced = self.replaced(cand)
        extra = self.sizes[cand] - (self.sizes[replaced] if replaced else 0)
        net = room - self.write.get(cand, 0.0) + (self.write.get(replaced, 0.0)
                                                  if replaced else 0.0)
        if net <= 0:  # even at its best it would not pay for its writes: cost it once,
            return 0.0  # at the end, to say so (`_write_verdicts`)
        return net / max(extra, 8192)

    def move(self, cand: Candidate) -> tuple[float, Candidate | None, int] | None:
        """(net gain, replaced, extra bytes) of adding or widening into `cand`, if it pays."""
        replaced = self.replaced(cand)
        extra = self.sizes[cand] - (self.sizes[replaced] if replaced else 0)
        gain = touched = 0.0
        for q in self.evaluated[cand]:  # a widened index has the same leading column
            before = self.current[q.key]
            after = self.costs.cost(q, self.narrow.of(q, replaced, cand)).cost
            gain += q.weight * (before - after)
            if after != before:  # the threshold is relative to what the move changes
                touched += q.weight * before
        read_gain = gain
        if replaced is None:  # what adding `cand` to this set gains: a bound for swaps
            self.history.setdefault(cand, []).append((frozenset(self.chosen), read_gain))
        gain -= self.write.get(cand, 0.0) - (self.write.get(replaced, 0.0) if replaced else 0.0)
        if gain <= self.limits.min_gain * touched or gain <= 0:
            if read_gain > self.limits.min_gain * touched and read_gain > 0:
                self.write_losers.add(cand)
            return None
        return gain, replaced, extra

    def room_to_add(self) -> bool:
        """Whether the index count allows one more (a widening replaces one)."""
        return self.limits.max_indexes is None or len(self.chosen) < self.limits.max_indexes

    def cannot_fit(self, cand: Candidate) -> bool:
        """Whether the move is over the index count or the budget (no need to cost it)."""
        replaced = self.replaced(cand)
        if replaced is None and not self.room_to_add():
            return True
        extra = self.sizes[cand] - (self.sizes[replaced] if replaced else 0)
        budget = self.limits.budget_bytes
        return budget is not None and self.used_bytes + extra > budget

    def _prefetch_from(self, order: Sequence[Candidate], start: int, beat: float) -> int:
        """Cost ahead the moves the search is about to weigh, from `start` in `order`, until
        every session has a few look-ups; the position after the last one taken."""
        assert self.prefetch is not None
        want = PREFETCH_PER_SESSION * self.parallel
        batch: list[Candidate] = []
        n = start
        while n < len(order) and (not batch or sum(len(self.evaluated[c]) for c in batch) < want):
            cand = order[n]
            if self.stale[cand] == -math.inf or self.stale[cand] <= beat:
                break
            if not self.cannot_fit(cand):
                batch.append(cand)
            n += 1
        self.prefetch((q, self.narrow.of(q, self.replaced(c), c)) for c in batch
                      for q in self.evaluated[c])
        return max(n, start + 1)

    # -- the search ------------------------------------------------------------------------
    def run(self) -> Selection:
        limits = self.limits
        stop = "no candidate left"
        while True:
            if limits.out_of_time():
                self.timed_out = True
                stop = TIME_LIMIT_STOP
                break
            found = self.step()
            self.order.restore()
            if isinstance(found, str):
                stop = found
                break
        steps = list(self.steps)
        guessed: list[Candidate] = []
        if not self.timed_out:
            if hasattr(self.costs, "stage"):  # EXPLAINs are counted per stage
                self.costs.stage = "refine"
            steps += self.refine()
            self.narrow = Narrow(self.chosen)  # pruned and swapped
        else:
            guessed = self._fill_from_probes()
        self._write_verdicts()
        chosen = frozenset(self.chosen)
        price = self.costs.cost
        exact = getattr(self.costs, "exact", None)
        if self.timed_out and exact is not None:
            # priced as the final EXPLAINs will price it (every index live), once: what
            # comes after derives its look-ups from these plans
            price = exact
            if self.prefetch is not None:
                self.prefetch(((q, chosen) for q in self.queries), exact=True)
        final = {q.key: price(q, chosen).cost for q in self.queries}
        if self.timed_out:
            weighed = len(self.chosen) - len(guessed)
            stop = (f"{TIME_LIMIT_STOP} ({weighed} indexes weighed one by one"
                    + (f", {len(guessed)} more read by the queries' cheapest plans with every "
                       "candidate, not weighed" if guessed else "")
                    + "; the search had more to weigh)")
        return Selection(tuple(self.chosen), tuple(steps), final, stop,
                         frozenset(self.write_losers - set(self.chosen)), self.timed_out)

    def step(self) -> str | None:
        """One round: pick the best move and make it, or say why the search stops."""
        limits = self.limits
        allow_add = self.room_to_add()
        now = self.tally.total
        rate = limits.rate(now)
        best: tuple[float, float, Candidate, Candidate | None, int] | None = None
        order = self.order = _Order(self.stale)
        fetched = 0
        round_end = limits.round_end(ROUND_SHARE)
        for n, cand in enumerate(order):
            ratio_known = self.stale[cand]
            if ratio_known == -math.inf or (best is not None and ratio_known <= best[0]):
                break  # dead moves, or no stale bound can beat the best fresh move
            if rate > 0 and ratio_known < rate:
                break  # no move left can earn its bytes
            if best is not None and round_end is not None and time.perf_counter() > round_end:
                self.rushed += 1  # anytime: the best move weighed so far, not the best of all
                break
            if limits.out_of_time():
                self.timed_out = True
                if best is not None:
                    self._take(*best[1:])
                return TIME_LIMIT_STOP
            if self.cannot_fit(cand):  # neither frees up later (bytes and count
                self.blocked.add(cand)  # only grow) unless a widening appears: not costed
                self.stale[cand] = -math.inf
                continue
            if self.prefetch is not None and n >= fetched:
                fetched = self._prefetch_from(order, n, best[0] if best else -math.inf)
            found = self.move(cand)
            if found is None:
                self.stale[cand] = -math.inf
                continue
            gain, replaced, extra = found
            ratio = gain / max(extra, 8192)
            self.stale[cand] = self.paid[cand] = ratio
            if ratio < rate:  # pays, but not for its bytes: below the knee
                continue
            if best is None or (ratio, gain) > (best[0], best[1]):
                best = (ratio, gain, cand, replaced, extra)
        if best is None:
            if self.blocked - set(self.chosen):
                return ("index count limit reached" if not allow_add
                        else "storage budget reached")
            return self._knee_stop(now)
        self._take(*best[1:])
        return None

    def _take(self, gain: float, cand: Candidate, replaced: Candidate | None,
              extra: int) -> None:
        if replaced is not None:
            self.chosen.remove(replaced)
            self.narrow.remove(replaced)
        self.chosen.append(cand)
        self.narrow.add(cand)
        del self.stale[cand]
        self.used_bytes += extra
        touched = self.relevant[cand]  # every query the index can change, probed or not
        if self.prefetch is not None:
            now = frozenset(self.chosen)
            self.prefetch((q, now) for q in touched)
        self.tally.move(self.narrow, touched)
        self.current.update({q.key: self.tally.current[q.key] for q in touched})
        self.steps.append(SelectionStep(cand, replaced, gain, extra, self.tally.total,
                                        self.used_bytes))
        for other in self.by_lead[cand.lead]:  # widening moves just got cheaper
            if other in self.stale and cand.is_prefix_of(other):
                self.stale[other] = self.bound(other)
                self.blocked.discard(other)

    def _fill_from_probes(self) -> list[Candidate]:
        """Out of time: fill what is left of the budget with what the queries' cheapest
        plans read in the probes (`SearchSpace.best_used`), without costing any of it (the
        final EXPLAINs price the set). Each query's room above its floor is shared among
        the indexes its plan read that are not chosen yet; they come in falling share per
        byte, within the budget, the index count, the knee and their write costs. A search
        stopped after a few moves still returns the indexes its queries' best plans use,
        not only those it had time to weigh."""
        share: dict[Candidate, float] = {}
        chosen = set(self.chosen)
        for q in self.queries:
            floor, used = self.floor.get(q.key), self.best_used.get(q.key, frozenset())
            new = [c for c in used if c not in chosen and c in self.sizes]
            if floor is None or not new:
                continue
            room = q.weight * max(0.0, self.current[q.key] - floor)
            for c in new:
                share[c] = share.get(c, 0.0) + room / len(new)
        net = {c: gain - self.write.get(c, 0.0) for c, gain in share.items()}
        rate = self.limits.rate(self.tally.total)
        added: list[Candidate] = []
        for cand in sorted(net, key=lambda c: (-net[c] / max(self.sizes[c], 8192), c)):
            if net[cand] <= 0 or net[cand] / max(self.sizes[cand], 8192) < rate:
                break
            if (self.cannot_fit(cand) or self.replaced(cand) is not None
                    or any(cand.is_prefix_of(old) for old in self.narrow.by_lead.get(
                        cand.lead, ()))):
                continue  # over a limit, or an index with its key chosen already
            self.chosen.append(cand)
            self.narrow.add(cand)
            self.used_bytes += self.sizes[cand]
            added.append(cand)
        return added

    def refine(self) -> list[SelectionStep]:
        """Prune, swap, prune again: each move placed on the curve."""
        limits = self.limits
        curve = Curve(Tally(self.queries, self.costs, self.current), self.sizes,
                      self.relevant)
        steps: list[SelectionStep] = []
        before = list(self.chosen)
        pruned = prune(self.chosen, self.relevant, self.costs, self.write, limits, self.sizes,
                       Tally(self.queries, self.costs, self.current), limits.out_of_time)
        steps += curve.removals(before, pruned)
        pool = sorted((c for c in self.paid if c not in self.chosen),
                      key=lambda c: (-self.paid[c], c))
        before = list(self.chosen)
        swaps = swap(self.chosen, swap_pool(pool, self.relevant), self.sizes, self.costs,
                     self.relevant, self.write, limits,
                     Tally(self.queries, self.costs, curve.tally.current), limits.out_of_time,
                     self.gain_bound)
        if swaps:
            steps += curve.swaps(before, swaps)
            before = list(self.chosen)
            pruned = prune(self.chosen, self.relevant, self.costs, self.write, limits,
                           self.sizes, Tally(self.queries, self.costs, curve.tally.current),
                           limits.out_of_time)
            steps += curve.removals(before, pruned)
        return steps

    def _knee_stop(self, now: float) -> str:
        """Why the search stopped when nothing else blocked it: the knee (the best move left
        pays, but less than its bytes must earn; re-costed for the reason), or no gain at all.
        The best move left is found lazily: moves in the order of what they last earned or
        of their bound, until none left can beat the best one costed."""
        knee = self.limits.knee
        if knee is None:
            return "no remaining candidate gains enough"
        best: tuple[float, Candidate, float, int] | None = None
        for cand in sorted((c for c, r in self.stale.items() if r > 0 and c not in self.chosen),
                           key=lambda c: (-self.stale[c], c)):
            if (best is not None and self.stale[cand] <= best[0]) or self.limits.out_of_time():
                break
            found = self.move(cand)
            if found is None:
                continue
            gain, _, extra = found
            ratio = gain / max(extra, 8192)
            if best is None or ratio > best[0]:
                best = (ratio, cand, gain, extra)
        if best is None:
            return "no remaining candidate gains enough"
        _, cand, gain, extra = best
        return knee.reason(cand, gain, extra, now, self.used_bytes, self.limits.budget_bytes)

    def gain_bound(self, cand: Candidate, others: frozenset[Candidate],
                   without: Candidate | None = None) -> float:
        """An upper bound of what adding `cand` beside `others` (less `without`) gains: the
        least it gained beside a subset of them when the search costed it (infinite if
        never). Swaps ask for every (out, in) pair of one set: the costings beside a subset
        of `others` are found once per candidate, least gain first."""
        if self._fit_others is not others:
            self._fit_others, self._fit = others, {}
        fitting = self._fit.get(cand)
        if fitting is None:
            fitting = self._fit[cand] = sorted(
                ((g, base) for base, g in self.history.get(cand, ()) if base <= others),
                key=lambda entry: entry[0])
        return next((g for g, base in fitting if without is None or without not in base),
                    math.inf)

    def _write_verdicts(self) -> None:
        """Candidates never costed because not even their best could pay for their writes:
        cost each once now, so the queries they were for can say so."""
        for cand, ratio in list(self.stale.items()):
            if ratio == 0.0 and cand not in self.chosen and cand not in self.paid:
                self.move(cand)


class _Stale(dict[Candidate, float]):
    """Each candidate's stale ratio (what it last earned per byte, or its bound), with a heap
    of every value it was given: the best is found without sorting thousands every round
    (old entries are skipped when read, `_Order`)."""

    def __init__(self) -> None:
        super().__init__()
        self.heap: list[tuple[float, Candidate]] = []

    def __setitem__(self, cand: Candidate, ratio: float) -> None:
        super().__setitem__(cand, ratio)
        heapq.heappush(self.heap, (-ratio, cand))


class _Order(Sequence[Candidate]):
    """The candidates by their stale ratio, best first, ties by candidate: read from the
    heap as far as a round looks (a few of thousands), and put back after it (`restore`)."""

    def __init__(self, stale: _Stale) -> None:
        self._stale = stale
        self._sorted: list[Candidate] = []
        self._seen: set[Candidate] = set()

    def __len__(self) -> int:
        return len(self._stale)

    @overload
    def __getitem__(self, n: int) -> Candidate: ...
    @overload
    def __getitem__(self, n: slice) -> Sequence[Candidate]: ...

    def __getitem__(self, n: int | slice) -> Candidate | Sequence[Candidate]:
        if isinstance(n, slice):
            raise TypeError("_Order is read one candidate at a time")
        heap, stale = self._stale.heap, self._stale
        while len(self._sorted) <= n:
            if not heap:
                raise IndexError(n)
            neg, cand = heapq.heappop(heap)
            if cand in self._seen or stale.get(cand) != -neg:
                continue  # an older value, or one already read
            self._seen.add(cand)
            self._sorted.append(cand)
        return self._sorted[n]

    def restore(self) -> None:
        """Put back what this round read (at their values now)."""
        for cand in self._sorted:
            if cand in self._stale:
                heapq.heappush(self._stale.heap, (-self._stale[cand], cand))
