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

import math
from collections.abc import Sequence

from ..catalog import Catalog, ColumnStats
from ..model import Candidate, is_expression

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


# -- btree sizes as CREATE INDEX builds them (PostgreSQL 13+: deduplication) -----------------
#
# HypoPG's formula ignores deduplication and assumes 20% bloat on top of the fillfactor, so on
# keys with repeats it runs 2-4x high (TPC-H: lineitem(l_suppkey) 157 MB estimated, 43 MB
# built). A byte budget means disk bytes to a DBA, so the advisor sizes plain-column btrees
# itself: tuples laid out with their types' alignment, posting lists where deduplication
# applies (no INCLUDE columns, every key type deduplication-safe), leaf pages filled to 90%,
# inner pages on top. Checked against real builds in tests/test_sizes.py.

_FIXED = {  # type -> (length, alignment)
    "smallint": (2, 2), "integer": (4, 4), "bigint": (8, 8), "date": (4, 4),
    "timestamp without time zone": (8, 8), "timestamp with time zone": (8, 8),
    "time without time zone": (8, 8), "boolean": (1, 1), "uuid": (16, 1), "oid": (4, 4),
    '"char"': (1, 1), "real": (4, 4), "double precision": (8, 8), "money": (8, 8),
    "interval": (16, 8),
}
# Types whose equality is bitwise equality, so btree deduplication is enabled for them.
# Not character(n): its values that differ only in trailing spaces compare equal, and
# PostgreSQL's minor releases of November 2026 (15.20 here) stopped deduplicating it (a
# char(10) key of one value: 9.5 MB built where an int key takes 2.1 MB; 15.18 deduplicated
# it). On an older server such an index comes out smaller than estimated: the safe side.
_DEDUP_SAFE = frozenset({
    "smallint", "integer", "bigint", "date", "timestamp without time zone",
    "timestamp with time zone", "time without time zone", "boolean", "uuid", "oid", '"char"',
    "text", "character varying", "money",
})
_MAXALIGN = 8
_LEAF_FILL = 0.90  # btree leaf fillfactor
_INNER_FILL = 0.70  # inner pages, as CREATE INDEX leaves them
_MAX_ITEM = 2704  # BTMaxItemSize for 8 kB pages: posting lists split beyond it
_TID = 6
CLUSTERED = 0.9  # |pg_stats.correlation| from which n_distinct is not trusted for sizing
# Headroom for what the model misses (TPC-H SF1: 15 indexes estimated 997 MB, built 1,001 MB;
# the worst single miss a composite key with posting lists, 82 MB estimated, 88 MB built):
# a budget is a promise about disk bytes.
SIZE_MARGIN = 1.03


# Fixed-width types beyond those a btree key commonly has (geometric, network, time).
_OTHER_FIXED = {"point": 16, "line": 24, "lseg": 32, "box": 32, "circle": 24, "macaddr": 6,
                "macaddr8": 8, "time with time zone": 12, "tid": 6, "pg_lsn": 8}


def fixed_width(type_name: str) -> int | None:
    """The width of a fixed-length type (None for a variable-length one: text, jsonb, ...).

    >>> fixed_width("bigint"), fixed_width("point"), fixed_width("jsonb")
    (8, 16, None)
    """
    base = _base_type(type_name)
    if base in _FIXED:
        return _FIXED[base][0]
    return _OTHER_FIXED.get(base)


def _base_type(type_name: str) -> str:
    """``character varying(40)`` -> ``character varying``; arrays stay arrays."""
    return type_name.split("(")[0].strip() if not type_name.endswith("]") else type_name


