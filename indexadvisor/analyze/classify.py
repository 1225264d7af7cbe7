"""Classify every column occurrence of a resolved query into ColumnUse kinds.

A predicate on an expression is a use of that expression, not of its columns:
``lower(email) = 'x'`` gives an EQ use of the key ``(lower(email))`` (see model.is_expression)
and none of ``email``, because a btree on email cannot serve it. That holds for predicates,
joins, ORDER BY, GROUP BY and DISTINCT, when the expression reads columns of one table reference
only, plus constants (several columns are fine: ``(a + b) > 5`` gives the key ``(a + b)``, a
legal index expression). An expression with a parameter, a subquery, an aggregate or a window,
or one PostgreSQL's parser reads differently from sqlglot, gives no key and is only noted.
Whether its functions are IMMUTABLE is for the server to say (whatif). Predicates count in WHERE
and JOIN ... ON, under AND and OR; negated ones (``NOT IN``, ``NOT LIKE``, ``<>``) do not,
except IS NOT NULL.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from indexadvisor.analyze.keys import START, ExpressionKeys
from indexadvisor.analyze.resolve import BaseColumn, Ref, Resolver
from indexadvisor.model import TableName, UseKind
from indexadvisor.model.candidate import key_order

SET_PREFIX = "__indexadvisor_set_"  # projections standing for UPDATE SET values, not reads

# A use: the column (or expression key), how it is used, and for ORDER BY / GROUP BY items
# where it stands in its clause and (ORDER BY) its key order (see model.ColumnUse).
Use = tuple[BaseColumn, UseKind, int, str]

_RANGE_OPS = (exp.GT, exp.GTE, exp.LT, exp.LTE)
_GROUPING = (exp.Group, exp.Rollup, exp.Cube, exp.GroupingSets, exp.Tuple)
# Where an expression around a column ends: predicates, connectives and clauses.
_BOUNDARIES = (
    exp.Predicate, exp.Connector, exp.Not, exp.Query, exp.Subquery, exp.Where, exp.Join,
    exp.Having, exp.Qualify, exp.Ordered, exp.Order, exp.Group, exp.Rollup, exp.Cube,
    exp.GroupingSets, exp.Alias, exp.Tuple, exp.Distinct, exp.Window, exp.Any, exp.All,
    exp.Exists, exp.From, exp.Values, exp.Lambda, exp.Limit, exp.Offset,
)
_NOT_INDEXABLE = (exp.Query, exp.Placeholder, exp.Parameter, exp.AggFunc, exp.Window, exp.Star)


def classify(resolver: Resolver,
             keys: ExpressionKeys | None = None) -> tuple[set[Use], set[str]]:
    """Every (base column, kind) pair the query shows, plus notes on what was skipped.

    With `keys` (the statement's text, its columns marked by `keys.mark_positions`), uses of
    expressions come out too, as BaseColumn(table, "(expression key)").

    >>> from indexadvisor.analyze.resolve import qualified
    >>> from indexadvisor.analyze.schema import SchemaMap
    >>> from indexadvisor.model import TableName
    >>> s = SchemaMap({TableName("public", "t"): {"a": "int", "b": "int"}})
    >>> uses, notes = classify(Resolver(qualified("SELECT a FROM t WHERE b > $1", s), s))
    >>> sorted(f"{k} {c.column}" for c, k, _, _ in uses), notes
    (['project a', 'range b'], set())
    >>> uses, _ = classify(Resolver(qualified("SELECT 1 FROM t ORDER BY b DESC, a", s), s))
    >>> sorted((c.column, pos, order) for c, k, pos, order in uses if k == "order")
    [('a', 1, ''), ('b', 0, 'DESC')]
    """
    uses: set[Use] = set()
    notes: set[str] = set()
    seen: set[int] = set()
    for scope in resolver.scopes:
        for node in scope.walk():
            if not isinstance(node, exp.Column) or isinstance(node.this, exp.Star):
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            uses.update(_Occurrence(resolver, scope, node, notes, keys).uses())
    return uses, notes | resolver.notes


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _expression_top(column: exp.Expr) -> exp.Expr:
    """The largest expression around a column that only computes a value (may be itself)."""
    node = column
    while node.parent is not None and not isinstance(node.parent, _BOUNDARIES):
        node = node.parent
    return node


def _polarity(predicate: exp.Expr) -> bool | None:
    """True/False when the predicate filters rows (WHERE, ON) positively/negated, else None."""
    node, negated = predicate, False
    while isinstance(node.parent, (exp.And, exp.Or, exp.Paren, exp.Not)):
        negated ^= isinstance(node.parent, exp.Not)
        node = node.parent
    parent = node.parent
    if isinstance(parent, exp.Where) or (isinstance(parent, exp.Join) and node.arg_key == "on"):
        return not negated
    return None


def _is_prefix_pattern(pattern: exp.Expr) -> bool:
    pattern = _unparen(pattern)
    while isinstance(pattern, exp.Cast):
        pattern = _unparen(pattern.this)
    if isinstance(pattern, exp.Literal):
        return pattern.is_string and pattern.this[:1] not in ("", "%", "_")
    if isinstance(pattern, exp.DPipe | exp.Concat):
        first = pattern.this if isinstance(pattern, exp.DPipe) else pattern.expressions[0]
        return _is_prefix_pattern(first)
    return isinstance(pattern, exp.Parameter | exp.Placeholder)


def _position(row: exp.Tuple, node: exp.Expr) -> int:
    """Index of a node in a row constructor, by identity (equal columns may repeat)."""
    return next(i for i, e in enumerate(row.expressions) if e is node)


def _under_exists(select: exp.Expr) -> bool:
    """The select list of an EXISTS subquery is never read."""
    node = select.parent
    while isinstance(node, exp.Subquery | exp.Paren):
        node = node.parent
    return isinstance(node, exp.Exists)


class _Occurrence:
    """One column node in one scope, and the uses its surroundings give it."""

    def __init__(self, resolver: Resolver, scope: Scope, column: exp.Column, notes: set[str],
                 keys: ExpressionKeys | None = None):
        self.resolver, self.scope, self.column, self.notes = resolver, scope, column, notes
        self.keys = keys
        self.ref = resolver.ref(column, scope)
        self.key: str | None = None  # the expression key this column's uses belong to
        self.node: exp.Expr = column
        top = _expression_top(column)
        if top is not column and not isinstance(_unparen(top), exp.Column):
            found = self._expression_key(_unparen(top))
            if found is not None:
                self.key, self.node = found[1], top
        while isinstance(self.node.parent, exp.Paren):
            self.node = self.node.parent
        self.op = self.node.parent

    def uses(self) -> Iterator[Use]:
        if self.ref is None:
            yield from self._alias_reference()
            return
        kinds = list(self._filter_kinds()) + list(self._clause_kinds())
        for kind, column, scope in kinds:
            ref = self.ref if column is self.column else self.resolver.ref(column, scope)
            if ref is None or ref.base is None:
                continue
            place = self._place(kind)
            if column is self.column and self.key is not None and kind is not UseKind.PROJECT:
                yield BaseColumn(ref.base.table, self.key), kind, *place
            else:
                yield ref.base, kind, *place

    def _place(self, kind: UseKind) -> tuple[int, str]:
        """Where an ORDER BY / GROUP BY / DISTINCT item stands in its clause (0 first), and
        an ORDER BY item's key order; (0, "") for every other use."""
        if kind is UseKind.ORDER and isinstance(self.op, exp.Ordered):
            items = self.op.parent.expressions if self.op.parent is not None else []
            position = next((i for i, e in enumerate(items) if e is self.op), 0)
            desc = bool(self.op.args.get("desc"))
            return position, key_order(desc, bool(self.op.args.get("nulls_first")))
        if kind is UseKind.GROUP and self.op is not None:
            items = self.op.expressions if isinstance(self.op, exp.Group | exp.Distinct) else []
            return next((i for i, e in enumerate(items) if e is self.node), 0), ""
        return 0, ""

    def _expression_key(self, expression: exp.Expr) -> tuple[TableName, str] | None:
        """(table, key) of an expression over columns of one table reference, if indexable."""
        if self.keys is None or expression.find(*_NOT_INDEXABLE):
            return None
        names: dict[int, str] = {}
        source, table = None, None
        for column in expression.find_all(exp.Column):
            ref = self.resolver.ref(column, self.scope)
            start = column.meta.get(START)
            if ref is None or ref.base is None or not isinstance(start, int):
                return None
            if source is None:
                source, table = ref.source, ref.base.table
            elif ref.source is not source or ref.base.table != table:
                return None
            names[start] = ref.base.column
        if table is None:
            return None
        key = self.keys.key(expression, names, self.resolver.schema.columns(table))
        return (table, key) if key is not None else None

    def _alias_reference(self) -> Iterator[Use]:
        """ORDER BY / DISTINCT ON naming a select-list alias; anything else is unresolved."""
        select = self.scope.expression
        if isinstance(select, exp.SetOperation):
            return  # ORDER BY of a UNION names its output columns
        if not self.column.table and isinstance(select, exp.Select):
            for projection in select.selects:
                inner = projection.unalias()
                if projection.alias_or_name == self.column.name and projection is not inner:
                    if isinstance(inner, exp.Column):
                        ref = self.resolver.ref(inner, self.scope)
                        base = ref.base if ref is not None else None
                    else:  # an expression: ORDER BY day, day being date_trunc('day', ts)
                        found = self._expression_key(_unparen(inner))
                        base = BaseColumn(*found) if found is not None else None
                    if base is not None:
                        for kind, _, _ in self._clause_kinds():
                            if kind is not UseKind.PROJECT:
                                yield base, kind, *self._place(kind)
                    return
        self.notes.add(f"unresolved column {self.column.sql('postgres')}")

    # -- filters --------------------------------------------------------------------------

    def _filter_kinds(self) -> Iterator[tuple[UseKind, exp.Column, Scope]]:
        op, node = self.op, self.node
        if op is None:
            return
        if isinstance(op, exp.Where | exp.Join | exp.Connector | exp.Not):
            if _polarity(node) is not None:  # a boolean column used as a condition
                yield UseKind.EQ, self.column, self.scope
            return
        if not isinstance(op, exp.Predicate | exp.Tuple):
            self._note_expression(op)
            return
        predicate = op.parent if isinstance(op.parent, exp.Escape) else op
        if isinstance(op, exp.Tuple):
            predicate = op.parent if isinstance(op.parent, exp.In | exp.EQ) else op
        polarity = _polarity(predicate)
        if polarity is None:
            return
        if isinstance(op, exp.Is) and node is op.this and isinstance(op.expression, exp.Null):
            yield UseKind.IS_NULL, self.column, self.scope
        elif not polarity:
            return
        elif isinstance(op, exp.EQ):
            yield from self._equality(op.right if node is op.left else op.left)
        elif isinstance(op, exp.In) and node is op.this:
            yield from self._membership(op, 0)
        elif isinstance(op, exp.Tuple) and isinstance(op.parent, exp.In) and op is op.parent.this:
            yield from self._membership(op.parent, _position(op, node))
        elif isinstance(op, exp.Tuple) and isinstance(op.parent, exp.EQ):
            yield from self._row_equality(op.parent, op, _position(op, node))
        elif isinstance(op, _RANGE_OPS) and self._constant_like(
            op.right if node is op.left else op.left
        ):
            yield UseKind.RANGE, self.column, self.scope
        elif isinstance(op, exp.Between) and node is op.this:
            if self._constant_like(op.args["low"]) and self._constant_like(op.args["high"]):
                yield UseKind.RANGE, self.column, self.scope
        elif isinstance(op, exp.Like) and node is op.this and _is_prefix_pattern(op.expression):
            yield UseKind.LIKE_PREFIX, self.column, self.scope

    def _equality(self, other: exp.Expr) -> Iterator[tuple[UseKind, exp.Column, Scope]]:
        other = _unparen(other)
        if isinstance(other, exp.Any):
            target = _unparen(other.this)
            if isinstance(target, exp.Query):
                yield from self._link(target, 0)
            elif self._constant_like(target):
                yield UseKind.IN, self.column, self.scope
        elif isinstance(other, exp.Column):
            ref = self.resolver.ref(other, self.scope)
            if ref is not None and self.ref is not None and ref.source is not self.ref.source:
                yield UseKind.JOIN, self.column, self.scope
        elif self._constant_like(other):
            yield UseKind.EQ, self.column, self.scope
        elif self._side(other) == "other":
            yield UseKind.JOIN, self.column, self.scope

    def _row_equality(
        self, eq: exp.EQ, row: exp.Tuple, index: int
    ) -> Iterator[tuple[UseKind, exp.Column, Scope]]:
        """`(a, b) = (1, $2)` is `a = 1 AND b = $2`."""
        other = _unparen(eq.right if row is eq.left else eq.left)
        if isinstance(other, exp.Tuple) and len(other.expressions) == len(row.expressions):
            yield from self._equality(other.expressions[index])

    def _membership(self, op: exp.In, index: int) -> Iterator[tuple[UseKind, exp.Column, Scope]]:
        query = op.args.get("query")
        if query is not None:
            yield from self._link(query, index)
        elif op.expressions and all(self._constant_like(e) for e in op.expressions):
            yield UseKind.IN, self.column, self.scope

    def _link(self, query: exp.Expr, index: int) -> Iterator[tuple[UseKind, exp.Column, Scope]]:
        """`col IN (SELECT x ...)` joins col with x; `IN (SELECT 0 ...)` is an equality."""
        found = self.resolver.projection(query, index)
        if found is not None and isinstance(found[0], exp.Column):
            yield UseKind.JOIN, found[0], found[1]
        elif found is not None and not any(found[0].find_all(exp.Column)):
            yield UseKind.EQ, self.column, self.scope
            return
        yield UseKind.JOIN, self.column, self.scope

    def _constant_like(self, expr: exp.Expr) -> bool:
        return self._side(expr) in ("const", "outer")

    def _side(self, expr: exp.Expr) -> str:
        """What the other side reads: const, outer (correlated only), other, or same source."""
        refs: list[Ref | None] = [
            self.resolver.ref(node, self.scope)
            for node in expr.walk(prune=lambda n: n is not expr and isinstance(n, exp.Query))
            if isinstance(node, exp.Column)
        ]
        if isinstance(expr, exp.Query):
            return "const"
        if any(r is None for r in refs):
            return "unknown"
        mine = self.ref.source if self.ref else None
        if any(r.source is mine for r in refs if r):
            return "same"
        if any(r.home is self.scope for r in refs if r):
            return "other"
        return "outer" if refs else "const"

    def _note_expression(self, inner: exp.Expr) -> None:
        """A column wrapped in an expression inside a comparison: worth an expression index."""
        node = inner
        while node.parent is not None and not isinstance(node.parent, exp.Predicate):
            if isinstance(node.parent, exp.Query | exp.Where | exp.Join | exp.Connector):
                return
            node = node.parent
        if isinstance(node.parent, exp.Predicate) and _polarity(node.parent) is not None:
            base = self.ref.base if self.ref else None
            where = f"{base.table}.{base.column}" if base else self.column.sql("postgres")
            self.notes.add(f"expression on {where}: {node.parent.sql('postgres')}")

    # -- clauses --------------------------------------------------------------------------

    def _clause_kinds(self) -> Iterator[tuple[UseKind, exp.Column, Scope]]:
        select = self.scope.expression
        if not isinstance(select, exp.Select):
            return
        child: exp.Expr = self.column
        while child.parent is not None and child.parent is not select:
            child = child.parent
        if child.parent is not select:
            return
        clause, op = child.arg_key, self.op
        if clause == "order" and isinstance(op, exp.Ordered) and op.parent is child:
            yield UseKind.ORDER, self.column, self.scope
        elif (clause == "group" and isinstance(op, _GROUPING)) or (
            clause == "distinct" and isinstance(op, exp.Tuple | exp.Distinct)
        ):
            yield UseKind.GROUP, self.column, self.scope
        elif clause == "expressions" and not child.alias_or_name.startswith(SET_PREFIX):
            if not _under_exists(select):
                yield UseKind.PROJECT, self.column, self.scope
            distinct = select.args.get("distinct")
            plain = distinct is not None and not distinct.args.get("on")
            if plain and child.unalias() is self.node:
                yield UseKind.GROUP, self.column, self.scope
