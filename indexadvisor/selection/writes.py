"""Pure pass: what an index costs to maintain under the workload's writes.

PostgreSQL's planner never costs index maintenance, so we price it in planner units, per row,
per call, by cause (`model.WriteOverhead`):

* **inserts**: every INSERT row adds one entry: one btree descent that dirties a leaf page
  (`btree_insert_cost`).
* **updates**: an UPDATE row that is not HOT adds one entry to *every* index of the table,
  whichever columns it changes. A row is not HOT when it changes a column some index depends
  on (key, INCLUDE, predicate, expression), or when its heap page has no room. So a new index
  pays its own entry for updates that change its columns, for updates already blocked from
  HOT by another index, and for the share of the other updates that are not HOT for want of
  room (1 - `TableWrites.hot_share`).
* **lost_hot**: an UPDATE that changes no indexed column can be HOT: no index entry at all,
  the new tuple on the same heap page. Once a new index depends on a column it changes, it is
  never HOT again: each of its HOT rows now costs an entry in every index the table already
  has, and a heap page written elsewhere. The HOT share comes from pg_stat_user_tables
  (n_tup_hot_upd / n_tup_upd) where the table has been updated enough, else it is assumed.
* **deletes**: a DELETE writes no index entry, but VACUUM removes one dead entry per row from
  every index, and each vacuum cycle reads the whole index (`vacuum_cost`).

Several candidates on one updated column: each is charged as if it were the only new index
(`write_overhead` with no `alongside`), so two of them chosen together are charged the lost
HOT twice, though the table loses it once. That errs towards fewer indexes on hot-updated
columns. The reverse error exists too: an index on a column no update changes is charged as
if HOT went on, though a candidate chosen with it may break HOT. A selection that wants
the exact figure asks `write_overhead(cand, ...,
alongside=chosen)` for the marginal cost given the indexes it already chose
(`configuration_write_cost` sums a whole configuration that way).

>>> from indexadvisor.model import Candidate, TableName
>>> t = TableName("public", "audit_log")
>>> load = WriteLoad(t, "insert", rows_per_call=1.0, calls=1000, columns=frozenset())
>>> round(index_write_cost(Candidate(t, ("entity_id",)), [load], {t: 1e6}))
4555

An UPDATE of `status` (1000 rows) on a table with two indexes, 90% HOT: an index on `status`
pays its own 1000 entries plus 900 lost-HOT rows times (2 entries + a heap page); an index on
`name` pays only the 10% of rows that are not HOT anyway:

>>> upd = WriteLoad(t, "update", rows_per_call=1.0, calls=1000, columns=frozenset({"status"}))
>>> info = {t: TableWrites(rows=1e6, indexed=(frozenset({"id"}), frozenset({"entity_id"})),
...                        updates=10_000, hot_updates=9_000)}
>>> cost = write_overhead(Candidate(t, ("status",)), [upd], info)
>>> round(cost.updates), round(cost.lost_hot)
(4555, 11799)
>>> round(write_overhead(Candidate(t, ("name",)), [upd], info).total)
455
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..catalog import Catalog, Index
from ..model import Candidate, TableName, Workload, WriteOverhead
from ..model.errors import AdvisorError
from ..sql.expressions import key_columns

RANDOM_PAGE_COST = 4.0  # PostgreSQL's default random_page_cost: the leaf page written
SEQ_PAGE_COST = 1.0
CPU_OPERATOR_COST = 0.0025
CPU_INDEX_TUPLE_COST = 0.005
BTREE_FANOUT = 200.0
# VACUUM: autovacuum starts a cycle after this many dead tuples (autovacuum_vacuum_threshold +
# autovacuum_vacuum_scale_factor * reltuples, the defaults), and btbulkdelete then reads every
# page of every index; a leaf page holds about this many entries (8 kB, ~36-byte entries, 90%).
VACUUM_THRESHOLD = 50.0
VACUUM_SCALE_FACTOR = 0.2
ENTRIES_PER_LEAF = 200.0
# HOT: with no evidence (fewer counted updates than this), assume this share of the updates
# that change no indexed column find room on their page (after pruning) and are HOT.
# pg_class.reltuples is ANALYZE's estimate: inserts beyond it by less than this share of the
# rows are read as its error, not as rows inserted and gone (`churned_inserts`).
ROW_ESTIMATE_ERROR = 0.02
MIN_HOT_EVIDENCE = 100
DEFAULT_HOT_SHARE = 0.75


@dataclass(frozen=True)
class WriteLoad:
    """One write statement of the workload (or a table's write counters), as index
    maintenance sees it."""

    table: TableName
    kind: str  # insert | update | delete | merge
    rows_per_call: float
    calls: int
    columns: frozenset[str]  # columns it writes (UPDATE SET, INSERT target list)
    source: str = "workload"  # workload | counters (pg_stat_user_tables)


@dataclass(frozen=True)
class TableWrites:
    """What the catalog says about a table's write path."""

    rows: float = 1.0
    indexed: tuple[frozenset[str], ...] = ()  # columns each maintained index depends on
    updates: int = 0  # pg_stat_user_tables.n_tup_upd (summed over partitions for a parent)
    hot_updates: int = 0  # n_tup_hot_upd

    @property
    def hot_share(self) -> float:
        """The share of updates that are HOT today (a lower bound for the updates that could
        be: the counters also count updates that change indexed columns).

        >>> TableWrites(updates=1000, hot_updates=900).hot_share, TableWrites().hot_share
        (0.9, 0.75)
        """
        if self.updates < MIN_HOT_EVIDENCE:
            return DEFAULT_HOT_SHARE
        return min(1.0, self.hot_updates / self.updates)


def btree_insert_cost(rows: float) -> float:
    """Planner units for one index entry: descend the tree, write one leaf page.

    Mirrors the descent charge of PostgreSQL's btcostestimate (50 operator costs per level)
    plus one random page for the leaf.

    >>> round(btree_insert_cost(1e6), 3)
    4.555
    """
    height = max(1.0, math.ceil(math.log(max(rows, 2.0), BTREE_FANOUT)))
    descent = (height + 1) * 50 * CPU_OPERATOR_COST + math.log2(max(rows, 2.0)) * CPU_OPERATOR_COST
    return RANDOM_PAGE_COST + CPU_INDEX_TUPLE_COST + descent


def vacuum_cost(rows: float) -> float:
    """Planner units one deleted row costs one index: removing its dead entry, plus its share
    of the vacuum cycle's full index pass (read every page, check every entry, write back the
    pages that held dead entries), a cycle coming every 50 + 0.2 * rows dead tuples.

    About 1/60 of an insert on a large table, a cent of it on a tiny one:

    >>> round(vacuum_cost(1e6), 4), round(vacuum_cost(100), 4), round(vacuum_cost(1e8), 4)
    (0.08, 0.0407, 0.08)
    """
    rows = max(rows, 1.0)
    cycle = VACUUM_THRESHOLD + VACUUM_SCALE_FACTOR * rows
    pages = max(1.0, rows / ENTRIES_PER_LEAF)
    scan = (pages + min(pages, cycle)) * SEQ_PAGE_COST + rows * CPU_INDEX_TUPLE_COST
    return CPU_INDEX_TUPLE_COST + scan / cycle


def candidate_columns(candidate: Candidate) -> frozenset[str]:
    """The columns whose change makes an update write `candidate` (and not HOT).

    >>> sorted(candidate_columns(Candidate(TableName("s", "t"), ("(lower(email))",), ("id",),
    ...                                    "status = 'x'")))
    ['email', 'id', 'status']
    """
    cols = {c for key in candidate.columns for c in key_columns(key)} | set(candidate.include)
    if candidate.where:
        cols |= set(_expression_columns(candidate.where))
    return frozenset(cols)


def index_columns(index: Index) -> frozenset[str]:
    """The same for an existing index (an expression pglast could not read counts for none)."""
    cols = {c for key in index.columns if key is not None for c in _key_columns(key)}
    cols |= set(index.include)
    if index.predicate:
        cols |= set(_expression_columns(index.predicate))
    return frozenset(cols)


def _key_columns(key: str) -> tuple[str, ...]:
    try:
        return key_columns(key)
    except Exception:  # pglast errors vary; an unreadable key names nothing
        return ()


def _expression_columns(text: str) -> tuple[str, ...]:
    return _key_columns(f"({text})")


def table_writes(catalog: Catalog) -> dict[TableName, TableWrites]:
    """Rows, maintained indexes and update counters of every table of `catalog`."""
    return {
        name: TableWrites(
            rows=table.rows,
            indexed=tuple(index_columns(i) for i in table.indexes if i.ready),
            updates=table.updates, hot_updates=table.hot_updates)
        for name, table in catalog.tables.items()
    }


def _same_table(candidate: Candidate, load: WriteLoad,
                parents: Mapping[TableName, TableName]) -> bool:
    return load.table == candidate.table or parents.get(load.table) == candidate.table


def write_overhead(candidate: Candidate, loads: Iterable[WriteLoad],
                   tables: Mapping[TableName, TableWrites],
                   parents: Mapping[TableName, TableName] | None = None, *,
                   share: float = 1.0, alongside: Sequence[Candidate] = ()) -> WriteOverhead:
    """Calls-weighted planner-unit cost of keeping `candidate` up to date, by cause.

    `share` is the fraction of the table's rows the index holds (a partial index writes only
    those; the HOT it breaks is broken for every row all the same). `alongside` are new
    indexes assumed built already: they count as indexes of the table (see the module doc).
    """
    info = tables.get(candidate.table, TableWrites())
    unit = btree_insert_cost(info.rows)
    mine = candidate_columns(candidate)
    others = [*info.indexed, *(candidate_columns(c) for c in alongside
                                if c.table == candidate.table and c != candidate)]
    hot = info.hot_share
    inserts = updates = lost_hot = deletes = 0.0
    for load in loads:
        if not _same_table(candidate, load, parents or {}):
            continue
        rows = load.calls * load.rows_per_call
        if load.kind == "insert":
            inserts += rows * unit * share
        elif load.kind == "delete":
            deletes += rows * vacuum_cost(info.rows) * share
        elif load.kind in ("update", "merge"):
            if any(load.columns & cols for cols in others):  # never HOT: entries everywhere
                updates += rows * unit * share
            elif load.columns & mine:  # HOT until this index: now every index gets an entry
                updates += rows * unit * share
                lost_hot += rows * hot * (len(others) * unit + RANDOM_PAGE_COST)
            else:  # HOT where the page has room; the rest write every index
                updates += rows * (1.0 - hot) * unit * share
    return WriteOverhead(inserts, updates, lost_hot, deletes)


def configuration_write_cost(candidates: Sequence[Candidate], loads: Sequence[WriteLoad],
                             tables: Mapping[TableName, TableWrites],
                             parents: Mapping[TableName, TableName] | None = None,
                             shares: Mapping[Candidate, float] | None = None) -> float:
    """The maintenance cost of building all of `candidates` together: HOT lost once per
    update, however many of them cover its columns.

    >>> from indexadvisor.model import Candidate, TableName
    >>> t = TableName("s", "t")
    >>> upd = WriteLoad(t, "update", 1.0, 1000, frozenset({"status"}))
    >>> info = {t: TableWrites(rows=1e6, indexed=(frozenset({"id"}),))}
    >>> a, b = Candidate(t, ("status",)), Candidate(t, ("status", "id"))
    >>> alone = write_overhead(a, [upd], info).total + write_overhead(b, [upd], info).total
    >>> round(alone), round(configuration_write_cost([a, b], [upd], info))
    (21942, 15526)
    """
    total = 0.0
    for i, cand in enumerate(candidates):
        total += write_overhead(cand, loads, tables, parents, share=(shares or {}).get(cand, 1.0),
                                alongside=candidates[:i]).total
    return total


def index_write_cost(candidate: Candidate, loads: Iterable[WriteLoad],
                     rows: Mapping[TableName, float],
                     parents: Mapping[TableName, TableName] | None = None) -> float:
    """The index's own entries only: every INSERT row, every UPDATE row that changes a column
    it depends on (what dropping an existing index saves; no HOT or VACUUM terms)."""
    unit = btree_insert_cost(rows.get(candidate.table, 1.0))
    mine = candidate_columns(candidate)
    return sum(load.calls * load.rows_per_call * unit for load in loads
               if _same_table(candidate, load, parents or {})
               and (load.kind == "insert"
                    or (load.kind in ("update", "merge") and bool(load.columns & mine))))


def counter_loads(catalog: Catalog, loads: Sequence[WriteLoad], weight: float = 1.0,
                  workload: Workload | None = None) -> list[WriteLoad]:
    """Write loads from pg_stat_user_tables for the tables the workload does not write.

    A captured workload may miss writes (a slow-query log misses fast INSERTs); the counters
    do not. They count since the statistics were reset, the workload's calls over its own
    window: where both windows are known (the workload's first/last seen, the catalog's
    stats_reset and read time) the counts are scaled by their ratio, and always by `weight`
    (config `counter_weight`). The rows a table still holds may be the load that filled it,
    so only inserts beyond its live rows count (`churned_inserts`: not the few that ANALYZE's
    row estimate misses); updates (without their columns: only the non-HOT share is charged,
    no lost HOT) and deletes count in full. Never call this for a sandbox: its counters only
    count our own data load.
    """
    parents = {name: t.parent for name, t in catalog.tables.items() if t.parent is not None}
    written = {load.table for load in loads} | {parents[t] for t in
                                                 {load.table for load in loads} if t in parents}
    scale = weight * (_window_ratio(catalog, workload) or 1.0)
    out = []
    for name, table in sorted(catalog.tables.items()):
        if table.parent is not None or table.kind not in ("r", "p") or name in written:
            continue
        counts = (("insert", churned_inserts(table.inserts, table.rows, table.deletes)),
                  ("update", float(table.updates)), ("delete", float(table.deletes)))
        for kind, count in counts:
            if count * scale > 0:
                out.append(WriteLoad(name, kind, count * scale, 1, frozenset(), "counters"))
    return out


def churned_inserts(inserts: float, rows: float, deletes: float) -> float:
    """Inserted rows the table no longer holds (n_tup_ins beyond its live rows): write load
    beyond the load that filled it.

    `rows` is pg_class.reltuples, an estimate from ANALYZE's or VACUUM's sample, so a table
    filled once and never written again shows inserts a little above it (123 rows of 11.7M).
    Inserts beyond the rows count only as far as deleted rows explain them, or where the
    excess is beyond the estimate's error (`ROW_ESTIMATE_ERROR` of the rows; a TRUNCATE and
    reload removes rows no counter counts).

    >>> churned_inserts(11_700_123, 11_700_000, 0), churned_inserts(2_000_000, 1e6, 0)
    (0.0, 1000000.0)
    >>> churned_inserts(1_000_500, 1e6, 500), churned_inserts(1e6, 0, 0)
    (500.0, 1000000.0)
    """
    excess = max(0.0, inserts - max(rows, 0.0))
    explained = min(excess, max(deletes, 0.0))
    rest = excess - explained
    return explained + (rest if rest > ROW_ESTIMATE_ERROR * max(rows, 0.0) else 0.0)


def _window_ratio(catalog: Catalog, workload: Workload | None) -> float | None:
    """The workload's observed span over the counters' span, when both are known."""
    if workload is None or catalog.stats_reset is None or catalog.read_at is None:
        return None
    try:
        seen = [datetime.fromisoformat(s) for q in workload.queries
                for s in (q.first_seen, q.last_seen) if s]
        counted = (catalog.read_at - catalog.stats_reset).total_seconds()
        span = (max(seen) - min(seen)).total_seconds() if seen else 0.0
    except (ValueError, TypeError, AdvisorError):  # unparseable stamp, naive vs aware
        return None
    if span <= 0 or counted <= 0:
        return None
    return span / counted
