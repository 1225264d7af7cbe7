"""Stage 5, the choice: the selection algorithm over the pool, the bounds beside it (no new
index, every candidate at once), and each chosen index's marginal benefit and the queries it
serves.

Each query's cost under the chosen set (`final`) comes from an EXPLAIN with the whole set live
(`CachedCosts.exact`), not from the relevant-subset costs the search worked with: outcomes and
reasons are decided from it, and it equals what an independent EXPLAIN with exactly those
indexes says.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ..candidates.ddl import clashing, create_index_ddl, renamed_in_plans
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
    SelectionStep,
    format_size,
)
from ..model.errors import ConfigError
from ..selection import ALGORITHMS, Limits, SearchSpace, Selection
from ..selection.knee import Knee
from ..selection.merge import covering_groups, merge_covering, union_of
from ..selection.refine import Narrow
from ..selection.space import by_leading_key
from .baseline import Baseline
from .pool import Pool, extend_pool
from .probe import probe

# With a time limit, probing rounds after the first stop once they have taken this share of
# the time left, which goes to the search instead.
PROBE_SHARE = 0.4


@dataclass(frozen=True)
class Choice:
    """The chosen configuration, how each query costs under it, and the bounds."""

    selection: Selection
    recommendations: tuple[Recommendation, ...]
    final: Mapping[str, Cost]  # query key -> cost under the chosen set (all of it live)
    best: Mapping[str, float]  # query key -> cost with every candidate at once
    bounds: Bounds
    renames: Mapping[str, str] = field(default_factory=dict)  # plan index name -> DDL's name


def check_algorithm(config: AdvisorConfig) -> None:
    if config.algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown selection algorithm {config.algorithm!r}",
                          hint="choose one of: " + ", ".join(sorted(ALGORITHMS)))


def choose(baseline: Baseline, pool: Pool, costs: CachedCosts, catalog: Catalog,
           config: AdvisorConfig, *, deadline: float | None = None) -> Choice:
    """Run the selection and price what it chose. Past `deadline` (time.perf_counter()) the
    search stops adding and the best set so far is priced."""
    queries = [item.costed for item in baseline.reads]
    candidates = list(pool.candidates)
    write_cost = pool.write_cost
    knee = None if config.fill_budget or config.knee <= 0 else Knee(
        config.knee, data_bytes(baseline, catalog))
    limits = Limits(config.budget_bytes, config.max_indexes, config.min_gain, write_cost, knee,
                    deadline)
    costs.stage = "probe"
    probe_end = limits.round_end(PROBE_SHARE)
    space = probe(queries, candidates, costs, baseline.base, rounds=config.probe_rounds,
                  out_of_time=lambda: probe_end is not None and time.perf_counter() > probe_end,
                  must_stop=limits.out_of_time)
    every = frozenset(candidates)
    probing_cut = limits.out_of_time()  # no EXPLAIN for what probing missed
    best = {q.key: space.floor[q.key] if q.key in space.floor
            else baseline.base[q.key] if probing_cut else costs.cost(q, every).cost
            for q in queries}
    weight = {q.key: q.weight for q in queries}
    no_index = sum(weight[k] * baseline.base[k] for k in weight)
    costs.stage = "search"
    search_space = space if config.probe_rounds > 0 else SearchSpace.build(
        queries, candidates, floor=space.floor)
    if not config.bound_moves:
        search_space = replace(search_space, floor={})
    selection = ALGORITHMS[config.algorithm](
        queries, candidates, pool.sizes, costs, limits, search_space)
    all_bytes = sum(pool.sizes.values())
    costs.stage = "merge"
    if not selection.timed_out:  # (a merge prices the whole set again)
        selection, pool = _merge(selection, queries, costs, pool, catalog, limits)
    costs.stage = "final"
    costs.prefetch(((q, selection.chosen) for q in queries), exact=True)
    final = {q.key: costs.exact(q, selection.chosen) for q in queries}
    # the planner is not monotone: the best of every candidate is no worse than the choice
    best = {k: min(cost, final[k].cost) for k, cost in best.items()}
    hashed = clashing(selection.chosen, catalog)
    costs.stage = "recommend"
    late = limits.out_of_time()
    recommendations = _recommend(selection, queries, costs, pool, catalog, baseline.base,
                                 hashed, space, final if late else None)
    if late:
        selection = replace(selection, stop_reason=f"{selection.stop_reason}; {SHARED_NOTE}")
    bounds = Bounds(
        no_index=no_index,
        all_candidates=sum(weight[k] * best[k] for k in weight),
        all_candidates_bytes=all_bytes,
        candidates=len(candidates),
    )
    return Choice(selection, recommendations, final, best, bounds,
                  renamed_in_plans(hashed, catalog))


def data_bytes(baseline: Baseline, catalog: Catalog) -> int:
    """Bytes of the tables the workload reads, each once: a partition read beside its parent
    is in the parent's size already."""
    read = {t for item in baseline.reads for t in item.analysis.tables}
    total = 0
    for name in read:
        table = catalog.table(name)
        if table is None:
            continue
        ancestors = set(catalog.family(name)) - {name} - set(table.partitions)
        if not ancestors & read:
            total += table.size_bytes
    return total


