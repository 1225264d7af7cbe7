"""Simple filters with a constant, the raw material of partial indexes.

A partial index pays when a query filters on the same constant every time it runs
(``status = 'pending'``, ``deleted_at IS NULL``) and few rows pass. This pass finds those
filters: the top-level AND terms of a WHERE clause (of every SELECT, UPDATE and DELETE in the
statement, subqueries included) that compare one base-table column with a constant or a
parameter, test it for NULL, or read a boolean column. Anything else (OR, functions, joins,
outer references, ambiguous columns, CTE names) is left alone: a partial index predicate must be
something the planner can prove from the query's own WHERE clause, and these are the forms it
proves from an identical clause.

The predicate text is canonical (expressions.canonical_expression): the same filter written
``o.status = 'pending'`` or read back from an existing index's ``pg_get_expr`` gives one string.

>>> from indexadvisor.model import TableName
>>> s = SchemaMap({TableName("public", "orders"): {"id": "integer", "status": "text"}})
>>> [(p.column, p.op, p.sql) for p in filter_predicates(
...     "SELECT id FROM orders o WHERE o.status = 'pending' AND id > 5", s)]
[('status', '=', "(status = 'pending')")]
>>> [(p.sql, p.param) for p in filter_predicates("DELETE FROM orders WHERE status = $1", s)]
[('(status = $1)', 1)]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType
from pglast.stream import RawStream

from indexadvisor.analyze.schema import SchemaMap
from indexadvisor.analyze.views import expand_views
from indexadvisor.model import TableName, quote_ident
from indexadvisor.sql.expressions import NotAnExpression, canonical_expression
from indexadvisor.sql.walk import walk

OPS = frozenset({"=", "<>", "!="})


@dataclass(frozen=True, order=True)
class Predicate:
    """One filter term: `column op constant(s)`, a NULL test or a boolean column.

    `op` is one of ``=``, ``<>``, ``in``, ``is_null``, ``is_not_null``, ``true``, ``false``;
    `values` the constants as text (for pg_stats); `param` the ``$n`` it compares with, if any
    (then `sql` holds ``$n`` until `bind` puts a captured value in).
    """

    table: TableName
    column: str
    op: str
    sql: str
    values: tuple[str, ...] = ()
    param: int | None = None

    def bind(self, params: Sequence[str | None]) -> Predicate | None:
        """The predicate with its parameter replaced by a captured value (None if NULL/absent).

        >>> p = Predicate(TableName("public", "t"), "tier", "=", "(tier = $1)", (), 1)
        >>> p.bind(["gold"]).sql
        "(tier = 'gold')"
        """
        if self.param is None:
            return self
        if self.param > len(params) or params[self.param - 1] is None:
            return None
        value = params[self.param - 1]
        assert value is not None
        text = _literal(value)
        sql = canonical_expression(f"{quote_ident(self.column)} {self._sql_op()} {text}")
        return Predicate(self.table, self.column, self.op, sql, (value,), None)

    def _sql_op(self) -> str:
        return "<>" if self.op == "!=" else self.op


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def filter_predicates(text: str, schema: SchemaMap) -> tuple[Predicate, ...]:
    """Every simple constant filter of a statement (empty when pglast cannot parse it)."""
    text, _ = expand_views(text, schema)  # a view's own filters, in its place
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return ()
    found: set[Predicate] = set()
    for raw in statements:
        if raw.stmt is None:
            continue
        for node in walk(raw.stmt):
            found.update(_statement_filters(node, schema))
    return tuple(sorted(found))


def where_scope(node: ast.Node,
                schema: SchemaMap) -> tuple[ast.Node, dict[str, TableName]] | None:
    """The WHERE clause of a SELECT, UPDATE or DELETE node, with its FROM list's plain tables
    by name or alias (None for other nodes, or without a WHERE)."""
    if isinstance(node, ast.SelectStmt):
        where, sources = node.whereClause, list(node.fromClause or ())
    elif isinstance(node, ast.UpdateStmt):
        where, sources = node.whereClause, [node.relation, *(node.fromClause or ())]
    elif isinstance(node, ast.DeleteStmt):
        where, sources = node.whereClause, [node.relation, *(node.usingClause or ())]
    else:
        return None
    if where is None:
        return None
    return where, from_tables(sources, schema, cte_names(node))


def _statement_filters(node: ast.Node, schema: SchemaMap) -> Iterator[Predicate]:
    scope = where_scope(node, schema)
    if scope is None:
        return
    where, tables = scope
    for term in _conjuncts(where):
        predicate = _predicate(term, tables, schema)
        if predicate is not None:
            yield predicate


def cte_names(node: ast.Node) -> frozenset[str]:
    """The names of the CTEs a statement's WITH clause defines."""
    clause = getattr(node, "withClause", None)
    if clause is None:
        return frozenset()
    return frozenset(cte.ctename or "" for cte in clause.ctes or ()
                     if isinstance(cte, ast.CommonTableExpr))


