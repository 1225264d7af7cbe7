"""The catalog as frozen values: tables, columns, statistics, indexes, partitions.

Everything later passes know about the database comes from one `Catalog`, read once
(`catalog.read`) and assembled by a pure function (`catalog.build`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any

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
    # key sort orders (model.candidate.KEY_ORDERS, from indoption); empty: all the default
    order: tuple[str, ...] = ()

    @property
    def orders(self) -> tuple[str, ...]:
        """One order per key column, defaults spelled out as ""."""
        return self.order or ("",) * len(self.columns)

    @property
    def qualified_name(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


@dataclass(frozen=True)
class Table:
    """A table (or partitioned parent), with what the advisor needs to know about it."""

    name: TableName
    kind: str  # 'r' table, 'p' partitioned parent, 'm' materialized view, 'f' foreign table
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
class View:
    """A view: its columns and its definition (pg_get_viewdef), which a query on it reads."""

    name: TableName
    definition: str
    columns: tuple[str, ...] = ()


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
    views: Mapping[TableName, View] = field(default_factory=lambda: MappingProxyType({}))
    system_relations: frozenset[TableName] = frozenset()  # pg_catalog, information_schema

    def table(self, name: TableName) -> Table | None:
        return self.tables.get(name)

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        # for worker processes: read-only mappings travel as dicts (cached values stay home)
        return (_catalog, ({f.name: dict(v) if isinstance(v, MappingProxyType) else v
                            for f in fields(self) for v in (getattr(self, f.name),)},))

    def family(self, name: TableName) -> tuple[TableName, ...]:
        """`name` and the tables of its partition tree an index of one serves a query on
        another through: its ancestors (a parent's index has an index on this partition) and
        its descendants (a query on the parent scans them). Sorted; just `name` when it is
        not partitioned.

        >>> t = lambda n, **kw: Table(TableName("s", n), kw.pop("kind", "r"), (), (), 0, 0, 0, 0,
        ...                         **kw)
        >>> p, a = TableName("s", "p"), TableName("s", "p_a")
        >>> cat = Catalog(150000, "15", None, None, ("s",), {p: t("p", kind="p", partitions=(a,)),
        ...               a: t("p_a", parent=p)})
        >>> [str(x) for x in cat.family(a)], [str(x) for x in cat.family(p)]
        (['s.p', 's.p_a'], ['s.p', 's.p_a'])
        """
        return self._families.get(name, (name,))

    @cached_property
    def _families(self) -> dict[TableName, tuple[TableName, ...]]:
        """`family` of every table that has a partition tree, computed once."""
        children: dict[TableName, list[TableName]] = {}
        for name, table in self.tables.items():
            if table.parent is not None:
                children.setdefault(table.parent, []).append(name)
        out: dict[TableName, tuple[TableName, ...]] = {}
        for name, table in self.tables.items():
            if table.parent is None and name not in children:
                continue
            found = {name}
            up = table.parent
            while up is not None and up not in found:
                found.add(up)
                parent = self.tables.get(up)
                up = parent.parent if parent is not None else None
            stack = list(children.get(name, ()))
            while stack:
                child = stack.pop()
                if child not in found:
                    found.add(child)
                    stack.extend(children.get(child, ()))
            out[name] = tuple(sorted(found))
        return out

    def relation_names(self, schema: str) -> frozenset[str]:
        """Names taken in `schema` by the tables, views and indexes the catalog knows (an
        index name must not be one of them)."""
        names = {t.name for t in self.tables if t.schema == schema}
        names |= {v.name for v in self.views if v.schema == schema}
        names |= {i.name for t in self.tables.values() for i in t.indexes if i.schema == schema}
        return frozenset(names)

    @property
    def view_definitions(self) -> Mapping[TableName, str]:
        """View -> its definition: what the analyzer reads in a view's place."""
        return {name: view.definition for name, view in self.views.items()}

    @property
    def schema_columns(self) -> Mapping[TableName, Mapping[str, str]]:
        """Table -> column -> type: the schema sqlglot resolves columns with."""
        return {
            name: {c.name: c.type for c in table.columns} for name, table in self.tables.items()
        }


def _catalog(values: dict[str, Any]) -> Catalog:
    """A Catalog from `Catalog.__reduce__`'s values."""
    fixed: dict[str, Any] = {k: MappingProxyType(v) if isinstance(v, dict) else v
                             for k, v in values.items()}
    return Catalog(**fixed)
