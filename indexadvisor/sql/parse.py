"""The pglast gate: one statement in, its kind, fingerprint and relations out.

Everything downstream may assume that the text is exactly one statement PostgreSQL's own
grammar (libpg_query) accepts. The relations are read from the parse tree's ``RangeVar`` nodes,
so two statements that pglast fingerprints alike (``FROM orders o`` / ``FROM invoices o``) are
still told apart by their relation set.

>>> parse_statement("SELECT * FROM orders o WHERE o.id = $1").relations
('orders',)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from pglast import ast, fingerprint, parse_sql
from pglast.parser import ParseError

from ..model.errors import WorkloadError
from ..model.names import quote_ident
from .walk import children, walk

_N = TypeVar("_N", bound=ast.Node)

_KINDS: dict[type[ast.Node], str] = {
    ast.SelectStmt: "select",
    ast.InsertStmt: "insert",
    ast.UpdateStmt: "update",
    ast.DeleteStmt: "delete",
    ast.MergeStmt: "merge",
}


class StatementError(WorkloadError):
    """A statement PostgreSQL's grammar rejects, with where it failed.

    ``position`` is a 0-based character offset into the text (``len(text)`` when the error is
    at the end of the input); ``line`` and ``column`` are 1-based.

    >>> e = StatementError("syntax error", 9, text="SELECT 1\\nFROM")
    >>> e.position, e.line, e.column
    (9, 2, 1)
    """

    def __init__(self, message: str, position: int, *, text: str = "") -> None:
        before = text[:position]
        self.position = position
        self.line = before.count("\n") + 1
        self.column = position - (before.rfind("\n") + 1) + 1
        where = f" (line {self.line}, column {self.column})" if text else ""
        super().__init__(f"{message}{where}")
        self.reason = message


@dataclass(frozen=True)
class ParsedStatement:
    """What the gate knows about one statement without any catalog."""

    text: str
    kind: str  # select / insert / update / delete / merge / utility
    fingerprint: str
    relations: tuple[str, ...]  # sorted, as written, folded: 'public.orders', '"OrderLines"'
    param_count: int  # highest $n, 0 when there are none


@lru_cache(maxsize=16384)  # a value: grouping, analysis and costing each ask for it
def parse_statement(text: str) -> ParsedStatement:
    """Parse exactly one statement with libpg_query, or raise StatementError.

    >>> p = parse_statement('SELECT 1 FROM Sales."Order Lines" l, public.orders WHERE l.id = $2')
    >>> p.kind, p.relations, p.param_count
    ('select', ('public.orders', 'sales."Order Lines"'), 2)
    >>> parse_statement("SELECT * FROM WHERE")
    Traceback (most recent call last):
    ...
    indexadvisor.sql.parse.StatementError: syntax error at or near "WHERE" (line 1, column 15)
    """
    try:
        tree = parse_sql(text)
    except ParseError as error:
        message, index = error.args[0], error.args[1] if len(error.args) > 1 else None
        position = len(text) if index is None else int(index)
        raise StatementError(str(message), position, text=text) from None
    if not tree:
        raise StatementError("no statement in the text", 0, text=text)
    if len(tree) > 1:
        second = tree[1].stmt_location or 0
        raise StatementError(
            f"expected one statement, found {len(tree)}", second, text=text
        )
    stmt = tree[0].stmt
    assert isinstance(stmt, ast.Node)
    return ParsedStatement(
        text=text,
        kind=_KINDS.get(type(stmt), "utility"),
        fingerprint=fingerprint(text),
        relations=tuple(sorted(set(_relations(stmt, frozenset())))),
        param_count=max((p.number or 0 for p in _nodes(stmt, ast.ParamRef)), default=0),
    )


def statement_relations(text: str) -> tuple[str, ...]:
    """The relations a statement reads or writes: the second half of the grouping key.

    >>> statement_relations("SELECT * FROM orders o WHERE o.id = 1")
    ('orders',)
    >>> statement_relations("WITH orders AS (SELECT 1 AS id) SELECT * FROM orders, invoices")
    ('invoices',)
    """
    return parse_statement(text).relations


def _nodes(node: ast.Node, kind: type[_N]) -> Iterator[_N]:
    return (n for n in walk(node) if isinstance(n, kind))


def _relations(node: ast.Node, ctes: frozenset[str]) -> Iterator[str]:
    """RangeVar names, skipping the names of CTEs visible where they are read."""
    if isinstance(node, ast.RangeVar):
        if node.schemaname is None and node.relname in ctes:
            return
        parts = (node.catalogname, node.schemaname, node.relname)
        yield ".".join(quote_ident(p) for p in parts if p)
        return
    with_clause = getattr(node, "withClause", None)
    if isinstance(with_clause, ast.WithClause):
        names = [cte.ctename for cte in with_clause.ctes or ()]
        for i, cte in enumerate(with_clause.ctes or ()):
            # A recursive WITH sees all its names; a plain one only the earlier siblings.
            visible = names if with_clause.recursive else names[:i]
            yield from _relations(cte.ctequery, ctes | frozenset(visible))
        for child in children(node, skip="withClause"):
            yield from _relations(child, ctes | frozenset(names))
        return
    for child in children(node):
        yield from _relations(child, ctes)
