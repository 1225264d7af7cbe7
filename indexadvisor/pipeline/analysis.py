"""Stage 1, analysis: every query of the workload parsed, its columns resolved, and sorted into
what is advised on (reads), what only weighs as write load, and what stops here (with why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import pglast

from ..analyze import Analysis, SchemaMap, analyze
from ..analyze.params import Binding, catalog_stats, param_uses, synthesize
from ..catalog import Catalog
from ..model import LEADING, CostedQuery, Outcome, Query, TableName, Workload
from ..sql.parse import StatementError, parse_statement

WRITE_KINDS = frozenset({"insert", "update", "delete", "merge"})


@dataclass(frozen=True)
class Problem:
    """Why a query stops before costing, or why its costing failed."""

    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class Item:
    """A statement the advisor costs: to advise on it, or to weigh its writes."""

    query: Query
    analysis: Analysis
    costed: CostedQuery
    kind: str  # select, insert, update, delete, merge
    binding: Binding | None = None  # pg_stats values for its $n when none were captured
    values_note: str = ""  # how its $n were costed, said in its reason

    @property
    def key(self) -> str:
        return self.query.fingerprint


@dataclass(frozen=True)
class Analyzed:
    """The workload after analysis."""

    reads: tuple[Item, ...]  # advised on (SELECT, UPDATE, DELETE, ...)
    writes: tuple[Item, ...]  # write statements, weighed as index maintenance
    problems: Mapping[str, Problem]  # query key -> why it stops here
    schema: SchemaMap


# Below this many queries one process analyzes them all (a worker takes a second to start).
PARALLEL_MIN_QUERIES = 1000


def analyze_workload(workload: Workload, catalog: Catalog, jobs: int = 1) -> Analyzed:
    """Analyze every query; sort it into reads, writes and problems. With `jobs` > 1 and a
    large workload, `jobs - 1` worker processes analyze shares of it beside this one
    (parsing and name resolution are CPU-bound Python: thousands of statements take
    seconds each); the result is the same, in the same order."""
    schema = catalog_schema(catalog)
    reads: list[Item] = []
    writes: list[Item] = []
    problems: dict[str, Problem] = {}
    queries = list(workload.queries)
    if jobs > 1 and len(queries) >= PARALLEL_MIN_QUERIES:
        verdicts = _in_processes(queries, schema, catalog, jobs)
    else:
        verdicts = [analyze_query(query, schema, catalog) for query in queries]
    for query, (problem, item) in zip(queries, verdicts, strict=True):
        if item is not None and item.kind in WRITE_KINDS:
            writes.append(item)
        if problem is not None:
            problems[query.fingerprint] = problem
        elif item is not None:
            reads.append(item)
    return Analyzed(tuple(reads), tuple(writes), problems, schema)


_shared: tuple[SchemaMap, Catalog] | None = None  # a worker's schema and catalog


def _start_worker(schema: SchemaMap, catalog: Catalog) -> None:
    global _shared
    _shared = (schema, catalog)


def _analyze_share(queries: list[Query]) -> list[tuple[Problem | None, Item | None]]:
    assert _shared is not None
    schema, catalog = _shared
    return [analyze_query(query, schema, catalog) for query in queries]


def _in_processes(queries: list[Query], schema: SchemaMap, catalog: Catalog,
                  jobs: int) -> list[tuple[Problem | None, Item | None]]:
    """`analyze_query` over `queries`: the first share here, the others in `jobs - 1`
    processes. Forked when this process runs no other thread (a fork copies a thread's
    locks mid-step: the terminal's spinner), else started fresh ("spawn", which imports
    the main module again: `python -m indexadvisor` is safe). A worker that fails leaves
    its share to this process."""
    import multiprocessing
    import threading
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    size = -(-len(queries) // jobs)
    shares = [queries[n:n + size] for n in range(0, len(queries), size)]
    alone = threading.active_count() == 1
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if alone and "fork" in methods else "spawn")
    with ProcessPoolExecutor(len(shares) - 1, mp_context=context, initializer=_start_worker,
                             initargs=(schema, catalog)) as pool:
        futures = [pool.submit(_analyze_share, share) for share in shares[1:]]
        out = [analyze_query(query, schema, catalog) for query in shares[0]]
        for future, share in zip(futures, shares[1:], strict=True):
            try:
                out.extend(future.result())
            except (BrokenProcessPool, OSError, RuntimeError):
                out.extend(analyze_query(query, schema, catalog) for query in share)
    return out


def catalog_schema(catalog: Catalog) -> SchemaMap:
    """What the analyzer resolves names with: tables (foreign ones too), views, system names."""
    return SchemaMap(tables=catalog.schema_columns, search_path=catalog.search_path,
                     views=catalog.view_definitions, system=catalog.system_relations)


def analyze_query(query: Query, schema: SchemaMap, catalog: Catalog | None = None,
                  ) -> tuple[Problem | None, Item | None]:
    """Analyze one query, or say why it cannot be advised on. A `$n` statement without
    captured parameters gets values from pg_stats (analyze.params) when `catalog` is given.
    A plain INSERT has both: nothing to advise, but write load."""
    try:
        parsed = parse_statement(query.text)
        analysis = analyze(query.text, schema)
    except StatementError as exc:  # collect already filtered these; kept for direct callers
        return Problem(Outcome.UNPARSEABLE, exc.message), None
    if analysis.unknown_tables:
        names = ", ".join(analysis.unknown_tables)
        path = ", ".join(schema.search_path)
        return Problem(Outcome.UNKNOWN_TABLE,
                       f"not in the database: {names} (search_path: {path})"), None
    if not analysis.tables:
        if analysis.system:
            return Problem(Outcome.NOT_ADVISED, (
                "reads only system catalogs (" + ", ".join(map(str, analysis.system))
                + "): PostgreSQL's own relations, which take no user index")), None
        return Problem(Outcome.NOT_ADVISED, "reads no table"), None
    foreign = _foreign(analysis, catalog)
    if foreign and len(foreign) == len(analysis.tables):
        return Problem(Outcome.NOT_ADVISED, (
            "reads only foreign tables (" + ", ".join(map(str, foreign)) + "): their rows "
            "live on the remote server, so an index belongs there, not here")), None
    sample = query.samples[0] if query.samples else None
    params = sample.params if sample is not None and sample.params else None
    binding = None
    if params is None and parsed.param_count > 0 and catalog is not None:
        binding = synthesize(param_uses(query.text, schema), parsed.param_count,
                             catalog_stats(catalog))
        params = binding.params
    leading = _leading(analysis, catalog)
    costed = CostedQuery(query, query.text, parsed.param_count, params, leading,
                         _scope(analysis, catalog))
    item = Item(query, analysis, costed, parsed.kind, binding)
    if parsed.kind == "insert" and not leading:
        return Problem(Outcome.NOT_ADVISED,
                       "INSERT without a query part: nothing to index; counted as write load "
                       "on every index of its table"), item
    return None, item


def _foreign(analysis: Analysis, catalog: Catalog | None) -> list[TableName]:
    """The foreign tables a query reads (no index can be created on them here)."""
    if catalog is None:
        return []
    return [t for t in analysis.tables
            if (table := catalog.table(t)) is not None and table.kind == "f"]


def _leading(analysis: Analysis, catalog: Catalog | None) -> frozenset[tuple[TableName, str]]:
    """The keys a query filters, joins, sorts or groups on, for each table of their partition
    tree too: an index on the parent is an index on every partition, and a query on the
    parent reads the partitions' indexes (so each candidate is costed against every query
    it can serve, and a parent's index is recommended once for both)."""
    keys = {(u.table, u.column) for u in analysis.uses if u.kind in LEADING}
    if catalog is None:
        return frozenset(keys)
    out = set(keys)
    for table, column in keys:
        out |= {(relative, column) for relative in catalog.family(table)}
    return frozenset(out)


def _scope(analysis: Analysis, catalog: Catalog | None) -> frozenset[TableName]:
    """The tables whose indexes the query's plan can read: those it reads, with their
    partition trees (a what-if session leaves other tables' hypothetical indexes alone)."""
    if catalog is None:
        return frozenset(analysis.tables)
    return frozenset(relative for table in analysis.tables for relative in catalog.family(table))


def without_values(item: Item, note: str) -> Item:
    """The item costed with a generic plan instead of its pg_stats values."""
    return replace(item, costed=replace(item.costed, params=None), values_note=note)


def delete_target(item: Item) -> list[TableName]:
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
