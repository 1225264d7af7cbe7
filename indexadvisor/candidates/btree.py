"""Pure pass: column uses + catalog -> candidate indexes.

Key order follows how a btree is searched: equality-like columns first (most selective first),
then one range column, then sort columns in the order the query sorts by them (ORDER BY items
first, then GROUP BY items, each as written). Where ORDER BY mixes directions, or asks for
NULLs where a scan in either direction would not put them, the sort keys carry their order
(``ORDER BY a DESC, b`` gets ``(a, b DESC)``, which a backward scan reads as asked). Anything an
existing index already serves is left out.

>>> from indexadvisor.model import ColumnUse, TableName, UseKind
>>> t = TableName("public", "orders")
>>> uses = [ColumnUse(t, "customer_id", UseKind.EQ), ColumnUse(t, "created_at", UseKind.RANGE)]
>>> [c.columns for c in query_candidates(uses, {}, max_width=2)]
[('created_at',), ('customer_id',), ('customer_id', 'created_at')]
>>> uses = [ColumnUse(t, "user_id", UseKind.ORDER, 0, "DESC"), ColumnUse(t, "id", UseKind.ORDER, 1)]
>>> [c.label for c in query_candidates(uses, {})]
['public.orders(id)', 'public.orders(user_id)', 'public.orders(user_id, id DESC)']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from ..model import EQUALITY, RANGE, SORT, Candidate, ColumnUse, TableName, UseKind, is_expression
from ..model.candidate import canonical_order
from ..sql.expressions import key_columns

MAX_PER_TABLE = 40


@dataclass(frozen=True)
class TableUses:
    """The columns of one table a query uses, by role."""

    table: TableName
    equality: tuple[str, ...]
    range: tuple[str, ...]
    sort: tuple[str, ...]  # ORDER BY items as written, then GROUP BY / DISTINCT items
    directions: tuple[tuple[str, str], ...] = ()  # ORDER BY items: (key, its order)

    def sort_orders(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        """Key orders for a candidate on `keys`: empty unless some of its sort keys need one
        that neither scan direction of default keys gives (mixed, or NULLs placed apart)."""
        wanted = dict(self.directions)
        sorted_part = [i for i, k in enumerate(keys) if k in wanted]
        if not sorted_part:
            return ()
        asked = canonical_order(tuple(wanted[keys[i]] for i in sorted_part))
        if not any(asked):
            return ()
        orders = [""] * len(keys)
        for i, order in zip(sorted_part, asked, strict=True):
            orders[i] = order
        return tuple(orders)


def table_uses(uses: Iterable[ColumnUse],
               distinct: Mapping[tuple[TableName, str], float]) -> list[TableUses]:
    """Group uses by table; equality columns most selective first (then by name), sort
    columns in the order the query sorts by them."""
    by_table: dict[TableName, dict[str, set[UseKind]]] = {}
    sort_place: dict[TableName, dict[str, tuple[int, int, str]]] = {}
    for use in uses:
        by_table.setdefault(use.table, {}).setdefault(use.column, set()).add(use.kind)
        if use.kind in SORT:
            place = (0 if use.kind is UseKind.ORDER else 1, use.position, use.direction)
            known = sort_place.setdefault(use.table, {})
            known[use.column] = min(known.get(use.column, place), place)
    out = []
    for table, cols in sorted(by_table.items()):
        def key(col: str, table: TableName = table) -> tuple[float, str]:
            return (-_distinct(distinct, table, col), col)

        eq = sorted((c for c, k in cols.items() if k & EQUALITY), key=key)
        rng = sorted((c for c, k in cols.items() if k & RANGE and c not in eq), key=key)
        places = sort_place.get(table, {})

        def written(col: str, places: dict[str, tuple[int, int, str]] = places,
                    ) -> tuple[tuple[int, ...], str]:
            return places[col][:2], col

        srt = sorted((c for c, k in cols.items() if k & SORT and c not in eq and c not in rng),
                     key=written)
        directions = tuple((c, places[c][2]) for c in srt if places[c][0] == 0)
        out.append(TableUses(table, tuple(eq), tuple(rng), tuple(srt), directions))
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
        # WHERE user_id = $1 ORDER BY created_at, id: the filter, then the whole sort
        keys += [(*combo, *tu.sort[:max_width - len(combo)]) for combo in eq_sets
                 if len(combo) < max_width - 1]
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
        out += [Candidate(tu.table, key, order=tu.sort_orders(key)) for key in keys]
    return sorted(set(out))
