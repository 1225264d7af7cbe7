"""Covering variants: a key candidate plus INCLUDE of the other columns a query reads on that
table, so the planner can answer it with an index-only scan.

INCLUDE must pay for its bytes. A column's width is its measured average (pg_stats.avg_width);
where ANALYZE's sample holds only NULLs (or there are no statistics) a fixed-width type counts
its type's width and any other type (text, json, jsonb, bytea, arrays) counts as wide: an
empty sample says nothing about the values the column will hold. And beside an existing index
that already serves the key, a covering variant must save real work per execution
(`MIN_HEAP_SAVING`), not one heap page of a one-row lookup (`real_gain`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from itertools import combinations

from ..catalog import Catalog, Column, Index, Table
from ..model import Candidate, ColumnUse, TableName, is_expression
from .existing import covered_by
from .sizes import fixed_width

INDEXABLE_METHOD = "btree"
MAX_COVERED = 8  # key + INCLUDE columns of a covering candidate, at most
MIN_ALL_VISIBLE = 0.5  # index-only scans pay only where the visibility map is mostly set
MAX_INCLUDE_SHARE = 0.5  # of the row's average width (narrow rows: MAX_INCLUDE_BYTES)
MAX_INCLUDE_BYTES = 32
UNKNOWN_WIDTH = 32  # a column of unknown width, in the row's width (the planner's default)
# Beside an index that already serves its key, a covering variant must save at least this
# many planner units per execution: four heap pages at random_page_cost 4 (a one-row lookup
# saves one, about 4 units, and that page is usually cached).
MIN_HEAP_SAVING = 16.0


def covering_candidates(candidates: Iterable[Candidate], uses: Iterable[ColumnUse],
                        catalog: Catalog) -> list[Candidate]:
    """Covering variants: each key candidate plus INCLUDE of the other columns the query reads
    on that table, so the planner can answer it with an index-only scan.

    Proposed only where an index-only scan can pay: the query reads few columns of the table
    (at most MAX_COVERED in all), every INCLUDE column has a known width and together they are
    not most of the row (`narrow`), and the table's visibility map is mostly set
    (pg_class.relallvisible), else every row still costs a heap visit.
    """
    read: dict[TableName, set[str]] = {}
    for use in uses:
        read.setdefault(use.table, set()).add(use.column)
    out: list[Candidate] = []
    for cand in candidates:
        table = catalog.table(cand.table)
        columns = read.get(cand.table, set())
        # An expression key cannot give an index-only scan its column back (the planner needs
        # the column itself for the filter), so covering stops at plain keys.
        if (table is None or cand.method != INDEXABLE_METHOD or cand.where or cand.include
                or any(is_expression(k) for k in (*cand.columns, *columns))
                or len(columns) > MAX_COVERED or not _mostly_visible(table)):
            continue
        rest = tuple(sorted(columns - set(cand.columns)))
        if rest and not _single_row(cand, table) and narrow(rest, table):
            out.append(replace(cand, include=rest))
    return sorted(set(out))


def covering_unions(proposed: Mapping[str, Sequence[Candidate]],
                    catalog: Catalog) -> dict[str, list[Candidate]]:
    """More candidates for keys that several queries cover with different columns: the key
    INCLUDE-ing the columns of two of the variants, and of all of them, while that is still
    narrow, for each query that proposed one of those variants. The search can then widen a
    chosen variant into one of them instead of buying a second copy of the key for the next
    query (one 250 MB copy per query of ``lineitem(l_shipdate)`` on TPC-H).
    `proposed`: query key -> its candidates.

    >>> from indexadvisor.catalog import Column, ColumnStats
    >>> t = TableName("public", "sales")
    >>> cols = tuple(Column(n, "integer", True, ColumnStats(0, -1, 4, None)) for n in "dabcx")
    >>> cat = Catalog(150000, "15", None, None, ("public",),
    ...               {t: Table(t, "r", cols, (), 1000, 10, 10, 81920)})
    >>> unions = covering_unions({"q1": [Candidate(t, ("d",), ("a",))],
    ...                           "q2": [Candidate(t, ("d",), ("b",))]}, cat)
    >>> {k: [c.label for c in v] for k, v in unions.items()}
    {'q1': ['public.sales(d) INCLUDE (a, b)'], 'q2': ['public.sales(d) INCLUDE (a, b)']}
    """
    groups: dict[tuple[object, ...], dict[Candidate, set[str]]] = {}
    for key, candidates in proposed.items():
        for cand in candidates:
            if cand.include:
                group = (cand.table, cand.columns, cand.order, cand.where or "", cand.method)
                groups.setdefault(group, {}).setdefault(cand, set()).add(key)
    out: dict[str, set[Candidate]] = {}
    for variants in groups.values():
        if len(variants) < 2:
            continue
        first = min(variants)
        table = catalog.table(first.table)
        if table is None:
            continue
        combos = [*combinations(sorted(variants), 2), tuple(sorted(variants))]
        for combo in combos:
            include = tuple(sorted(set().union(*(set(v.include) for v in combo))
                                   - set(first.columns)))
            union = replace(first, include=include)
            if (union in variants or len(union.columns) + len(include) > MAX_COVERED
                    or not narrow(include, table)):
                continue
            for key in set().union(*(variants[v] for v in combo)):
                out.setdefault(key, set()).add(union)
    return {key: sorted(found) for key, found in sorted(out.items())}


def _mostly_visible(table: Table) -> bool:
    return table.pages > 0 and table.all_visible_pages >= MIN_ALL_VISIBLE * table.pages


def _single_row(cand: Candidate, table: Table) -> bool:
    """A key a unique index already pins to one row: an index-only scan saves one page."""
    return any(index.unique and index.predicate is None and index.columns
               and set(index.columns) <= set(cand.columns) for index in table.indexes)


def column_width(column: Column) -> int | None:
    """Average bytes a column adds to an index tuple; None when not known (a variable-width
    type whose sample held only NULLs, or no statistics at all).

    >>> from indexadvisor.catalog import ColumnStats
    >>> column_width(Column("doc", "jsonb", False, ColumnStats(1.0, 0, 0, None)))
    >>> column_width(Column("at", "point", False, ColumnStats(1.0, 0, 0, None)))
    16
    >>> column_width(Column("doc", "jsonb", False, ColumnStats(0.2, -1, 412, None)))
    412
    """
    stats = column.stats
    if stats is not None and stats.avg_width > 0 and stats.null_frac < 1.0:
        return stats.avg_width
    return fixed_width(column.type)


def narrow(include: Iterable[str], table: Table) -> bool:
    """INCLUDE columns of known width that are not most of the row (else the index copies the
    table), the row's columns of unknown width counted at UNKNOWN_WIDTH."""
    def width(name: str) -> int | None:
        column = table.column(name)
        return column_width(column) if column is not None else None

    widths = [width(c) for c in include]
    if any(w is None for w in widths):
        return False
    row = sum(w if w is not None else UNKNOWN_WIDTH for w in map(width, (c.name for c in
                                                                          table.columns)))
    return sum(w or 0 for w in widths) <= max(MAX_INCLUDE_SHARE * row, MAX_INCLUDE_BYTES)


def serving_index(candidate: Candidate, catalog: Catalog) -> Index | None:
    """The existing index that already serves a covering candidate's key lookup, if any."""
    table = catalog.table(candidate.table)
    if not candidate.include or table is None:
        return None
    return covered_by(replace(candidate, include=()), table.indexes)


def real_gain(saving_per_call: float) -> bool:
    """Whether a covering variant beside an index that serves its key saves real work per
    execution (see MIN_HEAP_SAVING).

    >>> real_gain(4.1), real_gain(250.0)
    (False, True)
    """
    return saving_per_call >= MIN_HEAP_SAVING
