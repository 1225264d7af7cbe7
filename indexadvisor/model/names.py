"""Names as PostgreSQL spells them: relations, identifiers, index keys.

>>> t = TableName("public", "Order Lines")
>>> str(t)
'public."Order Lines"'
>>> TableName.parse('public."Order Lines"') == t
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .keywords import QUOTED_KEYWORDS

_SIMPLE = re.compile(r"[a-z_][a-z0-9_]*")


def quote_ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL needs it (only when needed).

    >>> quote_ident("orders"), quote_ident("Orders"), quote_ident("select"), quote_ident('a"b')
    ('orders', '"Orders"', '"select"', '"a""b"')
    """
    if _SIMPLE.fullmatch(name) and name not in QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def split_qualified(text: str) -> tuple[str, ...]:
    """The parts of a dotted name as `quote_ident` writes them, unquoted.

    >>> split_qualified('public."Order ""Lines"" x"'), split_qualified("s.t")
    (('public', 'Order "Lines" x'), ('s', 't'))
    """
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == '"' and text[i + 1:i + 2] == '"':
                current.append('"')
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return tuple(parts)


@dataclass(frozen=True, order=True)
class TableName:
    """A schema-qualified relation name, stored unquoted (as pg_catalog spells it)."""

    schema: str
    name: str

    def __post_init__(self) -> None:
        # hashed and compared millions of times (in every (table, key) a search looks up)
        object.__setattr__(self, "_hash", hash((self.schema, self.name)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple[type[TableName], tuple[str, str]]:
        # rebuilt, not restored: a hash of strings differs between processes
        return (TableName, (self.schema, self.name))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, TableName):
            return NotImplemented
        return (self._hash == other._hash  # type: ignore[attr-defined]
                and self.schema == other.schema and self.name == other.name)

    def __str__(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"

    @classmethod
    def parse(cls, text: str) -> TableName:
        """The name `str()` wrote, read back (a report loaded from JSON)."""
        parts = split_qualified(text)
        if len(parts) != 2:
            raise ValueError(f"not a schema-qualified name: {text!r}")
        return cls(parts[0], parts[1])


# Index keys. A key "column" (ColumnUse.column, Candidate.columns, catalog Index.columns) is
# either a plain column name, stored unquoted as pg_catalog spells it, or an expression: its
# canonical SQL text (pglast's deparse, qualifiers stripped; see indexadvisor.sql.expressions)
# wrapped in parentheses, e.g. "(lower(email))". The parentheses tell them apart; a column
# whose own name starts with "(" and ends with ")" would be mistaken for an expression.


def is_expression(key: str) -> bool:
    """True when an index key is an expression rather than a plain column.

    >>> is_expression("(lower(email))"), is_expression("email")
    (True, False)
    """
    return key.startswith("(") and key.endswith(")")


def key_sql(key: str) -> str:
    """An index key as SQL: a column quoted where needed, an expression as it is.

    >>> key_sql("Order Id"), key_sql("(CAST(created_at AS date))")
    ('"Order Id"', '(CAST(created_at AS date))')
    """
    return key if is_expression(key) else quote_ident(key)


def short(text: str, width: int = 70) -> str:
    """A statement on one line, cut to `width` characters with an ellipsis.

    >>> short("SELECT *\\n  FROM orders", 12)
    'SELECT * FR…'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