def _merge(selection: Selection, queries: Sequence[CostedQuery], costs: CachedCosts,
           pool: Pool, catalog: Catalog, limits: Limits) -> tuple[Selection, Pool]:
    """Overlapping covering variants of one chosen key merged (selection.merge), each merge
    placed on the cost curve as a widening and removals."""
    groups = covering_groups(selection.chosen)
    if not groups:
        return selection, pool
    pool = extend_pool(pool, [union_of(g) for g in groups], catalog, costs.session)
    live = frozenset(selection.chosen)
    cost = sum(q.weight * costs.cost(q, live).cost for q in queries)
    chosen, merges = merge_covering(selection.chosen, queries, costs, pool.sizes.__getitem__,
                                    lambda c: pool.write_cost.get(c, 0.0), limits.rate(cost))
    if not merges:
        return selection, pool
    steps = list(selection.steps)
    now = list(selection.chosen)
    for merge in merges:
        first = merge.replaced[0]
        now = [merge.merged if c == first else c for c in now]
        steps.append(_placed(merge.merged, first, -merge.loss,
                             pool.sizes[merge.merged] - pool.sizes[first], now, queries, costs,
                             pool))
        for gone in merge.replaced[1:]:
            now.remove(gone)
            steps.append(_placed(gone, None, 0.0, -pool.sizes[gone], now, queries, costs, pool))
    live = frozenset(chosen)
    final = {q.key: costs.cost(q, live).cost for q in queries}
    freed = sum(m.freed_bytes for m in merges)
    variants = sum(len(m.replaced) for m in merges)
    stop = (f"{selection.stop_reason}; then {variants} covering variants of one key merged "
            f"into {len(merges)}, freeing {format_size(freed)}")
    return replace(selection, chosen=tuple(chosen), steps=tuple(steps), costs=final,
                   stop_reason=stop), pool


def _placed(added: Candidate, replaced: Candidate | None, gain: float, extra: int,
            now: Sequence[Candidate], queries: Sequence[CostedQuery], costs: CachedCosts,
            pool: Pool) -> SelectionStep:
    live = frozenset(now)
    cost = sum(q.weight * costs.cost(q, live).cost for q in queries)
    return SelectionStep(added, replaced, gain, extra, cost, sum(pool.sizes[c] for c in now))


def _recommend(selection: Selection, queries: Sequence[CostedQuery], costs: CachedCosts,
               pool: Pool, catalog: Catalog, base: Mapping[str, float],
               hashed: frozenset[Candidate], space: SearchSpace,
               shared: Mapping[str, Cost] | None = None) -> tuple[Recommendation, ...]:
    """Each chosen index with its marginal benefit: workload cost without it minus with it.
    Past a time limit (`shared`: each query's final cost) no more EXPLAINs: see
    `_shared_benefits`."""
    chosen = list(selection.chosen)
    if shared is not None:
        return _shared_benefits(chosen, queries, shared, pool, catalog, base, hashed)
    out = []
    index = by_leading_key(queries)

    def relevant(cand: Candidate) -> list[CostedQuery]:
        return index.get((cand.table, cand.columns[0]), [])

    narrow = Narrow(chosen)
    offered = Narrow(pool.candidates)  # rivals, by leading key
    costs.prefetch((q, conf) for cand in chosen for q in relevant(cand)
                   for conf in (narrow.of(q), narrow.of(q, cand)))
    for cand in chosen:
        benefit = 0.0
        served = []
        for q in relevant(cand):
            with_it = costs.cost(q, narrow.of(q))
            without = costs.cost(q, narrow.of(q, cand))
            benefit += q.weight * (without.cost - with_it.cost)
            # A plan may not name the index (a generic plan whose partitions are all pruned
            # at executor startup shows no scan at all), so "serves" means: costs more
            # without it, or its plan reads it.
            if cand in with_it.used or without.cost > with_it.cost * (1 + 1e-9):
                served.append(q.key)
        out.append(Recommendation(
            candidate=cand, ddl=create_index_ddl(cand, catalog, hashed=cand in hashed),
            size_bytes=pool.sizes[cand],
            # to the cent, as the JSON keeps them: a saved report renders the same digits
            benefit=round(benefit, 2), write_overhead=round(pool.write_cost.get(cand, 0.0), 2),
            queries=tuple(sorted(served)), write_detail=pool.writes.get(cand),
            rivals=_rivals(cand, narrow, [q for q in relevant(cand) if q.key in served], costs,
                           pool, offered, base, space),
        ))
    return tuple(sorted(out, key=lambda r: (-r.benefit, r.candidate)))



