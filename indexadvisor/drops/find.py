"""Which existing indexes a database should lose, and why (pure: catalog in, candidates out).

Four reasons, tried in this order so each index gets the strongest one that applies:

- `invalid`: a failed or interrupted CREATE INDEX CONCURRENTLY leftover; the planner never uses
  it, writes may still maintain it.
- `duplicate`: the same table, method, keys (expressions, operator classes, ordering),
  INCLUDE and predicate as another index; the constraint-backed, unique or older twin stays.
- `prefix_redundant`: a btree whose keys are a leading prefix of another btree on the same
  table with the same predicate, its INCLUDE columns covered by the wider one.
- `unused`: no index scan since the statistics were last reset (a partitioned index: on none
  of its partitions).

`superseded` is the fifth, from `redundant_after`: an existing index made prefix-redundant by a
new index the same run recommends.

Never proposed: indexes backing a constraint (primary key, unique, exclusion), indexes a
foreign key needs, the replica identity, partition indexes attached to a partitioned index
(the parent index is the one to drop), indexes being built right now, system schemas; a unique
index goes only as an exact duplicate of another unique index (it enforces uniqueness even
without a constraint). Every duplicate or prefix drop names an index that stays and serves
instead, so twins are never both proposed; a kept twin that a wider index covers too is left
for the next run (after its twin is gone it shows up as prefix-redundant).

Index definitions are compared as PostgreSQL's own grammar reads them (pglast), not as text.

>>> from indexadvisor.catalog import Catalog, Index, Table
>>> from indexadvisor.model import TableName
>>> t = TableName("public", "t")
>>> def ix(name, cols, oid, **kw):
...     return Index(name, "public", t, cols, (), "btree", kw.pop("unique", False), False,
...                  kw.pop("constraint", None), None,
...                  f"CREATE INDEX {name} ON public.t USING btree ({', '.join(cols)})",
...                  8192, 5, oid=oid, **kw)
>>> table = Table(t, "r", (), (ix("t_pkey", ("a",), 1, unique=True, constraint="t_pkey"),
...                             ix("t_a", ("a",), 2), ix("t_b", ("b",), 3),
...                             ix("t_b_c", ("b", "c"), 4)), 0, 0, 0, 0)
>>> cat = Catalog(150000, "15", "1.3.1", None, ("public",), {t: table})
>>> [(d.index, d.reason.value, d.kept_by) for d in find_drop_candidates(cat)]
[('public.t_a', 'duplicate', 'public.t_pkey'), ('public.t_b', 'prefix_redundant', 'public.t_b_c')]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pglast
from pglast.stream import RawStream

from ..catalog import Catalog, Index
from ..model import Candidate, DropCandidate, DropReason, TableName
from ..sql.ddl import create_index, drop_index_ddl
from ..sql.walk import walk

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})


@dataclass(frozen=True)
class _Shape:
    """An index definition as the grammar reads it: what decides which lookups it serves."""

    method: str
    elems: tuple[str, ...]  # key elements re-printed by pglast: column or expression,
    #                         collation, operator class, ordering
    include: tuple[str, ...]  # re-printed (quoted where needed)
    where: str | None
    unique: bool
    nulls_not_distinct: bool
    key_columns: frozenset[str]  # key elements that are a bare column (raw names)
    include_columns: frozenset[str]  # raw names

    @property
    def lookup(self) -> tuple[str, tuple[str, ...], frozenset[str], str | None]:
        """What two indexes must share to serve exactly the same plans."""
        return self.method, self.elems, self.include_columns, self.where

    def covers(self, narrower: _Shape) -> bool:
        """True when every lookup `narrower` serves, this btree serves too."""
        return (
            self.method == narrower.method == "btree"
            and self.where == narrower.where
            and len(narrower.elems) <= len(self.elems)
            and self.elems[: len(narrower.elems)] == narrower.elems
            and narrower.include_columns <= self.key_columns | self.include_columns
        )


def _print(node: pglast.ast.Node) -> str:
    return str(RawStream()(node))


def shape_of(definition: str) -> _Shape | None:
    """Parse a CREATE INDEX statement (pg_get_indexdef's, or one we composed).

    >>> s = shape_of('CREATE INDEX i ON public.t USING btree ("A b", lower(b) DESC) '
    ...              'INCLUDE (c) WHERE (c > 1)')
    >>> s.elems, s.where, sorted(s.key_columns), sorted(s.include_columns)
    (('"A b"', '(lower(b)) DESC'), 'c > 1', ['A b'], ['c'])
    """
    try:
        stmt = pglast.parse_sql(definition)[0].stmt
    except pglast.parser.ParseError:
        return None
    if not isinstance(stmt, pglast.ast.IndexStmt):
        return None

    params = tuple(stmt.indexParams or ())
    including = tuple(stmt.indexIncludingParams or ())
    return _Shape(
        method=str(stmt.accessMethod or "btree"),
        elems=tuple(_print(e) for e in params),
        include=tuple(_print(e) for e in including),
        where=None if stmt.whereClause is None else _print(stmt.whereClause),
        unique=bool(stmt.unique),
        nulls_not_distinct=bool(getattr(stmt, "nulls_not_distinct", False)),
        key_columns=frozenset(str(e.name) for e in params if _bare_column(e)),
        include_columns=frozenset(str(e.name) for e in including if e.name),
    )


def _bare_column(elem: pglast.ast.IndexElem) -> bool:
    """A key element that is just a column: no expression, collation, opclass or ordering."""
    return (elem.name is not None and elem.expr is None and not elem.collation
            and not elem.opclass and int(elem.ordering or 0) == 0  # SORTBY_DEFAULT
            and int(elem.nulls_ordering or 0) == 0)  # SORTBY_NULLS_DEFAULT


def referenced_columns(definition: str) -> frozenset[str]:
    """Every column a CREATE INDEX statement names: keys, expressions, INCLUDE, predicate.

    >>> sorted(referenced_columns('CREATE INDEX i ON t (a, lower("B")) INCLUDE (c) WHERE d'))
    ['B', 'a', 'c', 'd']
    """
    try:
        statements = pglast.parse_sql(definition)
    except pglast.parser.ParseError:
        return frozenset()
    found: set[str] = set()
    for raw in statements:
        for node in walk(raw.stmt) if raw.stmt is not None else ():
            if isinstance(node, pglast.ast.IndexElem) and node.name:
                found.add(node.name)
            elif isinstance(node, pglast.ast.ColumnRef):
                names = [f.sval or "" for f in node.fields or ()
                         if isinstance(f, pglast.ast.String)]
                if names:
                    found.add(names[-1])
    return frozenset(found)


def protection(index: Index) -> str | None:
    """Why `index` must never be dropped by this advice, or None.

    (A unique index is half-protected: see the module docstring.)
    """
    if index.schema in SYSTEM_SCHEMAS or index.schema.startswith("pg_toast"):
        return "it is in a system schema"
    if index.primary:
        return f"it backs the primary key {index.constraint or ''}".rstrip()
    if index.exclusion:
        return f"it backs the exclusion constraint {index.constraint}"
    if index.constraint:
        return f"it backs the constraint {index.constraint}"
    if index.replica_identity:
        return "it is the table's replica identity (logical replication needs it)"
    if index.foreign_keys:
        return "foreign keys need it: " + ", ".join(index.foreign_keys)
    if index.parent_oid is not None:
        return "it is a partition's index attached to a partitioned index (drop that one)"
    if index.building:
        return "a CREATE INDEX is building it right now"
    return None


def _partitioned(index: Index, catalog: Catalog) -> bool:
    table = catalog.table(index.table)
    return table is not None and table.kind == "p"


class _Indexes:
    """Every index of the catalog, with the partition tree of partitioned indexes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.all = sorted((i for t in catalog.tables.values() for i in t.indexes),
                          key=lambda i: (i.table, i.name))
        self.children: dict[int, list[Index]] = defaultdict(list)
        for idx in self.all:
            if idx.parent_oid is not None:
                self.children[idx.parent_oid].append(idx)

    def leaves(self, index: Index) -> list[Index]:
        """The indexes the planner really uses for `index`: itself, or its partitions' ones."""
        if not _partitioned(index, self.catalog) or index.oid is None:
            return [index]
        return [leaf for kid in self.children.get(index.oid, ())
                for leaf in self.leaves(kid)]

    def size(self, index: Index) -> int:
        return sum(leaf.size_bytes for leaf in self.leaves(index))

    def scans(self, index: Index) -> int | None:
        counts = [leaf.scans for leaf in self.leaves(index)]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)


