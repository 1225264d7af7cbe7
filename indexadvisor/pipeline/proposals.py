"""Stage 2, proposals: each query's candidate indexes (btree keys, covering, partial, BRIN,
hash), split from those an existing index already covers; then the ones the server refuses to
create (an expression that is not IMMUTABLE) taken out, with why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..candidates.btree import query_candidates
from ..candidates.covering import (
    covering_candidates,
    covering_unions,
    real_gain,
    serving_index,
)
from ..candidates.existing import distinct_map, filter_existing
from ..candidates.methods import method_candidates
from ..candidates.partial import partial_candidates, partial_filters
from ..catalog import Catalog
from ..explain.costs import CachedCosts
from ..explain.hypo import HypoSession
from ..model import AdvisorConfig, Candidate, is_relevant
from .analysis import Analyzed
from .baseline import Baseline


@dataclass(frozen=True)
class Proposals:
    """Per query (by key): new candidates and those existing indexes cover."""

    fresh: Mapping[str, tuple[Candidate, ...]]
    covered: Mapping[str, Mapping[Candidate, str]]  # candidate -> the existing index
    fractions: Mapping[Candidate, float]  # partial candidates: share of rows they hold
    refused: Mapping[Candidate, str]  # candidates the server would not create, and why
    first: Mapping[str, tuple[Candidate, ...]]  # fresh, before refusals

    @property
    def candidates(self) -> list[Candidate]:
        """Every distinct fresh candidate, sorted."""
        return sorted({c for cands in self.fresh.values() for c in cands})

    def refused_for(self, key: str) -> dict[Candidate, str]:
        return {c: self.refused[c] for c in self.first.get(key, ()) if c in self.refused}


def propose(analyzed: Analyzed, catalog: Catalog, config: AdvisorConfig) -> Proposals:
    """Candidate indexes for every query advised on (pure)."""
    distinct = distinct_map(catalog)
    fresh: dict[str, tuple[Candidate, ...]] = {}
    covered: dict[str, Mapping[Candidate, str]] = {}
    fraction: dict[Candidate, float] = {}
    for item in analyzed.reads:
        keys = query_candidates(item.analysis.uses, distinct, max_width=config.max_width)
        filters = (partial_filters(item.query.samples, analyzed.schema, catalog)
                   if config.partial else [])
        partials = partial_candidates(keys, filters)
        for cand in partials:
            fraction[cand] = min(f.fraction for f in filters if f.where == cand.where)
        if config.covering:
            keys += covering_candidates(keys, item.analysis.uses, catalog)
        keys += partials
        keys += method_candidates(item.analysis.uses, catalog)
        new, existing = filter_existing(keys, catalog)
        fresh[item.key] = tuple(new)
        covered[item.key] = existing
    for key, unions in covering_unions(fresh, catalog).items():
        new, _ = filter_existing(unions, catalog)
        fresh[key] = tuple(sorted({*fresh[key], *new}))
    return Proposals(fresh, covered, fraction, {}, dict(fresh))


def beside_existing(proposals: Proposals, baseline: Baseline, costs: CachedCosts,
                    catalog: Catalog) -> Proposals:
    """Proposals without the covering variants that an existing index serving their key
    leaves nothing real to gain from (candidates.covering.real_gain): for every query they
    could serve, the variant alone saves less than a few heap pages per execution. Such a
    variant counts as covered by that index, so a query left with none says which index
    already serves it. (Its EXPLAINs are the ones the selection starts with: cached.)"""
    drop: dict[Candidate, str] = {}
    for cand in proposals.candidates:
        index = serving_index(cand, catalog)
        if index is None:
            continue
        savings = [baseline.base[item.key] - costs.cost(item.costed, [cand]).cost
                   for item in baseline.reads if is_relevant(cand, item.costed.leading)]
        if not any(real_gain(s) for s in savings):
            drop[cand] = index.qualified_name
    if not drop:
        return proposals
    fresh = {key: tuple(c for c in cands if c not in drop)
             for key, cands in proposals.fresh.items()}
    covered = {key: {**proposals.covered.get(key, {}),
                     **{c: drop[c] for c in proposals.fresh.get(key, ()) if c in drop}}
               for key in proposals.fresh}
    return replace(proposals, fresh=fresh, covered=covered)


def refuse(proposals: Proposals, session: HypoSession) -> Proposals:
    """Proposals without the candidates the server refuses (each expression key tried once)."""
    refused = session.refused(proposals.candidates)
    if not refused:
        return proposals
    fresh = {key: tuple(c for c in cands if c not in refused)
             for key, cands in proposals.fresh.items()}
    return replace(proposals, fresh=fresh, refused=refused)

