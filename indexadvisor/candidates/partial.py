"""Partial-index candidates mined from the workload: a repeated, selective constant filter.

A query group qualifies when every captured sample applies the same filter with the same
constant (literals in the text, or the same bound parameter value), and pg_stats says few rows
pass it (most-common values and frequencies, null fraction, n_distinct). Each of the query's
key candidates on that table then gets a partial twin ``... WHERE <filter>``: smaller, cheaper
to maintain (only matching rows are written to it), and the planner uses it only where it can
prove the filter, which it can from a literal or a custom plan with the captured value: that is
why such queries are costed with their sampled values.

>>> from indexadvisor.catalog import ColumnStats
>>> stats = ColumnStats(0.0, 4.0, 8, None, ("shipped", "pending"), (0.9, 0.04))
>>> [round(equality_fraction(v, stats, 1000), 3) for v in ("pending", "x")]
[0.04, 0.03]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..analyze.predicates import Predicate, filter_predicates
from ..analyze.schema import SchemaMap
from ..catalog import Catalog, ColumnStats
from ..model import Candidate, Sample
from ..sql.expressions import key_columns

MAX_FRACTION = 0.2  # a filter letting more rows through makes a partial index pointless
MAX_PREDICATES = 2  # per table and query: the most selective ones
MAX_KEY_WIDTH = 2
MAX_DISTINCT = 1000  # status-like columns; an id's one value is not worth its own index

_BOOL = {"true": "t", "false": "f"}


@dataclass(frozen=True)
class PartialFilter:
    """A filter fit for a partial index, with the fraction of rows pg_stats says pass it."""

    predicate: Predicate
    fraction: float

    @property
    def where(self) -> str:
        """The predicate as an index's WHERE clause (without the outer parentheses)."""
        return strip_parens(self.predicate.sql)


def strip_parens(text: str) -> str:
    """``(a = 1)`` -> ``a = 1`` when one pair encloses the whole text.

    >>> strip_parens("(a = 1)"), strip_parens("(a) = (b)")
    ('a = 1', '(a) = (b)')
    """
    if not (text.startswith("(") and text.endswith(")")):
        return text
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(text) - 1:
            return text
    return text[1:-1]


def repeated_filters(samples: Sequence[Sample], schema: SchemaMap) -> list[Predicate]:
    """The constant filters every sample of a query applies with the same constant."""
    common: set[Predicate] | None = None
    for sample in samples:
        found = set()
        for predicate in filter_predicates(sample.text, schema):
            bound = predicate.bind(sample.params)
            if bound is not None:
                found.add(bound)
        common = found if common is None else common & found
    return sorted(common or ())


def equality_fraction(value: str, stats: ColumnStats, rows: float) -> float:
    """Fraction of rows equal to `value`: its MCV frequency, else an even share of the rest."""
    value = _BOOL.get(value, value)
    for mcv, freq in zip(stats.most_common_vals, stats.most_common_freqs, strict=False):
        # character(n) values come back blank-padded ('BUILDING  '), and compare so
        if mcv == value or mcv.rstrip(" ") == value.rstrip(" "):
            return freq
    rest = max(0.0, 1.0 - stats.null_frac - sum(stats.most_common_freqs))
    others = stats.distinct_values(rows) - len(stats.most_common_vals)
    return rest / others if others >= 1 else rest


def filter_fraction(predicate: Predicate, stats: ColumnStats, rows: float) -> float | None:
    """Fraction of rows passing `predicate`, from pg_stats; None when it cannot tell."""
    if predicate.op == "is_null":
        return stats.null_frac
    if predicate.op == "is_not_null":
        return 1.0 - stats.null_frac
    if predicate.op in ("true", "false"):
        return equality_fraction(predicate.op, stats, rows)
    if not predicate.values:
        return None
    if predicate.op == "=":
        return equality_fraction(predicate.values[0], stats, rows)
    if predicate.op == "in":
        return min(1.0, sum(equality_fraction(v, stats, rows) for v in set(predicate.values)))
    if predicate.op == "<>":
        return max(0.0, 1.0 - stats.null_frac - equality_fraction(predicate.values[0], stats,
                                                                 rows))
    return None


def partial_filters(samples: Sequence[Sample], schema: SchemaMap,
                    catalog: Catalog) -> list[PartialFilter]:
    """The repeated filters of a query selective enough for a partial index."""
    out = []
    for predicate in repeated_filters(samples, schema):
        table = catalog.table(predicate.table)
        column = table.column(predicate.column) if table is not None else None
        if table is None or column is None or column.stats is None:
            continue
        rows = max(table.rows, 1.0)
        fraction = filter_fraction(predicate, column.stats, rows)
        if predicate.op in ("=", "<>", "in") and column.stats.distinct_values(rows) > MAX_DISTINCT:
            continue  # a key, not a category: an ordinary index on it serves every value
        if fraction is not None and fraction <= MAX_FRACTION:
            out.append(PartialFilter(predicate, fraction))
    return out


def partial_candidates(keys: Iterable[Candidate],
                       filters: Sequence[PartialFilter]) -> list[Candidate]:
    """Partial twins of a query's key candidates, one per selective filter on their table.

    A key that holds the filtered column next to others is skipped (inside the partial index
    that column is constant); the column alone is kept (an index of exactly the matching rows).
    """
    out: set[Candidate] = set()
    keys = [k for k in keys if not k.where and not k.include and len(k.columns) <= MAX_KEY_WIDTH]
    by_table: dict[object, list[PartialFilter]] = {}
    for found in sorted(filters, key=lambda f: (f.fraction, f.predicate)):
        by_table.setdefault(found.predicate.table, []).append(found)
    for key in keys:
        for found in by_table.get(key.table, [])[:MAX_PREDICATES]:
            held = {c for k in key.columns for c in key_columns(k)}
            if found.predicate.column in held and len(key.columns) > 1:
                continue
            out.add(Candidate(key.table, key.columns, (), found.where, key.method, key.order))
    return sorted(out)
