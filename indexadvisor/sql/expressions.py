"""Expression index keys: one canonical SQL text per expression, whoever wrote it.

An index key that is not a plain column (``lower(email)``, ``CAST(created_at AS date)``,
``payload ->> 'kind'``) travels through the pipeline as a string: the expression as pglast's
RawStream deparses it, wrapped in parentheses (see `model.is_expression`). Canonical means

- column references lose their table qualifier and carry the base column's own name
  (``lower(u.email)`` and ``LOWER( email )`` are one key);
- a ``::text`` cast that PostgreSQL adds on its own is dropped: on a string literal
  (``'day'::text``) and on a character-typed column (``(email)::text`` of a varchar), so the
  text ``pg_get_indexdef`` prints for an existing index and the text a query wrote agree;
- single-name type aliases take pglast's system spelling (``int4`` -> ``integer``).

The same function serves the analyzer (expressions in queries) and the catalog (existing
expression indexes), so equal strings mean the same index key.

>>> canonical_expression("LOWER( u.email )")
'(lower(email))'
>>> canonical_expression("date_trunc('day'::text, ts)")
"(date_trunc('day', ts))"
>>> canonical_expression("lower((email)::text)", {"email": "character varying(100)"})
'(lower(email))'
>>> canonical_expression("(payload ->> 'kind'::text)")
"(payload ->> 'kind')"
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import lru_cache

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind
from pglast.printers.dml import system_types
from pglast.stream import RawStream

from ..model.names import is_expression
from .walk import children, walk

# Operators that build a value from their operands (as opposed to comparing them).
_VALUE_OPERATORS = frozenset({"+", "-", "*", "/", "%", "^", "||", "->", "->>", "#>", "#>>", "#-"})
# Nodes that compute a value from their children, so a column inside them is part of an
# expression rather than the operand of a predicate or a clause.
_VALUE_NODES = (ast.TypeCast, ast.CoalesceExpr, ast.MinMaxExpr, ast.CollateClause,
                ast.A_Indirection, ast.CaseExpr, ast.CaseWhen, ast.A_ArrayExpr)
_SYSTEM_TYPES = frozenset(name.split(".")[1] for name in system_types)
_CHARACTER_TYPES = ("character", "text", "varchar", "bpchar")


class NotAnExpression(ValueError):
    """Text that is not exactly one scalar expression pglast can parse."""


def canonical_expression(text: str, column_types: Mapping[str, str] | None = None) -> str:
    """The canonical key of an expression written as SQL text (idempotent).

    `column_types` (column -> type as format_type spells it) lets implicit ``::text`` casts
    on character columns be dropped. Raises NotAnExpression for anything but one expression.

    >>> canonical_expression("(lower(email))") == canonical_expression("lower(email)")
    True
    >>> canonical_expression("1; DROP TABLE t")
    Traceback (most recent call last):
    ...
    indexadvisor.sql.expressions.NotAnExpression: not one expression: '1; DROP TABLE t'
    """
    return _canonical_text(text, tuple(sorted((column_types or {}).items())))


@lru_cache(maxsize=4096)
def _canonical_text(text: str, types: tuple[tuple[str, str], ...]) -> str:
    try:
        statements = pglast.parse_sql(f"SELECT ({text})")
    except pglast.parser.ParseError:
        raise NotAnExpression(f"not one expression: {text!r}") from None
    stmt = statements[0].stmt if len(statements) == 1 else None
    if (not isinstance(stmt, ast.SelectStmt) or stmt.fromClause or stmt.whereClause
            or not stmt.targetList or len(stmt.targetList) != 1):
        raise NotAnExpression(f"not one expression: {text!r}")
    node = stmt.targetList[0].val
    if any(isinstance(n, ast.SubLink | ast.A_Star | ast.ParamRef) for n in walk(node)):
        raise NotAnExpression(f"not an index expression: {text!r}")
    return canonical_key(node, column_types=dict(types))


def canonical_key(node: ast.Node, names: Mapping[int, str] | None = None,
                  column_types: Mapping[str, str] | None = None) -> str:
    """The canonical key of a parsed expression; `node` itself is left untouched.

    `names` maps a column reference's location to the base column it stands for (a query
    may name it through an alias or a derived table); other references keep their last name.

    >>> node = pglast.parse_sql("SELECT upper(o.Code) FROM t o")[0].stmt.targetList[0].val
    >>> canonical_key(node), canonical_key(node, {node.args[0].location: "Code"})
    ('(upper(code))', '(upper("Code"))')
    """
    clean = _normalize(copy.deepcopy(node), names or {}, column_types or {})
    return f"({RawStream()(clean)})"


def key_columns(key: str) -> tuple[str, ...]:
    """The table columns an index key reads (several for an expression like ``(a + b)``).

    >>> key_columns("email"), key_columns("(lower(email))")
    (('email',), ('email',))
    """
    return key_column_names(key) if is_expression(key) else (key,)


def key_column_names(key: str) -> tuple[str, ...]:
    """The columns a canonical expression key reads, in order of first appearance.

    >>> key_column_names("(COALESCE(updated_at, created_at))")
    ('updated_at', 'created_at')
    """
    statements = pglast.parse_sql(f"SELECT {key}")
    stmt = statements[0].stmt
    assert isinstance(stmt, ast.SelectStmt) and stmt.targetList
    seen: dict[str, None] = {}
    for found in walk(stmt.targetList[0].val):
        name = _last_name(found) if isinstance(found, ast.ColumnRef) else None
        if name is not None:
            seen.setdefault(name, None)
    return tuple(seen)


def _last_name(ref: ast.ColumnRef) -> str | None:
    """The column name of a reference (its last field), None for ``t.*``."""
    last = ref.fields[-1] if ref.fields else None
    return last.sval if isinstance(last, ast.String) else None


def operand_roots(text: str) -> dict[int, ast.Node]:
    """For every column reference of a statement, by location: the largest expression around
    it that only computes a value (functions, casts, arithmetic, ``->>``), stopping at
    predicates, boolean connectives and clauses. A bare column maps to itself.

    >>> roots = operand_roots("SELECT 1 FROM t WHERE lower(t.a) = 'x' AND b > 1")
    >>> sorted((loc, type(node).__name__) for loc, node in roots.items())
    [(28, 'FuncCall'), (43, 'ColumnRef')]
    """
    out: dict[int, ast.Node] = {}
    for statement in pglast.parse_sql(text):
        if statement.stmt is not None:
            _roots(statement.stmt, None, out)
    return out


def column_locations(node: ast.Node) -> frozenset[int]:
    """Locations of the column references inside an expression."""
    return frozenset(n.location for n in walk(node)
                     if isinstance(n, ast.ColumnRef) and n.location is not None)


def _roots(node: ast.Node, root: ast.Node | None, out: dict[int, ast.Node]) -> None:
    if isinstance(node, ast.ColumnRef):
        if node.location is not None:
            out[node.location] = root if root is not None else node
        return
    inner = (root or node) if _builds_value(node) else None
    for child in children(node):
        _roots(child, inner, out)


def _builds_value(node: ast.Node) -> bool:
    if isinstance(node, _VALUE_NODES):
        return True
    if isinstance(node, ast.FuncCall):
        return node.over is None and not (node.agg_star or node.agg_distinct
                                          or node.agg_order or node.agg_filter)
    if isinstance(node, ast.A_Expr):
        if node.kind == A_Expr_Kind.AEXPR_NULLIF:
            return True
        names = node.name or ()
        return (node.kind == A_Expr_Kind.AEXPR_OP and bool(names)
                and isinstance(names[-1], ast.String) and names[-1].sval in _VALUE_OPERATORS)
    return False



def _is_text(type_name: ast.TypeName) -> bool:
    names = tuple(n.sval for n in type_name.names or () if isinstance(n, ast.String))
    return (names in (("text",), ("pg_catalog", "text")) and not type_name.typmods
            and not type_name.arrayBounds and not type_name.setof)


def _normalize(node: ast.Node, names: Mapping[int, str], types: Mapping[str, str]) -> ast.Node:
    """Rewrite a (copied) expression tree into its canonical form, bottom-up."""
    for slot in getattr(type(node), "__slots__", ()):
        value = getattr(node, slot, None)
        if isinstance(value, ast.Node):
            setattr(node, slot, _normalize(value, names, types))
        elif isinstance(value, tuple) and any(isinstance(v, ast.Node) for v in value):
            setattr(node, slot, tuple(_normalize(v, names, types) if isinstance(v, ast.Node)
                                      else v for v in value))
    if isinstance(node, ast.ColumnRef):
        name = names.get(node.location) if node.location is not None else None
        name = name if name is not None else _last_name(node)
        if name is not None:
            node.fields = (ast.String(sval=name),)
        return node
    if isinstance(node, ast.TypeName):
        parts = node.names or ()
        if len(parts) == 1 and isinstance(parts[0], ast.String) and \
                parts[0].sval in _SYSTEM_TYPES:
            node.names = (ast.String(sval="pg_catalog"), parts[0])
        return node
    if isinstance(node, ast.TypeCast) and node.typeName is not None and _is_text(node.typeName):
        arg = node.arg
        if isinstance(arg, ast.A_Const) and isinstance(arg.val, ast.String):
            return arg
        if isinstance(arg, ast.ColumnRef):
            column = _last_name(arg)
            if column is not None and types.get(column, "").startswith(_CHARACTER_TYPES):
                return arg
    return node