SHARED_NOTE = ("past the time limit, each index's benefit is the saving of the queries whose "
               "plans read it, shared among the new indexes each plan reads (not re-costed "
               "without it), and no rivals are costed")


def _shared_benefits(chosen: Sequence[Candidate], queries: Sequence[CostedQuery],
                     final: Mapping[str, Cost], pool: Pool, catalog: Catalog,
                     base: Mapping[str, float],
                     hashed: frozenset[Candidate]) -> tuple[Recommendation, ...]:
    """Benefits without an EXPLAIN, from the final plans: each query's saving under the set
    is shared equally among the chosen indexes its plan reads, so the benefits add up to
    what the plans read saves (a marginal benefit needs one EXPLAIN per index and query)."""
    benefit = dict.fromkeys(chosen, 0.0)
    served: dict[Candidate, list[str]] = {c: [] for c in chosen}
    for q in queries:
        cost = final.get(q.key)
        if cost is None:
            continue
        reads = [c for c in chosen if c in cost.used]
        for cand in reads:
            benefit[cand] += q.weight * (base[q.key] - cost.cost) / len(reads)
            served[cand].append(q.key)
    out = [Recommendation(
        candidate=cand, ddl=create_index_ddl(cand, catalog, hashed=cand in hashed),
        size_bytes=pool.sizes[cand], benefit=round(benefit[cand], 2),
        write_overhead=round(pool.write_cost.get(cand, 0.0), 2),
        queries=tuple(sorted(served[cand])), write_detail=pool.writes.get(cand))
        for cand in chosen]
    return tuple(sorted(out, key=lambda r: (-r.benefit, r.candidate)))


RIVALS_TRIED = 3  # rivals re-costed in a recommendation's place (the best by their lone saving)
RIVALS_KEPT = 2


def _rivals(cand: Candidate, chosen: Narrow, served: Sequence[CostedQuery],
            costs: CachedCosts, pool: Pool, offered: Narrow, base: Mapping[str, float],
            space: SearchSpace) -> tuple[Rival, ...]:
    """The candidates left out that would have done most of `cand`'s job: each costed in its
    place (the rest of the chosen set kept) on the queries `cand` serves. Pre-ranked by what
    each saves alone on those queries, where the search costed that already (a candidate it
    never costed alone could not compete)."""
    alone: list[tuple[float, Candidate]] = []
    keys = {q.key for q in served}
    leads = {lead for q in served for lead in q.leading}
    for rival in (r for lead in leads for r in offered.by_lead.get(lead, ())):
        if rival in chosen.by_lead.get(rival.lead, ()):
            continue
        mine = [q for q in space.relevant.get(rival, ()) if q.key in keys]
        if not mine:
            continue
        known = [(q, costs.peek(q, [rival])) for q in mine]
        if any(cost is None for _, cost in known):
            continue
        saving = sum(q.weight * (base[q.key] - cost.cost) for q, cost in known
                     if cost is not None)
        if saving > 0:
            alone.append((saving, rival))
    out = []
    for _, rival in sorted(alone, key=lambda t: (-t[0], t[1]))[:RIVALS_TRIED]:
        benefit = sum(q.weight * (costs.cost(q, chosen.of(q, cand)).cost
                                  - costs.cost(q, chosen.of(q, cand, rival)).cost)
                      for q in served)
        out.append(Rival(rival, benefit, pool.sizes[rival], pool.write_cost.get(rival, 0.0)))
    return tuple(sorted(out, key=lambda r: (-r.benefit, r.candidate))[:RIVALS_KEPT])
