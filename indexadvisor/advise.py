"""The pipeline in one readable function: workload in, justified advice out.

    catalog -> analyze -> candidates -> what-if costing -> selection -> verdicts

Every query leaves with exactly one `Outcome` and a reason a DBA can act on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import pglast
import psycopg

from . import __version__
from .access_methods import (
    NotCosted,
    gin_note,
    gin_proposals,
    installed_extensions,
    method_candidates,
    query_gin_uses,
)
from .analyze import Analysis, SchemaMap, StatementError, analyze, parse_statement
from .candidates import (
    LEADING,
    covering_candidates,
    distinct_map,
    filter_existing,
    is_relevant,
    query_candidates,
)
from .catalog import Catalog, read_catalog
from .config import AdvisorConfig
from .costing import CachedWhatIfCosts, CostedQuery
from .ddl import create_index_ddl
from .dropsim import DropVerdict, advise_drops
from .errors import ConfigError
from .model import (
    Candidate,
    Outcome,
    Query,
    QueryResult,
    Recommendation,
    TableName,
    Workload,
    is_expression,
)
from .param_values import Binding, catalog_stats, param_uses, synthesize
from .partial import partial_candidates, partial_filters
from .selection import ALGORITHMS, Limits, Selection
from .sizes import candidate_btree_size
from .whatif import StatementNotCostable, WhatIf
from .writes import WriteLoad, counter_loads, table_writes, write_overhead

WRITE_KINDS = frozenset({"insert", "update", "delete", "merge"})


@dataclass(frozen=True)
class Bounds:
    """Workload cost (calls-weighted) of the baselines that run beside every selection."""

    no_index: float
    all_candidates: float
    all_candidates_bytes: int
    candidates: int


@dataclass(frozen=True)
class Advice:
    """Everything one run found; reports render it, nothing here does I/O."""

    tool_version: str
    server_version: str
    server_version_num: int
    hypopg_version: str
    config: AdvisorConfig
    workload: Workload
    results: tuple[QueryResult, ...]
    recommendations: tuple[Recommendation, ...]
    bounds: Bounds
    selection_stop: str
    whatif_calls: int
    cache_requests: int
    cache_hits: int
    elapsed_s: float
    drops: tuple[DropVerdict, ...] = ()  # existing indexes to drop (or keep), see dropsim.py
    not_costed: tuple[NotCosted, ...] = ()  # GIN proposals HypoPG cannot cost (access_methods)

    @property
    def cost_before(self) -> float:
        return sum(r.query.calls * r.cost_before for r in self.results
                   if r.cost_before is not None and r.cost_after is not None)

    @property
    def cost_after(self) -> float:
        return sum(r.query.calls * r.cost_after for r in self.results
                   if r.cost_before is not None and r.cost_after is not None)

    @property
    def improvement_pct(self) -> float:
        before = self.cost_before
        return 0.0 if before <= 0 else 100.0 * (before - self.cost_after) / before

    @property
    def index_bytes(self) -> int:
        return sum(r.size_bytes for r in self.recommendations)


@dataclass(frozen=True)
class _Analyzed:
    query: Query
    analysis: Analysis
    costed: CostedQuery
    kind: str
    verdict: QueryResult | None = None  # set for statements we only weigh as writes
    binding: Binding | None = None  # pg_stats values for its $n when none were captured
    values_note: str = ""  # how its $n were costed, appended to its reason


def advise(workload: Workload, conn: psycopg.Connection,
           config: AdvisorConfig | None = None,
           progress: Callable[[str], None] | None = None, *, sandbox: bool = False) -> Advice:
    """Run the whole advisor on `workload` against the database behind `conn`.

    `conn` must be a connection from `indexadvisor.db.connect` (read-only, guarded); nothing
    is written to the database. `progress` is told the stage being worked on. `sandbox=True`
    only when `conn` is a throwaway database we created: drop advice may then simulate a
    DROP INDEX in a rolled-back transaction there.
    """
    config = config or AdvisorConfig()
    say = progress or (lambda _message: None)
    if config.algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown selection algorithm {config.algorithm!r}",
                          hint="choose one of: " + ", ".join(sorted(ALGORITHMS)))
    started = time.perf_counter()
    say("reading the catalog")
    catalog = read_catalog(conn)
    say(f"analyzing {len(workload.queries)} queries")
    schema = SchemaMap(tables=catalog.schema_columns, search_path=catalog.search_path)

    results: dict[str, QueryResult] = {}
    analyzed: list[_Analyzed] = []
    writes: list[_Analyzed] = []
    for query in workload.queries:
        verdict, item = _analyze_one(query, schema, catalog)
        if item is not None and item.kind in WRITE_KINDS:
            writes.append(item)
        if verdict is not None:
            results[query.fingerprint] = verdict
        elif item is not None:
            analyzed.append(item)

    distinct = distinct_map(catalog)
    proposed: dict[str, list[Candidate]] = {}
    fraction: dict[Candidate, float] = {}  # partial candidates: share of rows they hold
    covered: dict[str, dict[Candidate, str]] = {}
    for item in analyzed:
        keys = query_candidates(item.analysis.uses, distinct, max_width=config.max_width)
        filters = partial_filters(item.query.samples, schema, catalog) if config.partial else []
        partials = partial_candidates(keys, filters)
        for cand in partials:
            fraction[cand] = min(f.fraction for f in filters if f.where == cand.where)
        if config.covering:
            keys += covering_candidates(keys, item.analysis.uses, catalog)
        keys += partials
        keys += method_candidates(item.analysis.uses, catalog)  # BRIN, hash (access_methods)
        fresh, existing = filter_existing(keys, catalog)
        proposed[item.query.fingerprint] = fresh
        covered[item.query.fingerprint] = existing
    candidates = sorted({c for cands in proposed.values() for c in cands})
    first = dict(proposed)  # before the server refuses any

    with WhatIf(conn, catalog) as whatif:
        refused = whatif.refused(candidates)  # e.g. an expression that is not IMMUTABLE
        if refused:
            candidates = [c for c in candidates if c not in refused]
            proposed = {key: [c for c in cands if c not in refused]
                        for key, cands in proposed.items()}
        say(f"costing {len(analyzed)} queries without new indexes")
        costs = CachedWhatIfCosts(whatif)
        settled = _settle_values([*analyzed, *writes], costs)
        analyzed = [settled[item.query.fingerprint] for item in analyzed]
        writes = [settled[item.query.fingerprint] for item in writes]
        base: dict[str, float] = {}
        costable: list[_Analyzed] = []
        for item in analyzed:
            try:
                base[item.query.fingerprint] = costs.cost(item.costed, ()).cost
                costable.append(item)
            except StatementNotCostable as exc:
                results[item.query.fingerprint] = QueryResult(
                    item.query, Outcome.NOT_COSTABLE, f"EXPLAIN failed: {exc.message}")
        # keep what some costable query can use (not only the query that proposed it)
        candidates = [c for c in candidates
                      if any(is_relevant(c, item.costed.leading) for item in costable)]
        say(f"sizing {len(candidates)} candidate indexes")
        sizes = {c: candidate_btree_size(c, catalog, fraction.get(c, 1.0)) or whatif.size(c)
                 for c in candidates}
        queries = [item.costed for item in costable]
        # -- write costs: workload writes, else the table counters (writes.py) -------------
        loads = _write_loads(writes, costs, results)
        if not sandbox:  # a sandbox's counters only count our own data load
            loads += counter_loads(catalog, loads, config.counter_weight, workload)
        parents = {name: table.parent for name, table in catalog.tables.items()
                   if table.parent is not None}
        tables = table_writes(catalog)
        write_detail = {c: write_overhead(c, loads, tables, parents,
                                          share=fraction.get(c, 1.0)) for c in candidates}
        write_cost = {c: detail.total for c, detail in write_detail.items()}
        # -- end of write costs ------------------------------------------------------------

        say(f"selecting among {len(candidates)} candidates ({config.algorithm})")
        everything = {item.query.fingerprint: costs.cost(item.costed, candidates).cost
                      for item in costable}
        selection = ALGORITHMS[config.algorithm](
            queries, candidates, sizes, costs,
            Limits(config.budget_bytes, config.max_indexes, config.min_gain, write_cost),
        )
        final = {item.query.fingerprint: costs.cost(item.costed, selection.chosen)
                 for item in costable}
        recommendations = _recommend(selection, queries, costs, sizes, write_cost, catalog)
        recommendations = tuple(replace(r, write_detail=write_detail.get(r.candidate))
                                for r in recommendations)
        for item in costable:
            key = item.query.fingerprint
            used = final[key].used | {r.candidate for r in recommendations if key in r.queries}
            results[key] = _verdict(item, base[key], final[key].cost, everything[key],
                                    used, final[key].existing, proposed[key],
                                    covered[key], selection, config,
                                    {c: refused[c] for c in first[key] if c in refused})

    # -- drop advice: existing indexes the database could lose (drops.py, dropsim.py) -------
    say("pricing index drops")
    drops = advise_drops(conn, catalog, [item.costed for item in costable],
                         [r.candidate for r in recommendations], sandbox=sandbox,
                         tables={item.query.fingerprint: item.analysis.tables
                                 for item in costable}, loads=loads)
    # -- end of drop advice -------------------------------------------------------------------

    # -- GIN proposals HypoPG cannot cost (access_methods.py) -----------------------------------
    gin_found = {item.query.fingerprint: query_gin_uses(item.query, schema) for item in analyzed}
    not_costed = gin_proposals(gin_found, catalog, installed_extensions(conn))
    for key, result in list(results.items()):
        note = gin_note(not_costed, key)
        if note is not None and result.outcome is not Outcome.IMPROVED:
            results[key] = replace(result, reason=f"{result.reason}; {note}")
    # -- end of GIN proposals -------------------------------------------------------------------

    for item in settled.values():  # say which values a $n statement was costed with
        if item.values_note and item.query.fingerprint in results:
            found = results[item.query.fingerprint]
            results[item.query.fingerprint] = replace(
                found, reason=f"{found.reason}; {item.values_note}")
    ordered = tuple(results[q.fingerprint] for q in workload.queries)
    weighted = {item.query.fingerprint: item.query.calls for item in costable}
    bounds = Bounds(
        no_index=sum(weighted[k] * base[k] for k in weighted),
        all_candidates=sum(weighted[k] * everything[k] for k in weighted),
        all_candidates_bytes=sum(sizes.values()),
        candidates=len(candidates),
    )
    return Advice(
        tool_version=__version__,
        server_version=catalog.server_version,
        server_version_num=catalog.server_version_num,
        hypopg_version=catalog.hypopg_version or "",
        config=config,
        workload=workload,
        results=ordered,
        recommendations=recommendations,
        bounds=bounds,
        selection_stop=selection.stop_reason,
        whatif_calls=costs.explain_calls,
        cache_requests=costs.requests,
        cache_hits=costs.hits,
        elapsed_s=time.perf_counter() - started,
        drops=drops,
        not_costed=not_costed,
    )


def _analyze_one(query: Query, schema: SchemaMap, catalog: Catalog | None = None,
                 ) -> tuple[QueryResult | None, _Analyzed | None]:
    """Analyze one query, or say why it cannot be advised on. A `$n` statement without
    captured parameters gets values from pg_stats (param_values) when `catalog` is given."""
    try:
        parsed = parse_statement(query.text)
        analysis = analyze(query.text, schema)
    except StatementError as exc:  # collect already filtered these; kept for direct callers
        return QueryResult(query, Outcome.UNPARSEABLE, exc.message), None
    if analysis.unknown_tables:
        names = ", ".join(analysis.unknown_tables)
        path = ", ".join(schema.search_path)
        return QueryResult(query, Outcome.UNKNOWN_TABLE,
                           f"not in the database: {names} (search_path: {path})"), None
    if not analysis.tables:
        return QueryResult(query, Outcome.NOT_ADVISED, "reads no table"), None
    sample = query.samples[0] if query.samples else None
    params = sample.params if sample is not None and sample.params else None
    binding = None
    if params is None and parsed.param_count > 0 and catalog is not None:
        binding = synthesize(param_uses(query.text, schema), parsed.param_count,
                             catalog_stats(catalog))
        params = binding.params
    leading = frozenset((u.table, u.column) for u in analysis.uses if u.kind in LEADING)
    costed = CostedQuery(query, query.text, parsed.param_count, params, leading)
    if parsed.kind == "insert" and not leading:
        verdict = QueryResult(query, Outcome.NOT_ADVISED,
                              "INSERT without a query part: nothing to index; counted as write "
                              "load on every index of its table")
        return verdict, _Analyzed(query, analysis, costed, parsed.kind, verdict, binding)
    return None, _Analyzed(query, analysis, costed, parsed.kind, binding=binding)


def _settle_values(items: Sequence[_Analyzed], costs: CachedWhatIfCosts) -> dict[str, _Analyzed]:
    """Each statement by fingerprint, its pg_stats values tried once (the EXPLAIN is the
    no-new-index cost, cached for later): kept with a note when the server takes them,
    dropped for the generic plan, with the server's words, when it does not."""
    out: dict[str, _Analyzed] = {}
    for item in items:
        key = item.query.fingerprint
        if key in out or item.binding is None:
            out.setdefault(key, item)
            continue
        binding = item.binding
        if binding.params is None:
            out[key] = replace(item, values_note=f"generic plan: {binding.describe()}")
            continue
        try:
            costs.cost(item.costed, ())
        except StatementNotCostable as exc:
            out[key] = replace(item, costed=replace(item.costed, params=None), values_note=(
                f"generic plan: EXPLAIN with pg_stats values ({binding.describe()}) "
                f"failed: {exc.message}"))
            continue
        out[key] = replace(item, values_note=f"costed with pg_stats values: {binding.describe()}")
    return out


