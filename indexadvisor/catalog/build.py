"""Assembling the frozen catalog from the rows of the catalog read (pure, no I/O)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ..model.candidate import key_order
from ..model.names import TableName
from ..sql.expressions import NotAnExpression, canonical_expression
from .values import Catalog, Column, ColumnStats, Index, Table, View


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
    extensions: Sequence[str] = (),
    views: list[dict[str, Any]] | None = None,
    system: list[dict[str, Any]] | None = None,
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
                order=_key_orders(r.get("options") or (), nkey),
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
    view_names = {row["oid"]: TableName(row["schema"], row["name"]) for row in views or ()}
    view_columns: dict[int, list[str]] = defaultdict(list)
    for r in columns:
        if r["oid"] in view_names:
            view_columns[r["oid"]].append(r["name"])
    view_values = {
        view_names[row["oid"]]: View(view_names[row["oid"]],
                                     str(row["definition"] or "").strip().rstrip(";"),
                                     tuple(view_columns.get(row["oid"], ())))
        for row in views or () if row["definition"]}
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
        extensions=frozenset(extensions),
        views=MappingProxyType(dict(sorted(view_values.items()))),
        system_relations=frozenset(TableName(r["schema"], r["name"]) for r in system or ()),
    )


def _key_orders(options: Sequence[int], nkey: int) -> tuple[str, ...]:
    """Key sort orders from pg_index.indoption (bit 1: DESC, bit 2: NULLS FIRST).

    >>> _key_orders([0, 3, 1, 2], 4), _key_orders([0, 0], 2)
    (('', 'DESC', 'DESC NULLS LAST', 'NULLS FIRST'), ())
    """
    orders = tuple(key_order(bool(o & 1), bool(o & 2)) for o in list(options)[:nkey])
    return orders if any(orders) else ()


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