def from_tables(sources: Sequence[ast.Node | None], schema: SchemaMap,
               ctes: frozenset[str]) -> dict[str, TableName]:
    """Name or alias -> base table, for the plain tables of a FROM list (joins included)."""
    out: dict[str, TableName] = {}
    stack = list(sources)
    while stack:
        item = stack.pop()
        if isinstance(item, ast.JoinExpr):
            stack += [item.larg, item.rarg]
        elif isinstance(item, ast.RangeVar):
            name = item.relname or ""
            if item.schemaname is None and name in ctes:
                continue
            table = schema.lookup(item.schemaname, name)
            if table is not None:
                out[(item.alias.aliasname if item.alias else None) or name] = table
    return out


def _conjuncts(node: ast.Node) -> Iterator[ast.Node]:
    if isinstance(node, ast.BoolExpr) and node.boolop == BoolExprType.AND_EXPR:
        for arg in node.args or ():
            yield from _conjuncts(arg)
    else:
        yield node


def column_of(node: ast.Node | None, tables: Mapping[str, TableName],
              schema: SchemaMap) -> tuple[TableName, str] | None:
    """The base column a reference names, when it is unambiguous in this FROM list."""
    if not isinstance(node, ast.ColumnRef) or not all(isinstance(f, ast.String)
                                                      for f in node.fields or ()):
        return None
    names = [f.sval for f in node.fields or ()]
    if len(names) == 2:
        table = tables.get(names[0])
        if table is None or names[1] not in schema.columns(table):
            return None
        return table, names[1]
    if len(names) == 1:
        owners = [t for t in set(tables.values()) if names[0] in schema.columns(t)]
        return (owners[0], names[0]) if len(owners) == 1 else None
    return None


def _constant(node: ast.Node | None) -> tuple[str, str | None, int | None] | None:
    """(SQL text, value as text, parameter number) of a constant or a parameter."""
    if isinstance(node, ast.TypeCast):
        inner = _constant(node.arg)
        if inner is None:
            return None
        return RawStream()(node), inner[1], inner[2]
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None
        value = node.val
        if isinstance(value, ast.String):
            return RawStream()(node), value.sval, None
        if isinstance(value, ast.Integer):
            return RawStream()(node), str(value.ival), None
        if isinstance(value, ast.Float):
            return RawStream()(node), value.fval, None
        if isinstance(value, ast.Boolean):
            return RawStream()(node), "true" if value.boolval else "false", None
        return None
    if isinstance(node, ast.ParamRef):
        return f"${node.number}", None, node.number
    return None


def _predicate(term: ast.Node, tables: Mapping[str, TableName],
               schema: SchemaMap) -> Predicate | None:
    if isinstance(term, ast.NullTest):
        target = column_of(term.arg, tables, schema)
        if target is None:
            return None
        is_null = term.nulltesttype == NullTestType.IS_NULL
        words = "IS NULL" if is_null else "IS NOT NULL"
        return _make(target, "is_null" if is_null else "is_not_null", words, "", (), None)
    if isinstance(term, ast.ColumnRef):
        target = column_of(term, tables, schema)
        return None if target is None else _make(target, "true", "", "", (), None)
    args = term.args if isinstance(term, ast.BoolExpr) else None
    if (isinstance(term, ast.BoolExpr) and term.boolop == BoolExprType.NOT_EXPR and args
            and isinstance(args[0], ast.ColumnRef)):
        target = column_of(args[0], tables, schema)
        return None if target is None else _make(target, "false", "", "", (), None, negate=True)
    if not isinstance(term, ast.A_Expr):
        return None
    names = [n.sval for n in term.name or () if isinstance(n, ast.String)]
    if term.kind == A_Expr_Kind.AEXPR_OP and len(names) == 1:
        op = names[0]
        if op not in OPS:
            return None
        left: Any = term.lexpr
        right: Any = term.rexpr
        if column_of(left, tables, schema) is None:
            left, right = right, left
        target = column_of(left, tables, schema)
        constant = _constant(right)
        if target is None or constant is None:
            return None
        text, value, param = constant
        op = "<>" if op == "!=" else op
        return _make(target, op, op, text, (value,) if value is not None else (), param)
    if term.kind == A_Expr_Kind.AEXPR_IN and names == ["="]:
        target = column_of(term.lexpr, tables, schema)
        rexpr: Any = term.rexpr
        items = [_constant(item) for item in rexpr] if isinstance(rexpr, tuple | list) else []
        if target is None or not items or any(i is None or i[2] is not None for i in items):
            return None
        texts = ", ".join(i[0] for i in items if i is not None)
        values = tuple(i[1] for i in items if i is not None and i[1] is not None)
        return _make(target, "in", "IN", f"({texts})", values, None)
    return None


def _make(target: tuple[TableName, str], op: str, words: str, operand: str,
          values: tuple[str, ...], param: int | None, *, negate: bool = False) -> Predicate | None:
    table, column = target
    text = f"{'NOT ' if negate else ''}{quote_ident(column)} {words} {operand}".strip()
    try:
        sql = canonical_expression(text) if param is None else f"({text})"
    except NotAnExpression:
        return None
    return Predicate(table, column, op, sql, values, param)