def _write_loads(writes: Sequence[_Analyzed], costs: CachedWhatIfCosts,
                 results: dict[str, QueryResult]) -> list[WriteLoad]:
    """Rows per call of every write statement (its no-new-index plan, usually cached already),
    charged to the tables it writes (`writes` prices them per index)."""
    loads = []
    for item in writes:
        try:
            rows = costs.cost(item.costed, ()).rows_written
        except StatementNotCostable as exc:
            results[item.query.fingerprint] = QueryResult(
                item.query, Outcome.NOT_COSTABLE, f"EXPLAIN failed: {exc.message}")
            continue
        for table in sorted({w.table for w in item.analysis.written_columns}):
            written = frozenset(w.column for w in item.analysis.written_columns
                                if w.table == table)
            loads.append(WriteLoad(table, item.kind, rows, item.query.calls, written))
        if item.kind == "delete":  # writes no column: its target is the DELETE's relation
            loads += [WriteLoad(table, "delete", rows, item.query.calls, frozenset())
                      for table in _delete_target(item)]
    return loads


def _delete_target(item: _Analyzed) -> list[TableName]:
    """The table a DELETE removes rows from (not its USING tables)."""
    try:
        stmt = pglast.parse_sql(item.query.text)[0].stmt
    except pglast.parser.ParseError:
        return []
    relation = getattr(stmt, "relation", None)
    if not isinstance(stmt, pglast.ast.DeleteStmt) or relation is None:
        return []
    return [t for t in item.analysis.tables if t.name == relation.relname
            and relation.schemaname in (None, t.schema)][:1]


