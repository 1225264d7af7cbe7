"""Covering variants: a key candidate plus INCLUDE of the other columns a query reads on that
table, so the planner can answer it with an index-only scan."""

from __future__ import annotations

from collections.abc import Iterable

from ..catalog import Catalog, Table
from ..model import Candidate, ColumnUse, TableName, is_expression

INDEXABLE_METHOD = "btree"
MAX_COVERED = 8  # key + INCLUDE columns of a covering candidate, at most
MIN_ALL_VISIBLE = 0.5  # index-only scans pay only where the visibility map is mostly set
MAX_INCLUDE_SHARE = 0.5  # of the row's average width (narrow rows: MAX_INCLUDE_BYTES)
MAX_INCLUDE_BYTES = 32


def covering_candidates(candidates: Iterable[Candidate], uses: Iterable[ColumnUse],
                        catalog: Catalog) -> list[Candidate]:
    """Covering variants: each key candidate plus INCLUDE of the other columns the query reads
    on that table, so the planner can answer it with an index-only scan.

    Proposed only where an index-only scan can pay: the query reads few columns of the table
    (at most MAX_COVERED in all) and the table's visibility map is mostly set
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
        if rest and not _single_row(cand, table) and _narrow(rest, table):
            out.append(Candidate(cand.table, cand.columns, rest))
    return sorted(set(out))


def _mostly_visible(table: Table) -> bool:
    return table.pages > 0 and table.all_visible_pages >= MIN_ALL_VISIBLE * table.pages


def _single_row(cand: Candidate, table: Table) -> bool:
    """A key a unique index already pins to one row: an index-only scan saves one page."""
    return any(index.unique and index.predicate is None and index.columns
               and set(index.columns) <= set(cand.columns) for index in table.indexes)


def _narrow(include: Iterable[str], table: Table) -> bool:
    """INCLUDE columns that are not most of the row (else the index copies the table)."""
    def width(name: str) -> int:
        column = table.column(name)
        return column.stats.avg_width if column and column.stats else 8

    row = sum(width(c.name) for c in table.columns)
    return sum(width(c) for c in include) <= max(MAX_INCLUDE_SHARE * row, MAX_INCLUDE_BYTES)
