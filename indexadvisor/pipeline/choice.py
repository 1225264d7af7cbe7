"""Stage 5, the choice: the selection algorithm over the pool, the bounds beside it (no new
index, every candidate at once), and each chosen index's marginal benefit and the queries it
serves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..candidates.ddl import create_index_ddl
from ..catalog import Catalog
from ..explain.costs import CachedCosts
from ..model import (
    AdvisorConfig,
    Bounds,
    Candidate,
    Cost,
    CostedQuery,
    Recommendation,
    Rival,
    is_relevant,
)
from ..model.errors import ConfigError
from ..selection import ALGORITHMS, Limits, Selection
from .baseline import Baseline
from .pool import Pool


@dataclass(frozen=True)
class Choice:
    """The chosen configuration, how each query costs under it, and the bounds."""

    selection: Selection
    recommendations: tuple[Recommendation, ...]
    final: Mapping[str, Cost]  # query key -> cost under the chosen set
    best: Mapping[str, float]  # query key -> cost with every candidate at once
    bounds: Bounds


def check_algorithm(config: AdvisorConfig) -> None:
    if config.algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown selection algorithm {config.algorithm!r}",
                          hint="choose one of: " + ", ".join(sorted(ALGORITHMS)))


def choose(baseline: Baseline, pool: Pool, costs: CachedCosts, catalog: Catalog,
           config: AdvisorConfig) -> Choice:
    """Run the selection and price what it chose."""
    queries = [item.costed for item in baseline.reads]
    candidates = list(pool.candidates)
    write_cost = pool.write_cost
    best = {q.key: costs.cost(q, candidates).cost for q in queries}
    selection = ALGORITHMS[config.algorithm](
        queries, candidates, pool.sizes, costs,
        Limits(config.budget_bytes, config.max_indexes, config.min_gain, write_cost),
    )
    final = {q.key: costs.cost(q, selection.chosen) for q in queries}
    recommendations = _recommend(selection, queries, costs, pool, catalog, baseline.base)
    weight = {q.key: q.weight for q in queries}
    bounds = Bounds(
        no_index=sum(weight[k] * baseline.base[k] for k in weight),
        all_candidates=sum(weight[k] * best[k] for k in weight),
        all_candidates_bytes=sum(pool.sizes.values()),
        candidates=len(candidates),
    )
    return Choice(selection, recommendations, final, best, bounds)


def _recommend(selection: Selection, queries: Sequence[CostedQuery], costs: CachedCosts,
               pool: Pool, catalog: Catalog, base: Mapping[str, float],
               ) -> tuple[Recommendation, ...]:
    """Each chosen index with its marginal benefit: workload cost without it minus with it."""
    out = []
    chosen = list(selection.chosen)
    for cand in chosen:
        others = [c for c in chosen if c != cand]
        benefit = 0.0
        served = []
        for q in queries:
            if not is_relevant(cand, q.leading):
                continue
            with_it = costs.cost(q, chosen)
            without = costs.cost(q, others)
            benefit += q.weight * (without.cost - with_it.cost)
            # A plan may not name the index (a generic plan whose partitions are all pruned
            # at executor startup shows no scan at all), so "serves" means: costs more
            # without it, or its plan reads it.
            if cand in with_it.used or without.cost > with_it.cost * (1 + 1e-9):
                served.append(q.key)
        out.append(Recommendation(
            candidate=cand, ddl=create_index_ddl(cand, catalog), size_bytes=pool.sizes[cand],
            benefit=benefit, write_overhead=pool.write_cost.get(cand, 0.0),
            queries=tuple(sorted(served)), write_detail=pool.writes.get(cand),
            rivals=_rivals(cand, chosen, [q for q in queries if q.key in served], costs, pool,
                           base),
        ))
    return tuple(sorted(out, key=lambda r: (-r.benefit, r.candidate)))



RIVALS_TRIED = 3  # rivals re-costed in a recommendation's place (the best by their lone saving)
RIVALS_KEPT = 2


def _rivals(cand: Candidate, chosen: Sequence[Candidate], served: Sequence[CostedQuery],
            costs: CachedCosts, pool: Pool, base: Mapping[str, float]) -> tuple[Rival, ...]:
    """The candidates left out that would have done most of `cand`'s job: each costed in its
    place (the rest of the chosen set kept) on the queries `cand` serves. Pre-ranked by what
    each saves alone on those queries, which the selection's first pass costed already."""
    others = [c for c in chosen if c != cand]
    alone: list[tuple[float, Candidate]] = []
    for rival in pool.candidates:
        if rival in chosen:
            continue
        mine = [q for q in served if is_relevant(rival, q.leading)]
        if not mine:
            continue
        saving = sum(q.weight * (base[q.key] - costs.cost(q, [rival]).cost) for q in mine)
        if saving > 0:
            alone.append((saving, rival))
    out = []
    for _, rival in sorted(alone, key=lambda t: (-t[0], t[1]))[:RIVALS_TRIED]:
        benefit = sum(q.weight * (costs.cost(q, others).cost - costs.cost(q, [*others, rival]).cost)
                      for q in served)
        out.append(Rival(rival, benefit, pool.sizes[rival], pool.write_cost.get(rival, 0.0)))
    return tuple(sorted(out, key=lambda r: (-r.benefit, r.candidate))[:RIVALS_KEPT])
