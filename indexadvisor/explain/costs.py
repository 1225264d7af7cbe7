"""What-if costs with a cache keyed by (query, the candidates relevant to it), and the plans a
report shows.

A query's cost under a configuration depends only on the candidates that can touch its plan,
so two configurations that agree on those share one EXPLAIN. The counters are reported.

Costs are kept for every configuration asked about (a few numbers each). Plans are kept as the
JSON text the server sent, parsed only when a report asks for one (`plan`): the no-new-index
plan of every query always, the others up to `plan_bytes` of text, least recently used first
out. A plan asked for after it was let go is planned again, and counted (`replanned`).

`exact` costs a query with a whole configuration live, not only the candidates relevant to it:
the final configuration's costs and plans, which every outcome is decided from, come from
that EXPLAIN, so they equal an independent EXPLAIN with exactly those indexes even where the
relevance test missed an index the planner uses.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..model import Candidate, Cost, CostedQuery, Plan, is_relevant
from .hypo import HypoSession

DEFAULT_PLAN_BYTES = 64 << 20

_Key = tuple[str, frozenset[Candidate]]
_EXACT = "exact\0"  # key prefix of a query costed with a whole configuration live


def _index_names(node: Mapping[str, Any]) -> Iterator[str]:
    """Every "Index Name" of a raw plan tree, from the JSON (never from the text form)."""
    name = node.get("Index Name")
    if name:
        yield name
    for child in node.get("Plans", ()):
        yield from _index_names(child)


class CachedCosts:
    """CostModel over a HypoSession, with the relevant-subset cache and its counters."""

    def __init__(self, session: HypoSession, *, plan_bytes: int = DEFAULT_PLAN_BYTES) -> None:
        self.session = session
        self.requests = 0
        self.hits = 0
        self.replanned = 0  # plans asked for again after they were let go
        self.plan_bytes = plan_bytes
        self._cache: dict[_Key, Cost] = {}
        self._plans: OrderedDict[_Key, tuple[str, dict[str, str]]] = OrderedDict()
        self._held = 0  # characters of plan text in _plans
        self._base: dict[str, tuple[str, dict[str, str]]] = {}  # no new index, per query

    def relevant(self, query: CostedQuery,
                 configuration: Iterable[Candidate]) -> frozenset[Candidate]:
        return frozenset(c for c in configuration if is_relevant(c, query.leading))

    def cost(self, query: CostedQuery, configuration: Iterable[Candidate]) -> Cost:
        """Cost of `query` with `configuration` live; raises StatementNotCostable for a bad
        query (its own fault)."""
        return self._lookup(query, self._key(query, configuration, exact=False))

    def exact(self, query: CostedQuery, configuration: Iterable[Candidate]) -> Cost:
        """Cost of `query` with every index of `configuration` live (see the module doc)."""
        return self._lookup(query, self._key(query, configuration, exact=True))

    def _key(self, query: CostedQuery, configuration: Iterable[Candidate], *,
             exact: bool) -> _Key:
        configuration = frozenset(configuration)
        relevant = self.relevant(query, configuration)
        if not exact or relevant == configuration:
            return (query.key, relevant)  # the same indexes live: the same EXPLAIN
        return (_EXACT + query.key, configuration)

    def _lookup(self, query: CostedQuery, key: _Key) -> Cost:
        self.requests += 1
        found = self._cache.get(key)
        if found is not None:
            self.hits += 1
            if key in self._plans:
                self._plans.move_to_end(key)
            return found
        return self._explain(query, key)

    def plan(self, query: CostedQuery, configuration: Iterable[Candidate], *,
             exact: bool = False) -> Plan:
        """The plan of `query` under `configuration` (`exact`: with all of it live),
        hypothetical indexes named as our DDL names them."""
        key = self._key(query, configuration, exact=exact)
        kept = self._base.get(query.key) if not key[1] else self._plans.get(key)
        if kept is None:
            self.replanned += 1
            self._explain(query, key)
            kept = self._base[query.key] if not key[1] else self._plans[key]
        elif key[1]:
            self._plans.move_to_end(key)
        text, names = kept
        plan = Plan.from_explain(json.loads(text))
        return plan.renamed(names) if names else plan

    def _explain(self, query: CostedQuery, key: _Key) -> Cost:
        self.session.use(key[1])
        text = self.session.explain_json(query.text, query.params, query.param_count)
        top = json.loads(text)[0]["Plan"]
        used = set()
        existing = []
        names: dict[str, str] = {}
        for name in _index_names(top):
            cand = self.session.candidate_for(name)
            if cand is not None:
                used.add(cand)
                names[name] = self.session.display_name(name) or name
            else:
                existing.append(name)
        written = (float(sum(child.get("Plan Rows", 0.0) for child in top.get("Plans", ())))
                   if top.get("Node Type") == "ModifyTable" else 0.0)
        result = Cost(float(top["Total Cost"]), frozenset(used), tuple(sorted(set(existing))),
                      written)
        self._cache[key] = result
        if not key[1]:
            self._base[query.key] = (text, names)
        else:
            self._keep(key, text, names)
        return result

    def _keep(self, key: _Key, text: str, names: dict[str, str]) -> None:
        old = self._plans.pop(key, None)
        if old is not None:
            self._held -= len(old[0])
        self._plans[key] = (text, names)
        self._held += len(text)
        while self._held > self.plan_bytes and len(self._plans) > 1:
            _, (dropped, _) = self._plans.popitem(last=False)
            self._held -= len(dropped)

    @property
    def explain_calls(self) -> int:
        return self.session.explain_calls
