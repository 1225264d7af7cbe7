"""How a query uses the columns of its tables: the analyzer's output, the candidates' input."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .names import TableName


class UseKind(StrEnum):
    """How a query uses a column; decides where the column goes in a composite index."""

    EQ = "eq"
    IN = "in"
    RANGE = "range"
    LIKE_PREFIX = "like_prefix"
    IS_NULL = "is_null"
    JOIN = "join"
    ORDER = "order"
    GROUP = "group"
    PROJECT = "project"


#: Uses a btree can lead with: an index on such a key can change the query's plan.
EQUALITY = frozenset({UseKind.EQ, UseKind.IN, UseKind.IS_NULL, UseKind.JOIN})
RANGE = frozenset({UseKind.RANGE, UseKind.LIKE_PREFIX})
SORT = frozenset({UseKind.ORDER, UseKind.GROUP})
LEADING = EQUALITY | RANGE | SORT


@dataclass(frozen=True, order=True)
class ColumnUse:
    """One column (or expression) of one base table used by a query in one way.

    `column` is an index key: a plain column name, or the canonical text of an expression
    over columns of this one table in parentheses, e.g. ``"(lower(email))"`` for
    ``WHERE lower(u.email) = $1`` (see `names.is_expression`).
    """

    table: TableName
    column: str
    kind: UseKind
    # ORDER BY and GROUP BY (and DISTINCT) items: where in the clause the key stands (0 first),
    # and for ORDER BY its sort order as an index key spells it (candidate.KEY_ORDERS: "" is
    # ASC NULLS LAST, "DESC" is DESC NULLS FIRST, ...). Other uses leave both at their defaults.
    position: int = 0
    direction: str = ""