def _ddl(index: Index, partitioned: bool) -> str:
    return drop_index_ddl(index.schema, index.name, concurrently=not partitioned)


_PARTITIONED_NOTE = (
    "Plain DROP INDEX: PostgreSQL refuses DROP INDEX CONCURRENTLY on a partitioned index; "
    "it drops the partitions' indexes too and holds an ACCESS EXCLUSIVE lock on the table and "
    "its partitions while it runs (brief; set a lock_timeout).")


def _candidate(index: Index, reason: DropReason, detail: str, indexes: _Indexes,
               kept_by: str | None = None,
               requires: tuple[Candidate, ...] = ()) -> DropCandidate:
    partitioned = _partitioned(index, indexes.catalog)
    notes = [detail.rstrip(".") + "."]
    if partitioned:
        notes.append(_PARTITIONED_NOTE)
    if index.clustered:
        notes.append("The table is CLUSTERed on it: a later CLUSTER must name another index.")
    detail = " ".join(notes)
    return DropCandidate(
        index=index.qualified_name, table=index.table, reason=reason, detail=detail,
        size_bytes=indexes.size(index), ddl=_ddl(index, partitioned), oid=index.oid,
        hide_oids=tuple(leaf.oid for leaf in indexes.leaves(index) if leaf.oid is not None),
        kept_by=kept_by,
        requires=requires, partitioned=partitioned, schema=index.schema, name=index.name,
        columns=referenced_columns(index.definition),
        plan_names=frozenset({index.name, *(leaf.name for leaf in indexes.leaves(index))}),
    )


