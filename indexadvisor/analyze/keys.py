"""Expression keys for the analyzer: from a sqlglot expression back to PostgreSQL's own tree.

sqlglot resolves columns and decides how an expression is used, but its SQL output is not
PostgreSQL's (``date_trunc('day', ts)`` comes back as ``DATE_TRUNC('DAY', ts)``, a different
constant to the planner). So the key is taken from pglast's parse of the original text: every
sqlglot column remembers where it started in the text (`mark_positions`), pglast knows the
expression around the column reference at that position (`operand_roots`), and the two must
agree on exactly which column references the expression holds, or there is no key.

>>> import sqlglot
>>> from sqlglot import exp
>>> text = "SELECT 1 FROM users u WHERE LOWER( u.email ) = $1"
>>> tree = sqlglot.parse_one(text, dialect="postgres")
>>> mark_positions(tree)
>>> column = tree.find(exp.Column)
>>> ExpressionKeys(text).key(column.parent, {column.meta[START]: "email"}, {})
'(lower(email))'
"""

from __future__ import annotations

from collections.abc import Mapping

import pglast
from pglast import ast
from sqlglot import exp

from indexadvisor.sql.expressions import canonical_key, column_locations, operand_roots

START = "indexadvisor_start"  # sqlglot Column meta: character offset of the reference


def mark_positions(tree: exp.Expr) -> None:
    """Record in each column node where its reference starts in the text (its first part)."""
    for column in tree.find_all(exp.Column):
        parts = column.parts
        start = parts[0].meta.get("start") if parts else None
        if isinstance(start, int):
            column.meta[START] = start


class ExpressionKeys:
    """The canonical keys of the expressions one statement text wraps its columns in."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._roots: dict[int, ast.Node] | None = None

    def _operand_roots(self) -> dict[int, ast.Node]:
        if self._roots is None:
            try:
                self._roots = operand_roots(self.text)
            except pglast.parser.ParseError:
                self._roots = {}
        return self._roots

    def key(self, expression: exp.Expr, names: Mapping[int, str],
            column_types: Mapping[str, str]) -> str | None:
        """The key of `expression` (a sqlglot node whose columns were marked), or None when
        pglast sees a different expression there. `names`: position -> base column name."""
        positions = set()
        for column in expression.find_all(exp.Column):
            start = column.meta.get(START)
            if not isinstance(start, int):
                return None
            positions.add(start)
        if not positions:
            return None
        root = self._operand_roots().get(min(positions))
        if root is None or isinstance(root, ast.ColumnRef):
            return None
        if column_locations(root) != positions:
            return None
        return canonical_key(root, names, column_types)
