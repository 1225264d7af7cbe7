"""Access methods besides btree that HypoPG can cost: BRIN and hash candidates.

- **BRIN** (`brin_candidates`): a block-range index is a few pages for a table of millions of
  rows, and serves a range predicate as well as a btree when the column's values follow the
  physical row order (pg_stats.correlation near +-1: an append-only log's timestamp, a serial
  id). Proposed for a RANGE use (or equality on a date/time column) on a large table only;
  HypoPG 1.3 simulates BRIN, so selection weighs it like any candidate, and under a small budget
  its size makes it win.
- **Hash** (`hash_candidates`): for pure equality on one wide column (a URL, a token), a hash
  index stores 4-byte hash codes instead of the key, so it is smaller than a btree on the same
  column. Proposed only when the query uses that column for nothing but equality; HypoPG
  simulates hash too, and selection decides whether it wins on cost or size.

GIN, which HypoPG cannot cost, is proposed apart (`candidates.gin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..catalog import Catalog
from ..model import Candidate, ColumnUse, TableName, UseKind, is_expression

MIN_BRIN_PAGES = 10_000  # 80 MB of heap: below that a btree is small enough anyway
MIN_BRIN_CORRELATION = 0.9  # |pg_stats.correlation|: rows stored in (nearly) column order
MIN_HASH_WIDTH = 32  # pg_stats.avg_width in bytes: hash codes are 4 bytes, so a wide key pays
_TIME_TYPES = ("timestamp", "date", "time")
_HASH_ONLY = frozenset({UseKind.EQ, UseKind.PROJECT})


def brin_candidates(uses: Iterable[ColumnUse], catalog: Catalog) -> list[Candidate]:
    """Single-column BRIN candidates: a range use (or equality on a date/time column) of a
    column whose values follow the physical order, on a table of at least MIN_BRIN_PAGES.

    >>> brin_candidates([], Catalog(150000, "15", "1.3.1", None, ("public",)))
    []
    """
    out: set[Candidate] = set()
    for use in uses:
        if is_expression(use.column):
            continue
        table = catalog.table(use.table)
        if table is None or table.kind not in ("r", "m") or table.pages < MIN_BRIN_PAGES:
            continue
        column = table.column(use.column)
        if column is None or column.stats is None or column.stats.correlation is None:
            continue
        timelike = column.type.startswith(_TIME_TYPES)
        if not (use.kind == UseKind.RANGE or (use.kind == UseKind.EQ and timelike)):
            continue
        if abs(column.stats.correlation) >= MIN_BRIN_CORRELATION:
            out.add(Candidate(use.table, (use.column,), method="brin"))
    return sorted(out)


def hash_candidates(uses: Iterable[ColumnUse], catalog: Catalog) -> list[Candidate]:
    """Single-column hash candidates: a wide column (avg_width >= MIN_HASH_WIDTH) the query
    compares for equality and uses in no other way a btree would serve (range, sort, LIKE,
    IS NULL, join, IN)."""
    kinds: dict[tuple[TableName, str], set[UseKind]] = {}
    for use in uses:
        kinds.setdefault((use.table, use.column), set()).add(use.kind)
    out = []
    for (name, col), used in sorted(kinds.items()):
        if UseKind.EQ not in used or not used <= _HASH_ONLY or is_expression(col):
            continue
        table = catalog.table(name)
        column = table.column(col) if table is not None else None
        if (table is not None and table.kind in ("r", "m") and column is not None
                and column.stats is not None and column.stats.avg_width >= MIN_HASH_WIDTH):
            out.append(Candidate(name, (col,), method="hash"))
    return out


def method_candidates(uses: Sequence[ColumnUse], catalog: Catalog) -> list[Candidate]:
    """The BRIN and hash candidates of one query."""
    return sorted(set(brin_candidates(uses, catalog)) | set(hash_candidates(uses, catalog)))


