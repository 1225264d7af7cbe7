"""One read of pg_catalog per run: tables, columns, indexes, partitions, statistics, sizes.

Everything is read in a single read-only transaction and frozen; later passes never query the
catalog again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .expressions import NotAnExpression, canonical_expression
from .model import TableName


@dataclass(frozen=True)
class ColumnStats:
    """The planner's statistics for one column (pg_stats)."""

    null_frac: float
    n_distinct: float  # negative: a fraction of the row count, as in pg_stats
    avg_width: int
    correlation: float | None
    most_common_vals: tuple[str, ...] = ()
    most_common_freqs: tuple[float, ...] = ()
    histogram_bounds: tuple[str, ...] = ()  # as text, ascending (pg_stats.histogram_bounds)

    def distinct_values(self, rows: float) -> float:
        """Estimated number of distinct values for a table of `rows` rows.

        >>> ColumnStats(0.0, -0.5, 4, None).distinct_values(1000)
        500.0
        """
        return -self.n_distinct * rows if self.n_distinct < 0 else self.n_distinct


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    stats: ColumnStats | None = None


@dataclass(frozen=True)
class Index:
    """An existing index, as the catalog describes it."""

    name: str
    schema: str
    table: TableName
    # key columns: a column name, or an expression key "(lower(email))" canonicalized like the
    # analyzer's (model.is_expression); None for an expression pglast cannot read back
    columns: tuple[str | None, ...]
    include: tuple[str, ...]
    method: str
    unique: bool
    primary: bool
    constraint: str | None  # name of the constraint it backs, if any
    predicate: str | None
    definition: str
    size_bytes: int
    scans: int | None
    valid: bool = True
    # What drop advice needs to know (read by `_INDEX_FLAGS`); the defaults describe an
    # ordinary index, so code building an Index by hand need not care.
    oid: int | None = None
    parent_oid: int | None = None  # the partitioned index this one is attached to (pg_inherits)
    ready: bool = True  # indisready: writes maintain it (false early in a concurrent build)
    replica_identity: bool = False  # indisreplident: logical replication identifies rows by it
    clustered: bool = False  # indisclustered: the table's CLUSTER index
    exclusion: bool = False  # backs an exclusion constraint
    immediate: bool = True  # indimmediate: uniqueness checked at once (false: deferrable)
    foreign_keys: tuple[str, ...] = ()  # foreign-key constraints that need it (conindid)
    building: bool = False  # a CREATE INDEX is running on it right now

    @property
    def qualified_name(self) -> str:
        from .model import quote_ident

        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


@dataclass(frozen=True)
class Table:
    """A table (or partitioned parent), with what the advisor needs to know about it."""

    name: TableName
    kind: str  # 'r' table, 'p' partitioned parent, 'm' materialized view
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...]
    rows: float
    pages: int
    all_visible_pages: int
    size_bytes: int  # heap + toast; for a parent, summed over its leaves
    parent: TableName | None = None
    partitions: tuple[TableName, ...] = ()  # leaves, for a partitioned parent
    inserts: int = 0
    updates: int = 0
    hot_updates: int = 0
    deletes: int = 0
    seq_scans: int = 0
    idx_scans: int = 0

    def column(self, name: str) -> Column | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None


@dataclass(frozen=True)
class Catalog:
    """What one read of pg_catalog found."""

    server_version_num: int
    server_version: str
    hypopg_version: str | None
    hypopg_available: str | None  # installable version when not created
    search_path: tuple[str, ...]
    tables: Mapping[TableName, Table] = field(default_factory=lambda: MappingProxyType({}))
    # The window the usage counters (idx_scan) cover: they count since `stats_reset`, or
    # since the statistics began when it is None (never reset). `read_at` is the server's now().
    stats_reset: datetime | None = None
    read_at: datetime | None = None
    replicas: int = 0  # streaming replicas: their scans are not in this server's counters

    def table(self, name: TableName) -> Table | None:
        return self.tables.get(name)

    @property
    def schema_columns(self) -> Mapping[TableName, Mapping[str, str]]:
        """Table -> column -> type: the schema sqlglot resolves columns with."""
        return {
            name: {c.name: c.type for c in table.columns} for name, table in self.tables.items()
        }


_SETTINGS = """
SELECT current_setting('server_version_num')::int AS num,
       current_setting('server_version') AS version,
       (SELECT extversion FROM pg_extension WHERE extname = 'hypopg') AS hypopg,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'hypopg') AS available,
       current_schemas(false) AS search_path
"""

_TABLES = """
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       c.reltuples::float8 AS rows, c.relpages AS pages, c.relallvisible AS all_visible,
       c.relispartition AS is_partition,
       pg_table_size(c.oid) AS size,
       s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del, s.seq_scan, s.idx_scan
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
"""

