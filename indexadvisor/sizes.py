"""Pure: btree size estimates where HypoPG's own are blind (expression keys).

HypoPG 1.3 sizes a hypothetical btree from the average width of each key, and for an
expression key it only knows ``md5()`` and ``lower()``/``upper()`` of a plain text column; any
other expression counts as 50 bytes. A ``CAST(created_at AS date)`` key (4 bytes) then looks
about three times its real size, which biases a byte budget against expression indexes. So for
candidates with an expression key the size is recomputed with HypoPG's own btree formula and
better widths: the planner's width of the expression's type, capped by the widths of the columns
it reads (``lower(email)`` is as wide as ``email``, not the 32 bytes the planner assumes for
any text).

>>> btree_size(100_000, [4])  # one date key
2605056
>>> expression_width(32, [21])  # lower(email): text, as wide as email
21
"""

from __future__ import annotations

from collections.abc import Sequence

BLOCK_SIZE = 8192
_USABLE = BLOCK_SIZE - 24 - 16  # page header, btree special space
_BLOAT = (200 - 90 + 20) / 100  # HypoPG: fillfactor 90 plus 20% bloat
_INDEX_TUPLE_HEADER = 8
_ITEM_ID = 4


def btree_size(rows: float, widths: Sequence[int]) -> int:
    """Bytes of a btree over `rows` rows with keys of these average widths (HypoPG's formula)."""
    n = max(len(widths), 1)
    line = sum(widths) + _INDEX_TUPLE_HEADER * n + -(-_ITEM_ID * n // 8) * 8
    pages = max(1, int(max(rows, 0.0) * line * _BLOAT / _USABLE))
    return pages * BLOCK_SIZE


def expression_width(planner_width: int, column_widths: Sequence[int]) -> int:
    """Average width of an expression key: the planner's, capped by what its columns hold.

    >>> expression_width(4, [8]), expression_width(32, []), expression_width(32, [250, 4])
    (4, 32, 32)
    """
    if not column_widths or any(w <= 0 for w in column_widths):
        return planner_width
    return min(planner_width, sum(column_widths))