def _keep_rank(index: Index) -> tuple[bool, bool, bool, bool, int, str]:
    """Sort key: the index to keep first (protected, then unique, clustered, older)."""
    return (protection(index) is None, not index.unique, not index.clustered,
            not index.valid, index.oid or 0, index.name)


def _why_kept(kept: Index) -> str:
    why = protection(kept)
    if why is not None:
        return why
    if kept.unique:
        return "it is unique"
    return "it is older" if kept.oid is not None else "it sorts first"


def _describe(shape: _Shape) -> str:
    text = f"({', '.join(shape.elems)})"
    if shape.include:
        text += f" INCLUDE ({', '.join(shape.include)})"
    if shape.where:
        text += f" WHERE {shape.where}"
    return text


def find_drop_candidates(catalog: Catalog, *, include_unused: bool = True,
                         ) -> tuple[DropCandidate, ...]:
    """Existing indexes the database could lose: invalid, duplicate, prefix-redundant, unused.

    `include_unused=False` where the usage counters mean nothing (a sandbox we loaded).
    Every duplicate or prefix-redundant drop names, in `kept_by`, an index that is not
    proposed itself.
    """
    indexes = _Indexes(catalog)
    out: list[DropCandidate] = []
    gone: set[str] = set()  # qualified names already proposed
    needed: set[str] = set()  # indexes another drop relies on (kept_by)

    def propose(candidate: DropCandidate) -> None:
        out.append(candidate)
        gone.add(candidate.index)
        if candidate.kept_by is not None:
            needed.add(candidate.kept_by)

    def unused(index: Index) -> bool:
        return (include_unused and index.valid and not index.unique
                and protection(index) is None and indexes.scans(index) == 0)

    for idx in indexes.all:
        if not idx.valid and protection(idx) is None:
            propose(_candidate(idx, DropReason.INVALID, _invalid_detail(idx, indexes), indexes))
    shapes = {i.qualified_name: s for i in indexes.all
              if i.valid and (s := shape_of(i.definition)) is not None}
    live = [i for i in indexes.all if i.qualified_name in shapes]

    # duplicates: same table and lookup shape; the best-ranked twin stays
    groups: dict[tuple[TableName, object], list[Index]] = defaultdict(list)
    for idx in live:
        groups[(idx.table, shapes[idx.qualified_name].lookup)].append(idx)
    for twins in groups.values():
        if len(twins) < 2:
            continue
        keep, *rest = sorted(twins, key=_keep_rank)
        kept_shape = shapes[keep.qualified_name]
        for idx in rest:
            shape = shapes[idx.qualified_name]
            if protection(idx) is not None:
                continue
            if idx.unique and not (kept_shape.unique and keep.immediate
                                   and kept_shape.nulls_not_distinct
                                   == shape.nulls_not_distinct):
                continue  # only another unique index enforces the same uniqueness
            detail = (f"same definition as {keep.qualified_name} {_describe(shape)}: same "
                      f"table, method, keys, INCLUDE and predicate; that one stays "
                      f"({_why_kept(keep)})")
            propose(_candidate(idx, DropReason.DUPLICATE, detail, indexes,
                               keep.qualified_name))

    # prefix redundancy: wider indexes are decided first, so each drop names an index that
    # stays; an unused wider index is not relied on (it goes as unused, the narrower stays);
    # a twin another drop relies on stays too (the next run can weigh it again)
    survivors: list[Index] = []
    order = sorted((i for i in live if i.qualified_name not in gone),
                   key=lambda i: (-len(shapes[i.qualified_name].elems),
                                  -len(shapes[i.qualified_name].include), _keep_rank(i)))
    for idx in order:
        shape = shapes[idx.qualified_name]
        wider = None
        if protection(idx) is None and not idx.unique and idx.qualified_name not in needed:
            wider = next((s for s in survivors if s.table == idx.table
                          and (s.qualified_name in needed or not unused(s))
                          and shapes[s.qualified_name].covers(shape)), None)
        if wider is None:
            survivors.append(idx)
            continue
        detail = (f"its keys {_describe(shape)} are a leading prefix of "
                  f"{wider.qualified_name} {_describe(shapes[wider.qualified_name])}, which "
                  f"serves the same lookups")
        propose(_candidate(idx, DropReason.PREFIX_REDUNDANT, detail, indexes,
                           wider.qualified_name))

    for idx in indexes.all:
        name = idx.qualified_name
        if name not in gone and name not in needed and unused(idx):
            propose(_candidate(idx, DropReason.UNUSED, _unused_detail(idx, catalog, indexes),
                               indexes))
    return tuple(sorted(out, key=lambda d: (d.table, d.index)))