_COLUMNS = """
SELECT a.attrelid AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY a.attrelid, a.attnum
"""

_STATS = """
SELECT schemaname AS schema, tablename AS name, attname AS column, null_frac, n_distinct,
       avg_width, correlation, most_common_vals::text::text[] AS mcv,
       most_common_freqs AS mcf, histogram_bounds::text::text[] AS hist, inherited
FROM pg_stats
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""

_INDEXES = """
SELECT i.indexrelid, i.indrelid AS oid, ic.relname AS name, n.nspname AS schema,
       am.amname AS method, i.indisunique AS unique, i.indisprimary AS primary,
       i.indisvalid AS valid, i.indnkeyatts AS nkey,
       ARRAY(SELECT CASE WHEN k.attnum = 0 THEN NULL ELSE a.attname END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       ARRAY(SELECT CASE WHEN k.attnum = 0
                         THEN pg_get_indexdef(i.indexrelid, k.ord::int, true) END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             ORDER BY k.ord) AS expressions,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       pg_get_indexdef(i.indexrelid) AS definition,
       pg_relation_size(i.indexrelid) AS size,
       con.conname AS constraint_name,
       s.idx_scan
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""

_INHERITS = """
SELECT inhrelid AS child, inhparent AS parent FROM pg_inherits
"""

_INDEX_FLAGS = """
SELECT i.indexrelid, i.indisready AS ready, i.indisreplident AS replident,
       i.indisclustered AS clustered, i.indimmediate AS immediate,
       (SELECT inhparent FROM pg_inherits WHERE inhrelid = i.indexrelid LIMIT 1) AS parent,
       EXISTS (SELECT FROM pg_constraint x
               WHERE x.conindid = i.indexrelid AND x.contype = 'x') AS exclusion,
       ARRAY(SELECT f.conname FROM pg_constraint f
             WHERE f.conindid = i.indexrelid AND f.contype = 'f' ORDER BY 1)::text[] AS fks,
       EXISTS (SELECT FROM pg_stat_progress_create_index p
               WHERE p.index_relid = i.indexrelid) AS building
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""

_STATS_WINDOW = """
SELECT (SELECT stats_reset FROM pg_stat_database WHERE datid = (
            SELECT oid FROM pg_database WHERE datname = current_database())) AS stats_reset,
       now() AS read_at,
       (SELECT count(*) FROM pg_stat_replication)::int AS replicas
"""


def read_catalog(conn: psycopg.Connection) -> Catalog:
    """Read the catalog once, in one read-only transaction, and freeze it."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        settings = cur.execute(_SETTINGS).fetchone()
        assert settings is not None
        tables = cur.execute(_TABLES).fetchall()
        columns = cur.execute(_COLUMNS).fetchall()
        stats = cur.execute(_STATS).fetchall()
        indexes = cur.execute(_INDEXES).fetchall()
        inherits = cur.execute(_INHERITS).fetchall()
        flags = cur.execute(_INDEX_FLAGS).fetchall()
        window = cur.execute(_STATS_WINDOW).fetchone()
    return build_catalog(settings, tables, columns, stats, indexes, inherits,
                         index_flags=flags, stats_window=window)


def build_catalog(
    settings: Mapping[str, Any],
    tables: list[dict[str, Any]],
    columns: list[dict[str, Any]],
    stats: list[dict[str, Any]],
    indexes: list[dict[str, Any]],
    inherits: list[dict[str, Any]],
    *,
    index_flags: list[dict[str, Any]] | None = None,
    stats_window: Mapping[str, Any] | None = None,
) -> Catalog:
    """Assemble the frozen catalog from the raw rows (pure)."""
    flags_by = {int(r["indexrelid"]): r for r in index_flags or ()}
    names = {row["oid"]: TableName(row["schema"], row["name"]) for row in tables}
    stats_by = {
        (TableName(r["schema"], r["name"]), r["column"], r["inherited"]): ColumnStats(
            null_frac=float(r["null_frac"] or 0.0),
            n_distinct=float(r["n_distinct"] or 0.0),
            avg_width=int(r["avg_width"] or 0),
            correlation=None if r["correlation"] is None else float(r["correlation"]),
            most_common_vals=tuple(r["mcv"] or ()),
            most_common_freqs=tuple(float(f) for f in (r["mcf"] or ())),
            histogram_bounds=tuple(r["hist"] or ()),
        )
        for r in stats
    }
    kinds = {row["oid"]: row["kind"] for row in tables}
    cols_by: dict[int, list[Column]] = defaultdict(list)
    for r in columns:
        name = names.get(r["oid"])
        if name is None:
            continue
        inherited = kinds.get(r["oid"]) == "p"
        col_stats = stats_by.get((name, r["name"], inherited)) or stats_by.get(
            (name, r["name"], not inherited)
        )
        cols_by[r["oid"]].append(Column(r["name"], r["type"], bool(r["not_null"]), col_stats))

    idx_by: dict[int, list[Index]] = defaultdict(list)
    for r in indexes:
        table = names.get(r["oid"])
        if table is None:
            continue
        nkey = int(r["nkey"])
        types = {c.name: c.type for c in cols_by.get(r["oid"], ())}
        all_cols = _index_keys(r["columns"] or (), r.get("expressions") or (), types)
        flags = flags_by.get(int(r["indexrelid"]), {})
        idx_by[r["oid"]].append(
            Index(
                name=r["name"], schema=r["schema"], table=table,
                columns=all_cols[:nkey],
                include=tuple(c for c in all_cols[nkey:] if c is not None),
                method=r["method"], unique=bool(r["unique"]), primary=bool(r["primary"]),
                constraint=r["constraint_name"], predicate=r["predicate"],
                definition=r["definition"], size_bytes=int(r["size"] or 0),
                scans=None if r["idx_scan"] is None else int(r["idx_scan"]),
                valid=bool(r["valid"]),
                oid=int(r["indexrelid"]),
                parent_oid=None if flags.get("parent") is None else int(flags["parent"]),
                ready=bool(flags.get("ready", True)),
                replica_identity=bool(flags.get("replident", False)),
                clustered=bool(flags.get("clustered", False)),
                exclusion=bool(flags.get("exclusion", False)),
                immediate=bool(flags.get("immediate", True)),
                foreign_keys=tuple(flags.get("fks") or ()),
                building=bool(flags.get("building", False)),
            )
        )

    parent_of = {r["child"]: r["parent"] for r in inherits}
    children: dict[int, list[int]] = defaultdict(list)
    for child, parent in parent_of.items():
        children[parent].append(child)

    def leaves(oid: int) -> list[int]:
        kids = children.get(oid, [])
        if not kids:
            return [oid]
        return [leaf for kid in kids for leaf in leaves(kid)]

    by_oid = {row["oid"]: row for row in tables}
    result: dict[TableName, Table] = {}
    for oid, row in by_oid.items():
        leaf_rows = [by_oid[leaf] for leaf in leaves(oid) if leaf in by_oid]
        partitioned = row["kind"] == "p"
        source = leaf_rows if partitioned else [row]
        parent_oid = parent_of.get(oid) if row["is_partition"] else None
        result[names[oid]] = Table(
            name=names[oid],
            kind=row["kind"],
            columns=tuple(cols_by.get(oid, ())),
            indexes=tuple(sorted(idx_by.get(oid, ()), key=lambda i: i.name)),
            rows=sum(max(float(r["rows"]), 0.0) for r in source),
            pages=sum(int(r["pages"]) for r in source),
            all_visible_pages=sum(int(r["all_visible"]) for r in source),
            size_bytes=sum(int(r["size"] or 0) for r in source),
            parent=names.get(parent_oid) if parent_oid is not None else None,
            partitions=tuple(sorted(names[leaf] for leaf in leaves(oid) if leaf != oid
                                    and leaf in names)) if partitioned else (),
            inserts=sum(int(r["n_tup_ins"] or 0) for r in source),
            updates=sum(int(r["n_tup_upd"] or 0) for r in source),
            hot_updates=sum(int(r["n_tup_hot_upd"] or 0) for r in source),
            deletes=sum(int(r["n_tup_del"] or 0) for r in source),
            seq_scans=sum(int(r["seq_scan"] or 0) for r in source),
            idx_scans=sum(int(r["idx_scan"] or 0) for r in source),
        )
    return Catalog(
        server_version_num=int(settings["num"]),
        server_version=str(settings["version"]),
        hypopg_version=settings["hypopg"],
        hypopg_available=settings["available"],
        search_path=tuple(settings["search_path"] or ("public",)),
        tables=MappingProxyType(dict(sorted(result.items()))),
        stats_reset=(stats_window or {}).get("stats_reset"),
        read_at=(stats_window or {}).get("read_at"),
        replicas=int((stats_window or {}).get("replicas") or 0),
    )


def _index_keys(columns: Sequence[str | None], expressions: Sequence[str | None],
                types: Mapping[str, str]) -> tuple[str | None, ...]:
    """Key columns of an index, expression keys canonicalized as the analyzer does.

    >>> _index_keys(["id", None], [None, "lower(email::text)"], {"email": "character varying"})
    ('id', '(lower(email))')
    """
    keys: list[str | None] = []
    for position, column in enumerate(columns):
        text = expressions[position] if position < len(expressions) else None
        if column is None and text:
            try:
                column = canonical_expression(text, types)
            except NotAnExpression:
                column = None
        keys.append(column)
    return tuple(keys)
