"""Predicates only a GIN index serves, found with a small pglast pass (the sqlglot analyzer
does not record these operators): jsonb ``@>``/``?``/``?|``/``?&``, array ``@>``/``<@``/``&&``,
unanchored ``LIKE``/ILIKE/regex (trigrams), full-text ``@@``. Columns are resolved to base tables
the way `analyze.predicates` does.

>>> from indexadvisor.model import TableName
>>> s = SchemaMap({TableName("public", "docs"): {"body": "jsonb", "tags": "text[]"}})
>>> [(u.column, u.operator, u.family) for u in gin_uses(
...     "SELECT 1 FROM docs d WHERE d.body @> '{\\"a\\": 1}' AND tags && $1", s)]
[('body', '@>', 'jsonb'), ('tags', '&&', 'array')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind

from ..model import Query, TableName
from ..sql.expressions import NotAnExpression, canonical_expression
from ..sql.walk import walk
from .predicates import column_of, where_scope
from .schema import SchemaMap
from .views import expand_views

_JSONB_OPS = frozenset({"@>", "<@", "?", "?|", "?&"})
_ARRAY_OPS = frozenset({"@>", "<@", "&&"})
_TEXT_OPS = frozenset({"~~", "~~*", "~", "~*"})
_TEXT_TYPES = ("text", "character varying", "character", "varchar", "citext")
_SYMMETRIC = frozenset({"&&", "@@"})
_FLIPPED = {"<@": "@>", "@>": "<@"}
MAX_SAMPLES = 20  # samples of a query read for patterns
# every operator above is spelt with one of these (LIKE is ~~, SIMILAR TO a regex)
_MAYBE_GIN = re.compile(r"[@?~]|&&|\b(?:i?like|similar)\b", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class GinUse:
    """One predicate only a GIN index serves: `column` (a key, maybe an expression) of
    `table` under `operator`; `family` is jsonb, array, trgm or tsvector."""

    table: TableName
    column: str
    operator: str
    family: str


def gin_uses(text: str, schema: SchemaMap,
             params: Sequence[str | None] = ()) -> tuple[GinUse, ...]:
    """Every predicate of a statement a GIN index could serve (empty if pglast cannot parse
    it). `params` are captured bind values: a ``LIKE $1`` counts when its value is unanchored.
    """
    text, _ = expand_views(text, schema)  # a view's own filters, in its place
    if not _MAYBE_GIN.search(text):
        return ()  # no operator a GIN serves: not worth a parse (thousands of lookups)
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return ()
    found: set[GinUse] = set()
    for raw in statements:
        for node in walk(raw.stmt) if raw.stmt is not None else ():
            found.update(_statement_uses(node, schema, params))
    return tuple(sorted(found))


def query_gin_uses(query: Query, schema: SchemaMap) -> tuple[GinUse, ...]:
    """The GIN uses of a query: of its text and of each captured sample (a sample's literal
    or bind value may be an unanchored pattern where the grouped text shows ``$1``)."""
    found = set(gin_uses(query.text, schema))
    for sample in query.samples[:MAX_SAMPLES]:
        found.update(gin_uses(sample.text, schema, sample.params))
    return tuple(sorted(found))


def _statement_uses(node: ast.Node, schema: SchemaMap,
                    params: Sequence[str | None]) -> Iterator[GinUse]:
    scope = where_scope(node, schema)
    if scope is None:
        return
    where, tables = scope
    for term in walk(where, prune=ast.SubLink):
        if isinstance(term, ast.A_Expr):
            use = _gin_use(term, tables, schema, params)
            if use is not None:
                yield use


def _gin_use(term: ast.A_Expr, tables: Mapping[str, TableName], schema: SchemaMap,
             params: Sequence[str | None]) -> GinUse | None:
    names = [n.sval for n in term.name or () if isinstance(n, ast.String)]
    if len(names) != 1 or term.kind not in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_LIKE,
                                            A_Expr_Kind.AEXPR_ILIKE):
        return None
    op = names[0] or ""
    left: Any = term.lexpr
    right: Any = term.rexpr
    target = column_of(left, tables, schema)
    other = right
    if target is None and op in _SYMMETRIC | set(_FLIPPED):
        target = column_of(right, tables, schema)
        op = _FLIPPED.get(op, op)
        other = left
    if target is None:
        return _fulltext(term, op, tables, schema)
    table, column = target
    kind = schema.columns(table).get(column, "")
    if kind == "jsonb" and op in _JSONB_OPS:
        return GinUse(table, column, op, "jsonb")
    if kind.endswith("[]") and op in _ARRAY_OPS:
        return GinUse(table, column, op, "array")
    if kind == "tsvector" and op == "@@":
        return GinUse(table, column, op, "tsvector")
    if kind.startswith(_TEXT_TYPES) and op in _TEXT_OPS and _unanchored(op, other, params):
        return GinUse(table, column, op, "trgm")
    return None


def _fulltext(term: ast.A_Expr, op: str, tables: Mapping[str, TableName],
              schema: SchemaMap) -> GinUse | None:
    """``to_tsvector('config', col) @@ query``: a GIN on that (IMMUTABLE) expression. The
    one-argument form depends on default_text_search_config, so it cannot be indexed."""
    if op != "@@":
        return None
    for side in (term.lexpr, term.rexpr):
        if not (isinstance(side, ast.FuncCall) and len(side.args or ()) == 2
                and [n.sval for n in side.funcname or () if isinstance(n, ast.String)][-1:]
                == ["to_tsvector"]):
            continue
        refs = {column_of(n, tables, schema) for n in walk(side) if isinstance(n, ast.ColumnRef)}
        if len(refs) != 1 or None in refs:
            return None
        target = next(iter(refs))
        assert target is not None
        try:
            key = canonical_expression(pglast.stream.RawStream()(side),
                                       schema.columns(target[0]))
        except NotAnExpression:
            return None
        return GinUse(target[0], key, "@@", "tsvector")
    return None


def _unanchored(op: str, pattern: object, params: Sequence[str | None]) -> bool:
    """A pattern a btree cannot serve but trigrams can: a LIKE starting with a wildcard, any
    ILIKE or regex; with at least one run of 3 plain characters (a trigram to look up)."""
    text: str | None = None
    if isinstance(pattern, ast.TypeCast):
        pattern = pattern.arg
    if isinstance(pattern, ast.A_Const) and isinstance(pattern.val, ast.String):
        text = pattern.val.sval
    elif isinstance(pattern, ast.ParamRef) and 0 < (pattern.number or 0) <= len(params):
        text = params[(pattern.number or 0) - 1]
    if text is None:
        return False
    if op in ("~", "~*"):
        return True
    if op == "~~" and not text.startswith(("%", "_")):
        return False
    runs = "".join(c if c not in "%_" else " " for c in text).split()
    return any(len(run) >= 3 for run in runs)