def _recommend(selection: Selection, queries: Sequence[CostedQuery], costs: CachedWhatIfCosts,
               sizes: Mapping[Candidate, int], write_cost: Mapping[Candidate, float],
               catalog: Catalog) -> tuple[Recommendation, ...]:
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
            candidate=cand, ddl=create_index_ddl(cand, catalog), size_bytes=sizes[cand],
            benefit=benefit, write_overhead=write_cost.get(cand, 0.0),
            queries=tuple(sorted(served)),
        ))
    return tuple(sorted(out, key=lambda r: (-r.benefit, r.candidate)))


def _verdict(item: _Analyzed, before: float, after: float, best: float,
             used: frozenset[Candidate], existing: tuple[str, ...],
             proposed: Sequence[Candidate], covered: Mapping[Candidate, str],
             selection: Selection, config: AdvisorConfig,
             refused: Mapping[Candidate, str] | None = None) -> QueryResult:
    """The outcome and reason for one costable query (`refused`: its candidates the server
    would not create, with why)."""
    query = item.query
    saving = 0.0 if before <= 0 else (before - after) / before
    best_saving = 0.0 if before <= 0 else (before - best) / before
    names = tuple(sorted(c.label for c in used))

    def result(outcome: Outcome, reason: str) -> QueryResult:
        return QueryResult(query, outcome, reason, before, after, names + existing)

    if saving >= config.min_improvement:
        return result(Outcome.IMPROVED,
                      f"cost {before:,.2f} -> {after:,.2f} (-{100 * saving:.0f}%) with "
                      + "; ".join(names or ("the recommended indexes",)))
    if not proposed:
        if covered:
            served = sorted(set(covered.values()))
            return result(Outcome.ALREADY_OPTIMAL,
                          "every useful index already exists: " + ", ".join(served))
        if refused:
            return result(Outcome.NO_CANDIDATE, "no candidate: " + _refusals(refused))
        return result(Outcome.NO_CANDIDATE,
                      "no column is filtered, joined, sorted or grouped on in a way a btree "
                      "index serves")
    if any(c in selection.rejected_write for c in proposed):
        losers = sorted(c.label for c in proposed if c in selection.rejected_write)
        return result(Outcome.WRITE_COST,
                      f"candidates could save {100 * best_saving:.0f}% but cost more to keep up "
                      f"under the workload's writes than they save: " + "; ".join(losers[:3]))
    if best_saving < config.min_improvement:
        return result(Outcome.BELOW_THRESHOLD,
                      f"even all {len(proposed)} candidates together save only "
                      f"{100 * max(best_saving, 0):.1f}% (threshold "
                      f"{100 * config.min_improvement:.0f}%)")
    return result(Outcome.OVER_BUDGET,
                  f"candidates could save {100 * best_saving:.0f}% but were not chosen: "
                  f"{selection.stop_reason}")


def _refusals(refused: Mapping[Candidate, str]) -> str:
    """Why the server would not create a query's candidates, one clause per reason."""
    by_reason: dict[str, set[str]] = {}
    for cand, reason in refused.items():
        by_reason.setdefault(reason, set()).update(
            f"{cand.table}.{k}" for k in cand.columns if is_expression(k))
    parts = []
    for reason, keys in sorted(by_reason.items()):
        text = f"{', '.join(sorted(keys)) or 'its index'} cannot be indexed: {reason}"
        if "IMMUTABLE" in reason:
            text += (" (a result that depends on a setting, like date_trunc or a ::date cast "
                     "of a timestamp with time zone, which depend on TimeZone, is not)")
        parts.append(text)
    return "; ".join(parts)
