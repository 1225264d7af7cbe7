"""Pure pass: column uses + catalog -> candidate indexes.

Key order follows how a btree is searched: equality-like columns first (most selective first),
then one range column, then sort columns. Anything an existing index already serves is left out.

>>> from indexadvisor.model import ColumnUse, TableName, UseKind
>>> t = TableName("public", "orders")
>>> uses = [ColumnUse(t, "customer_id", UseKind.EQ), ColumnUse(t, "created_at", UseKind.RANGE)]
>>> [c.columns for c in query_candidates(uses, {}, max_width=2)]
[('created_at',), ('customer_id',), ('customer_id', 'created_at')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from .catalog import Catalog, Index, Table
from .expressions import NotAnExpression, canonical_expression
from .model import Candidate, ColumnUse, TableName, UseKind, is_expression, key_columns
from .partial import strip_parens

EQUALITY = frozenset({UseKind.EQ, UseKind.IN, UseKind.IS_NULL, UseKind.JOIN})
RANGE = frozenset({UseKind.RANGE, UseKind.LIKE_PREFIX})
SORT = frozenset({UseKind.ORDER, UseKind.GROUP})
LEADING = EQUALITY | RANGE | SORT
MAX_PER_TABLE = 40
INDEXABLE_METHOD = "btree"
MAX_COVERED = 8  # key + INCLUDE columns of a covering candidate, at most
MIN_ALL_VISIBLE = 0.5  # index-only scans pay only where the visibility map is mostly set
MAX_INCLUDE_SHARE = 0.5  # of the row's average width (narrow rows: MAX_INCLUDE_BYTES)
MAX_INCLUDE_BYTES = 32


@dataclass(frozen=True)
class TableUses:
    """The columns of one table a query uses, by role."""

    table: TableName
    equality: tuple[str, ...]
    range: tuple[str, ...]
    sort: tuple[str, ...]


def table_uses(uses: Iterable[ColumnUse],
               distinct: Mapping[tuple[TableName, str], float]) -> list[TableUses]:
    """Group uses by table; equality columns most selective first (then by name)."""
    by_table: dict[TableName, dict[str, set[UseKind]]] = {}
    for use in uses:
        by_table.setdefault(use.table, {}).setdefault(use.column, set()).add(use.kind)
    out = []
    for table, cols in sorted(by_table.items()):
        def key(col: str, table: TableName = table) -> tuple[float, str]:
            return (-_distinct(distinct, table, col), col)

        eq = sorted((c for c, k in cols.items() if k & EQUALITY), key=key)
        rng = sorted((c for c, k in cols.items() if k & RANGE and c not in eq), key=key)
        srt = sorted(c for c, k in cols.items() if k & SORT and c not in eq and c not in rng)
        out.append(TableUses(table, tuple(eq), tuple(rng), tuple(srt)))
    return out


def _distinct(distinct: Mapping[tuple[TableName, str], float], table: TableName,
              key: str) -> float:
    """Distinct values of a key; an expression key (model.is_expression) gets the most its
    columns have, an upper bound (``lower(email)`` has about as many as ``email``)."""
    if not is_expression(key):
        return distinct.get((table, key), 0.0)
    return max((distinct.get((table, c), 0.0) for c in key_columns(key)), default=0.0)


def _keys(tu: TableUses, max_width: int) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    eq_sets = [combo for width in range(1, max_width + 1)
               for combo in combinations(tu.equality, width)]
    keys += eq_sets
    for suffix_cols in (tu.range, tu.sort):
        for col in suffix_cols:
            keys.append((col,))
            keys += [(*combo, col) for combo in eq_sets if len(combo) < max_width]
    if len(tu.sort) > 1:
        keys.append(tu.sort[:max_width])
    seen: dict[tuple[str, ...], None] = {}
    for key in keys:
        seen.setdefault(key, None)
    return list(seen)


def query_candidates(uses: Iterable[ColumnUse],
                     distinct: Mapping[tuple[TableName, str], float], *,
                     max_width: int = 3) -> list[Candidate]:
    """Candidate indexes for one query (not yet filtered against existing indexes)."""
    out: list[Candidate] = []
    for tu in table_uses(uses, distinct):
        keys = _keys(tu, max_width)[:MAX_PER_TABLE]
        out += [Candidate(tu.table, key) for key in keys]
    return sorted(set(out))


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


@lru_cache(maxsize=1024)
def canonical_where(predicate: str | None) -> str | None:
    """An index predicate as partial candidates spell it (pg_get_expr adds casts and parens).

    >>> canonical_where("(status = 'pending'::text)")
    "status = 'pending'"
    """
    if predicate is None:
        return None
    try:
        return strip_parens(canonical_expression(predicate))
    except NotAnExpression:
        return predicate


def covered_by(candidate: Candidate, indexes: Sequence[Index]) -> Index | None:
    """An existing valid btree index with the candidate's predicate whose leading keys are the
    candidate's and which holds every column the candidate INCLUDEs."""
    for index in indexes:
        held = {c for c in index.columns if c is not None} | set(index.include)
        if (index.method == candidate.method and index.valid
                and canonical_where(index.predicate) == candidate.where
                and index.columns[: len(candidate.columns)] == candidate.columns
                and set(candidate.include) <= held):
            return index
    return None


def distinct_map(catalog: Catalog) -> dict[tuple[TableName, str], float]:
    """(table, column) -> estimated distinct values, from pg_stats."""
    out: dict[tuple[TableName, str], float] = {}
    for table in catalog.tables.values():
        for col in table.columns:
            if col.stats is not None:
                out[(table.name, col.name)] = col.stats.distinct_values(max(table.rows, 1.0))
    return out


def indexable(table: Table | None) -> bool:
    """Tables we can put a hypothetical btree on: ordinary tables, parents, matviews."""
    return table is not None and table.kind in ("r", "p", "m")


def filter_existing(candidates: Iterable[Candidate],
                    catalog: Catalog) -> tuple[list[Candidate], dict[Candidate, str]]:
    """Split candidates into new ones and those an existing index covers (with its name)."""
    fresh: list[Candidate] = []
    covered: dict[Candidate, str] = {}
    for cand in candidates:
        table = catalog.table(cand.table)
        if not indexable(table):
            continue
        assert table is not None
        if any(table.column(c) is None for key in cand.columns for c in key_columns(key)):
            continue
        existing = covered_by(cand, table.indexes)
        if existing is not None:
            covered[cand] = existing.qualified_name
        else:
            fresh.append(cand)
    return fresh, covered


def is_relevant(candidate: Candidate, leading_columns: frozenset[tuple[TableName, str]]) -> bool:
    """Whether a candidate can change a query's plan: its first key column is one the query
    filters, joins, sorts or groups on."""
    return (candidate.table, candidate.columns[0]) in leading_columns