def tuple_data_width(columns: Sequence[tuple[str, int]]) -> int:
    """Bytes of an index tuple's data: (type, average width) per column, aligned as stored.

    Short varlena values (under 127 bytes) are packed without alignment.

    >>> tuple_data_width([("integer", 4)]), tuple_data_width([("integer", 4), ("numeric", 5)])
    (4, 9)
    >>> tuple_data_width([("date", 4), ("bigint", 8)])
    16
    """
    offset = 0
    for type_name, width in columns:
        fixed = _FIXED.get(_base_type(type_name))
        if fixed is not None:
            length, align = fixed
        else:
            length, align = max(width, 1), (1 if width < 127 else 4)
        offset = -(-offset // align) * align + length
    return offset


def _align(n: int) -> int:
    return -(-n // _MAXALIGN) * _MAXALIGN


# Variable-width values whose length varies from row to row (a numeric's digits, a string).
_VARYING = frozenset({"numeric", "text", "character varying", "bytea", "jsonb", "json"})


def _aligned_tuple(size: float, types: Sequence[str]) -> float:
    """An index tuple of `size` average bytes (header and data), MAXALIGNed. Each tuple is
    aligned on its own: where the average sits within a byte of a multiple of 8 and some
    column's length varies, about half the tuples are a little wider and take 8 more bytes
    (TPC-H lineitem(l_shipdate) INCLUDE (l_discount, l_extendedprice, l_partkey, l_quantity,
    l_suppkey): 40 bytes on average, 338 MB built where 40-byte tuples make 307 MB).

    >>> _aligned_tuple(40, ["date", "numeric"]), _aligned_tuple(40, ["date", "integer"])
    (44.0, 40)
    >>> _aligned_tuple(17, ["integer", "numeric"])
    24
    """
    aligned = _align(int(-(-size // 1)))
    if aligned - size < 2 and any(_base_type(t) in _VARYING for t in types):
        return aligned + _MAXALIGN / 2
    return aligned


def built_btree_size(rows: float, keys: Sequence[tuple[str, int]],
                     include: Sequence[tuple[str, int]] = (),
                     distinct: float | None = None) -> int:
    """Bytes of a freshly built btree over `rows` rows (keys and INCLUDE as (type, width)).

    `distinct` is the number of distinct key values; with it, and when deduplication applies,
    repeats share posting lists.

    >>> round(built_btree_size(6_000_000, [("integer", 4)]) / 2**20)  # unique int4
    129
    >>> round(built_btree_size(6_000_000, [("integer", 4)], distinct=10_000) / 2**20)
    39
    """
    rows = max(rows, 1.0)
    plain = _aligned_tuple(8 + tuple_data_width([*keys, *include]),
                           [t for t, _ in (*keys, *include)]) + 4  # line pointer
    dedup = not include and all(_base_type(t) in _DEDUP_SAFE for t, _ in keys)
    per_key = rows / distinct if dedup and distinct and distinct >= 1 else 1.0
    if per_key < 1.5:
        leaf_bytes = rows * plain
    else:
        # A key with `per_key` heap rows: posting tuples of up to `room` TIDs each.
        room = max(1, (_MAX_ITEM - plain) // _TID)
        tuples = -(-per_key // room)
        per_group = tuples * plain + per_key * _TID
        leaf_bytes = (rows / per_key) * per_group
    usable = BLOCK_SIZE - 24 - 16
    # each leaf page also holds its high key (a copy of a key tuple)
    leaf_pages = max(1, math.ceil(leaf_bytes / (usable * _LEAF_FILL - plain)))
    pages, level = 1 + leaf_pages, leaf_pages  # the metapage
    fanout = max(2, int(usable * _INNER_FILL / (_align(8 + tuple_data_width(keys)) + 4)))
    while level > 1:
        level = math.ceil(level / fanout)
        pages += level
    return pages * BLOCK_SIZE


def expected_distinct(combinations: float, rows: float) -> float:
    """Distinct keys among `rows` rows drawn from `combinations` equally likely values: the
    planner's independence assumption (no extended statistics), so correlated columns come
    out high, which errs on the side of a bigger index.

    >>> round(expected_distinct(10, 1_000_000)), round(expected_distinct(1e12, 1000))
    (10, 1000)
    """
    rows = max(rows, 1.0)
    if combinations <= 0:
        return rows
    return max(1.0, combinations * -math.expm1(-rows / combinations))


def _distinct(stats: ColumnStats, rows: float) -> float:
    """Distinct values of a key column for sizing. On a physically clustered column
    (|correlation| >= 0.9) ANALYZE's block sample sees runs of one value and undercounts
    distinct values (TPC-H l_orderkey: 398k estimated, 1.5M real), which would promise more
    deduplication than a build delivers; there every row counts as distinct (no saving
    assumed: a budget must not be overrun).

    >>> _distinct(ColumnStats(0, 400_000, 4, 1.0), 6e6), _distinct(ColumnStats(0, 10, 4, 0.1), 6e6)
    (6000000.0, 10.0)
    """
    if stats.correlation is not None and abs(stats.correlation) >= CLUSTERED:
        return max(rows, 1.0)
    return float(max(stats.distinct_values(max(rows, 1.0)), 1.0))


def candidate_btree_size(candidate: Candidate, catalog: Catalog,
                         fraction: float = 1.0) -> int | None:
    """`built_btree_size` for a plain-column btree candidate, summed over a parent's leaves;
    `fraction` is the share of rows a partial index holds. None when the catalog lacks what
    it needs (no statistics, an expression key, another method): then HypoPG's size stands."""
    if candidate.method != "btree" or any(is_expression(k) for k in candidate.columns):
        return None
    parent = catalog.table(candidate.table)
    if parent is None:
        return None
    targets = [catalog.table(t) for t in parent.partitions] if parent.kind == "p" else [parent]
    total = 0
    for table in targets:
        if table is None:
            return None
        rows = max(table.rows, 0.0) * fraction
        keys, include, distinct = [], [], 1.0
        for name in (*candidate.columns, *candidate.include):
            column = table.column(name)
            if column is None or column.stats is None:
                return None
            entry = (column.type, column.stats.avg_width)
            if name in candidate.columns:
                keys.append(entry)
                distinct *= _distinct(column.stats, table.rows)
            else:
                include.append(entry)
        total += built_btree_size(rows, keys, include, expected_distinct(distinct, rows))
    return math.ceil(total * SIZE_MARGIN)
