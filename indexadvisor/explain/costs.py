"""What-if costs with a cache keyed by (query, the candidates relevant to it), costs derived
without EXPLAIN where the planner's own answers allow it, EXPLAINs spread over several HypoPG
sessions, and the plans a report shows.

A query's cost under a configuration depends only on the candidates that can touch its plan,
so two configurations that agree on those share one EXPLAIN.

**Derivation.** The planner is a cost minimiser over the indexes it is offered: if the plan
under a configuration C reads only the subset U of C, that plan is available under every S
with U <= S <= C, and nothing better is (S offers less than C), so cost(S) = cost(C). Entries
whose plan leaves some of C unused are kept as sources; a miss that lies between a source's U
and C is answered from it, and counted (`derived`).

**Parallel sessions.** `prefetch` takes the cost look-ups a search is about to make and sends
the misses to every session at once (one thread per session, each its own connection and its
own hypothetical indexes); the search then reads them from the cache in its own order, so it
decides exactly as it would serially.

Costs are kept for every configuration asked about. Plans are kept as the JSON text the server
sent, parsed only when a report asks for one (`plan`): the no-new-index plan of every query
always, the others up to `plan_bytes` of text, least recently used first out. A plan asked for
after it was let go is planned again, and counted (`replanned`).

`exact` costs a query with a whole configuration live, not only the candidates relevant to it:
the final configuration's costs and plans, which every outcome is decided from, come from
that EXPLAIN, so they equal an independent EXPLAIN with exactly those indexes even where the
relevance test missed an index the planner uses. Only the indexes on tables the query's plan
can read (`CostedQuery.scope`) are in its key: a set changed on other tables costs it nothing.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from ..model import Candidate, Cost, CostedQuery, Plan, TableName, is_relevant
from .errors import StatementNotCostable
from .hypo import HypoSession

DEFAULT_PLAN_BYTES = 64 << 20
MAX_SOURCES = 24  # derivation sources kept per query (the newest)
PREFETCH_WAVE = 4  # look-ups per session dispatched at once
# Statements on fewer tables plan in about a millisecond: costed in the main session, in the
# order the search asks (threads would cost more than they save, and the search then derives
# exactly what a serial run derives)
PARALLEL_MIN_TABLES = 2
BY_LEAD_KEPT = 16  # configurations kept indexed by leading key (`relevant`)

_Key = tuple[str, frozenset[Candidate]]
_EXACT = "exact\0"  # key prefix of a query costed with a whole configuration live


@dataclass(frozen=True)
class _Explained:
    """One EXPLAIN: the cost, the server's JSON text, hypothetical names as our DDL's."""

    cost: Cost
    text: str
    names: dict[str, str]


_T = TypeVar("_T")


def _indexed(kept: OrderedDict[frozenset[Candidate], dict[_T, list[Candidate]]],
             config: frozenset[Candidate], by: Callable[[Candidate], _T],
             ) -> dict[_T, list[Candidate]]:
    """`config` grouped by `by`, made once and kept among the last BY_LEAD_KEPT ones."""
    index = kept.get(config)
    if index is None:
        index = {}
        for c in config:
            index.setdefault(by(c), []).append(c)
        kept[config] = index
        if len(kept) > BY_LEAD_KEPT:
            kept.popitem(last=False)
    else:
        kept.move_to_end(config)
    return index


def _index_names(node: Mapping[str, Any]) -> Iterator[str]:
    """Every "Index Name" of a raw plan tree, from the JSON (never from the text form)."""
    name = node.get("Index Name")
    if name:
        yield name
    for child in node.get("Plans", ()):
        yield from _index_names(child)


class CachedCosts:
    """CostModel over one or more HypoSessions, with the relevant-subset cache, derivation
    and its counters. `sessions[0]` answers single look-ups; all share `prefetch`."""

    def __init__(self, session: HypoSession, *, workers: Sequence[HypoSession] = (),
                 plan_bytes: int = DEFAULT_PLAN_BYTES, derive: bool = True) -> None:
        self.session = session
        self.sessions = [session, *workers]
        self.derive = derive
        self.requests = 0
        self.hits = 0
        self.derived = 0  # look-ups answered by derivation, no EXPLAIN
        self.replanned = 0  # plans asked for again after they were let go
        self.stage = "costing"
        self.by_stage: Counter[str] = Counter()  # EXPLAINs per pipeline stage
        self.plan_bytes = plan_bytes
        self._cache: dict[_Key, Cost] = {}
        self._sources: dict[str, list[tuple[frozenset[Candidate], Cost]]] = {}
        self._derived_from: dict[_Key, _Key] = {}
        self._by_lead: OrderedDict[frozenset[Candidate],
                                   dict[tuple[TableName, str], list[Candidate]]] = OrderedDict()
        self._by_table: OrderedDict[frozenset[Candidate],
                                    dict[TableName, list[Candidate]]] = OrderedDict()
        self._plans: OrderedDict[_Key, tuple[str, dict[str, str]]] = OrderedDict()
        self._held = 0  # characters of plan text in _plans
        self._base: dict[str, tuple[str, dict[str, str]]] = {}  # no new index, per query
        self._pool = (ThreadPoolExecutor(max_workers=len(self.sessions),
                                         thread_name_prefix="whatif")
                      if len(self.sessions) > 1 else None)

    @property
    def parallelism(self) -> int:
        """Sessions that cost in parallel."""
        return len(self.sessions)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def relevant(self, query: CostedQuery,
                 configuration: Iterable[Candidate]) -> frozenset[Candidate]:
        """The part of `configuration` that can change `query`'s plan (`is_relevant`).

        Searches ask about the same configuration for many queries (every query an index
        touches, with all the chosen ones): the configuration is indexed by leading key
        once (the last few kept), so a look-up costs the query's keys, not the
        configuration's size (thousands of statements, a hundred chosen indexes)."""
        config = configuration if isinstance(configuration, frozenset) \
            else frozenset(configuration)
        if len(config) < 8:
            return frozenset(c for c in config if is_relevant(c, query.leading))
        index = _indexed(self._by_lead, config, lambda c: c.lead)
        leads = query.leading
        if len(leads) <= len(index):
            return frozenset(c for lead in leads for c in index.get(lead, ()))
        return frozenset(c for lead, cands in index.items() if lead in leads for c in cands)

    def _on_tables(self, config: frozenset[Candidate],
                   tables: frozenset[TableName]) -> frozenset[Candidate]:
        """The part of `config` on `tables` (the configuration indexed by table once, as in
        `relevant`)."""
        if len(config) < 8:
            return frozenset(c for c in config if c.table in tables)
        index = _indexed(self._by_table, config, lambda c: c.table)
        return frozenset(c for t in tables for c in index.get(t, ()))

    # -- look-ups --------------------------------------------------------------------------
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
        if exact and query.scope:  # indexes on tables its plan cannot read change nothing
            configuration = self._on_tables(configuration, query.scope)
        if not exact or relevant == configuration:
            return (query.key, relevant)  # the same indexes live: the same EXPLAIN
        return (_EXACT + query.key, configuration)

    def _lookup(self, query: CostedQuery, key: _Key) -> Cost:
        self.requests += 1
        found = self._known(key)
        if found is not None:
            self.hits += 1
            return found
        return self._record(query, key, self._run(self.session, query, key[1]))

    def _known(self, key: _Key) -> Cost | None:
        """A cached or derivable cost, else None."""
        found = self._cache.get(key)
        if found is not None:
            if key in self._plans:
                self._plans.move_to_end(key)
            return found
        if self.derive:
            for config, cost in self._sources.get(key[0], ()):
                if cost.used <= key[1] <= config:
                    self._cache[key] = cost
                    self._derived_from[key] = (key[0], config)
                    self.derived += 1
                    return cost
        return None

    def peek(self, query: CostedQuery, configuration: Iterable[Candidate]) -> Cost | None:
        """The cost if it is known (cached or derivable) without an EXPLAIN, else None."""
        return self._known(self._key(query, configuration, exact=False))

    def prefetch(self, requests: Iterable[tuple[CostedQuery, Iterable[Candidate]]], *,
                 exact: bool = False) -> None:
        """Cost these look-ups ahead, the misses spread over every session in parallel
        (`exact`: as `exact` would). Serial (one session): nothing to do, the look-ups will
        be made one by one."""
        if self._pool is None:
            return
        wanted: dict[_Key, CostedQuery] = {}
        for query, configuration in requests:
            if len(query.scope) < PARALLEL_MIN_TABLES:
                continue
            key = self._key(query, configuration, exact=exact)
            if key in wanted or self._known(key) is not None:
                continue
            wanted[key] = query
        if not wanted:
            return
        # whole runs of one configuration go to one session (fewer HypoPG changes); in waves
        # of a few per session, so what the last wave answered can answer the next by
        # derivation, as it would serially
        runs: dict[frozenset[Candidate], list[tuple[_Key, CostedQuery]]] = {}
        for key, query in wanted.items():
            runs.setdefault(key[1], []).append((key, query))
        pending = [item for run in runs.values() for item in run]
        size = PREFETCH_WAVE * len(self.sessions)
        while pending:
            wave, pending = pending[:size], pending[size:]
            self._dispatch(wave)
            pending = [(key, query) for key, query in pending if self._known(key) is None]

    def _dispatch(self, wave: list[tuple[_Key, CostedQuery]]) -> None:
        """EXPLAIN `wave` on every session at once, then record it. Runs of one configuration
        stay together; each session takes the next run as soon as it is free (a wide join
        plans for 50 ms, a lookup for 1: fixed shares would wait for the slowest)."""
        assert self._pool is not None
        runs: deque[list[tuple[_Key, CostedQuery]]] = deque()
        for item in wave:
            if runs and runs[-1][0][0][1] == item[0][1]:
                runs[-1].append(item)
            else:
                runs.append([item])

        def work(session: HypoSession,
                 ) -> list[tuple[_Key, CostedQuery, _Explained | StatementNotCostable]]:
            out: list[tuple[_Key, CostedQuery, _Explained | StatementNotCostable]] = []
            while True:
                try:
                    run = runs.popleft()  # atomic: sessions never take the same run
                except IndexError:
                    return out
                for key, query in run:
                    try:
                        out.append((key, query, self._run(session, query, key[1])))
                    except StatementNotCostable as exc:
                        out.append((key, query, exc))

        futures = [self._pool.submit(work, session)
                   for session in self.sessions[:len(runs)]]
        done = [item for future in futures for item in future.result()]
        order = {key: n for n, (key, _) in enumerate(wave)}
        for key, query, result in sorted(done, key=lambda item: order[item[0]]):
            if not isinstance(result, StatementNotCostable):
                self._record(query, key, result)
            # a failure is not kept: the look-up itself will EXPLAIN again and raise, and
            # a statement whose parameter values fail is costed again without them

    def plan(self, query: CostedQuery, configuration: Iterable[Candidate], *,
             exact: bool = False) -> Plan:
        """The plan of `query` under `configuration` (`exact`: with all of it live),
        hypothetical indexes named as our DDL names them."""
        key = self._key(query, configuration, exact=exact)
        source = self._derived_from.get(key, key)
        kept = self._base.get(query.key) if not source[1] else self._plans.get(source)
        if kept is None:
            self.replanned += 1
            self._record(query, key, self._run(self.session, query, key[1]))
            kept = self._base[query.key] if not key[1] else self._plans[key]
        elif source[1]:
            self._plans.move_to_end(source)
        text, names = kept
        plan = Plan.from_explain(json.loads(text))
        return plan.renamed(names) if names else plan

    # -- EXPLAIN ---------------------------------------------------------------------------
    def _run(self, session: HypoSession, query: CostedQuery,
             configuration: frozenset[Candidate]) -> _Explained:
        """EXPLAIN under `configuration`, the plan's index names resolved on the session that
        made them (hypothetical names are forgotten once their indexes are dropped)."""
        session.use(configuration, query.scope or None)
        text = session.explain_json(query.text, query.params, query.param_count)
        top = json.loads(text)[0]["Plan"]
        used = set()
        existing = []
        names: dict[str, str] = {}
        for name in _index_names(top):
            cand = session.candidate_for(name)
            if cand is not None:
                used.add(cand)
                names[name] = session.display_name(name) or name
            else:
                existing.append(name)
        written = (float(sum(child.get("Plan Rows", 0.0) for child in top.get("Plans", ())))
                   if top.get("Node Type") == "ModifyTable" else 0.0)
        cost = Cost(float(top["Total Cost"]), frozenset(used), tuple(sorted(set(existing))),
                    written)
        return _Explained(cost, text, names)

    def _record(self, query: CostedQuery, key: _Key, explained: _Explained) -> Cost:
        self.by_stage[self.stage] += 1
        result, text, names = explained.cost, explained.text, explained.names
        self._cache[key] = result
        if result.used < key[1]:  # some of the configuration left unused: a source
            sources = self._sources.setdefault(query.key, [])
            sources.append((key[1], result))
            if len(sources) > MAX_SOURCES:
                del sources[0]
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
        return sum(s.explain_calls for s in self.sessions)
