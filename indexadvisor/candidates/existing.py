"""What the database already has: candidates an existing index covers are left out, and the
tables a hypothetical index can go on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from ..catalog import Catalog, Index, Table
from ..model import Candidate, TableName
from ..model.candidate import flip_order
from ..sql.expressions import NotAnExpression, canonical_expression, key_columns
from .partial import strip_parens


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
    candidate's, in the same sort orders (or all reversed: a backward scan), and which holds
    every column the candidate INCLUDEs."""
    n = len(candidate.columns)
    wanted = candidate.orders
    reverse = tuple(flip_order(o) for o in wanted)
    for index in indexes:
        held = {c for c in index.columns if c is not None} | set(index.include)
        if (index.method == candidate.method and index.valid
                and canonical_where(index.predicate) == candidate.where
                and index.columns[:n] == candidate.columns
                and index.orders[:n] in (wanted, reverse)
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
