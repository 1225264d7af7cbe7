"""The catalog as frozen values: tables, columns, statistics, indexes, partitions.

Everything later passes know about the database comes from one `Catalog`, read once
(`catalog.read`) and assembled by a pure function (`catalog.build`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from ..model.names import TableName, quote_ident


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
    extensions: frozenset[str] = frozenset()  # extensions created in the database

    def table(self, name: TableName) -> Table | None:
        return self.tables.get(name)

    @property
    def schema_columns(self) -> Mapping[TableName, Mapping[str, str]]:
        """Table -> column -> type: the schema sqlglot resolves columns with."""
        return {
            name: {c.name: c.type for c in table.columns} for name, table in self.tables.items()
        }