def _invalid_detail(index: Index, indexes: _Indexes) -> str:
    if _partitioned(index, indexes.catalog):
        return ("invalid partitioned index: not every partition has an index attached to it "
                "(an unfinished CREATE INDEX ... ON ONLY sequence); the planner cannot use it. "
                "Finish it with ALTER INDEX ... ATTACH PARTITION, or drop it")
    maintained = ("yet every write still maintains it" if index.ready
                  else "and writes do not maintain it yet")
    return ("invalid: a failed or interrupted CREATE INDEX CONCURRENTLY leaves one behind; the "
            f"planner never uses it, {maintained}; safe to drop (then rebuild if it was wanted)")


def ago(delta: timedelta) -> str:
    """A rough human duration.

    >>> ago(timedelta(days=12, hours=3)), ago(timedelta(hours=5)), ago(timedelta(seconds=40))
    ('12 days', '5 hours', '40 seconds')
    """
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def stats_window(catalog: Catalog) -> str:
    """Since when the usage counters count, in words."""
    reset: datetime | None = catalog.stats_reset
    if reset is None:
        return "since the statistics began (never reset)"
    when = f"since the statistics were reset on {reset:%Y-%m-%d %H:%M %Z}".rstrip()
    if catalog.read_at is not None:
        when += f", {ago(catalog.read_at - reset)} ago"
    return when


def _unused_detail(index: Index, catalog: Catalog, indexes: _Indexes) -> str:
    where = ""
    if _partitioned(index, catalog):
        where = f" on any of its {len(indexes.leaves(index))} partitions"
    text = f"no index scan{where} {stats_window(catalog)}"
    if catalog.replicas:
        text += (f"; this server streams to {catalog.replicas} replica(s) whose scans are "
                 "counted there, not here: check them before dropping")
    return text


def redundant_after(recommendations: Sequence[Candidate], catalog: Catalog,
                    ) -> tuple[DropCandidate, ...]:
    """Existing indexes the recommended ones make prefix-redundant ("after creating X, Y is
    redundant"). Unique and protected indexes stay, as in `find_drop_candidates`."""
    indexes = _Indexes(catalog)
    new = [(c, s) for c in recommendations
           if (s := shape_of(create_index(c, "new"))) is not None]
    out = []
    for idx in indexes.all:
        if not idx.valid or idx.unique or protection(idx) is not None:
            continue
        shape = shape_of(idx.definition)
        if shape is None:
            continue
        for cand, wide in sorted(new, key=lambda cs: cs[0]):
            if cand.table == idx.table and wide.covers(shape):
                detail = (f"after creating the recommended {cand.label}, its keys "
                          f"{_describe(shape)} are a leading prefix of the new index, which "
                          f"serves the same lookups")
                out.append(_candidate(idx, DropReason.SUPERSEDED, detail, indexes,
                                      cand.label, requires=(cand,)))
                break
    return tuple(sorted(out, key=lambda d: (d.table, d.index)))


def merge(*groups: Iterable[DropCandidate]) -> tuple[DropCandidate, ...]:
    """One candidate per index, the first group's reason winning; an index another drop
    relies on (its `kept_by`) is not proposed, so twins never go together."""
    seen: dict[str, DropCandidate] = {}
    needed: set[str] = set()
    for group in groups:
        for cand in group:
            if cand.index in seen or cand.index in needed:
                continue
            seen[cand.index] = cand
            if cand.kept_by is not None:
                needed.add(cand.kept_by)
    return tuple(sorted(seen.values(), key=lambda d: (d.table, d.index)))

