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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from ..model import EQUALITY, RANGE, SORT, Candidate, ColumnUse, TableName, UseKind, is_expression
from ..sql.expressions import key_columns

MAX_PER_TABLE = 40


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
