"""Representative values for a statement's ``$n`` parameters, from pg_stats.

A generic plan (what a ``$n`` statement gets without values) cannot prove a partial index's
predicate and, on PostgreSQL 15, prunes no partition at plan time: every leaf is costed. When
no parameters were captured, this pass finds what each ``$n`` is compared with and picks a
value the planner's own statistics say is typical, so the statement can get a custom plan:

- ``col = $n`` (``<>``, ``IS DISTINCT FROM``, ``IN ($n, ...)``, an UPDATE's ``SET col = $n``,
  an INSERT's ``VALUES``): the middle histogram bound (a value outside the most-common list),
  or the middle of the most-common list when there is no histogram. The choice is *typical*,
  not worst case: a rare value would make every index look good, the histogram middle stands
  for the many values nobody singled out.
- ``col > $n`` / ``col < $n`` / ``BETWEEN $a AND $b``: histogram bounds one ~1% slice apart
  (the middle slice when both ends are parameters, the newest slice for a lower bound alone,
  the oldest for an upper bound alone).
- ``LIKE $n``: the typical value followed by ``%`` (a prefix search).
- ``LIMIT $n`` / ``OFFSET $n``: 20 and 0.

A parameter compared with anything else (an expression, another parameter, ``= ANY($n)``) or
a column without statistics has no value: the statement keeps its generic plan. Values are
text (as pg_stats prints them); EXECUTE passes them as untyped literals, so each is read by
the parameter's type.

>>> from indexadvisor.model import TableName
>>> t = TableName("public", "orders")
>>> s = SchemaMap({t: {"id": "integer", "status": "text"}})
>>> uses = param_uses("SELECT * FROM orders o WHERE o.status = $1 LIMIT $2", s)
>>> [(u.number, u.kind, u.column) for u in uses.values()]
[(1, 'eq', 'status'), (2, 'limit', None)]
>>> stats = {(t, "status"): ColumnStats(0, 3, 5, None, ("done", "new"), (0.9, 0.1))}
>>> b = synthesize(uses, 2, lambda table, column: stats.get((table, column)))
>>> b.params, b.describe()
(('new', '20'), "status='new' (MCV), LIMIT 20 (constant)")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, SetOperation

from indexadvisor.analyze.predicates import column_of, cte_names, from_tables
from indexadvisor.analyze.schema import SchemaMap
from indexadvisor.analyze.views import expand_views
from indexadvisor.catalog.values import Catalog, ColumnStats
from indexadvisor.model import TableName

LIMIT_VALUE = "20"
OFFSET_VALUE = "0"
SLICE = 0.01  # the share of the histogram a range parameter pair spans

# operator -> kind when the column is on the left; the mirror when it is on the right
_OPS = {"=": ("eq", "eq"), "<>": ("eq", "eq"), "!=": ("eq", "eq"),
        ">": ("lower", "upper"), ">=": ("lower", "upper"),
        "<": ("upper", "lower"), "<=": ("upper", "lower")}
_LIKE = frozenset({"~~", "~~*", "!~~", "!~~*"})

Tables = Mapping[str, TableName]


@dataclass(frozen=True, order=True)
class ParamUse:
    """What one ``$n`` is compared with: `kind` is eq / lower / upper / like / limit / offset;
    `table` and `column` the base column (None for LIMIT/OFFSET); `position` its place in an
    IN list (so ``IN ($1, $2)`` gets two different values)."""

    number: int
    kind: str
    table: TableName | None = None
    column: str | None = None
    position: int = 0


@dataclass(frozen=True)
class ParamValue:
    """A synthesized value: for `use`, the text `value`, taken from `source`
    (MCV / histogram / constant)."""

    use: ParamUse
    value: str
    source: str

    def describe(self) -> str:
        use = self.use
        if use.kind in ("limit", "offset"):
            return f"{use.kind.upper()} {self.value} ({self.source})"
        op = {"eq": "=", "lower": ">=", "upper": "<=", "like": " LIKE "}[use.kind]
        quoted = "'" + self.value.replace("'", "''") + "'"
        return f"{use.column}{op}{quoted} ({self.source})"


@dataclass(frozen=True)
class Binding:
    """Values for every parameter of a statement, or which ones have none."""

    values: tuple[ParamValue, ...]  # by parameter number, 1..param_count, when complete
    missing: tuple[int, ...] = ()  # parameter numbers without a value

    @property
    def params(self) -> tuple[str, ...] | None:
        """The values in $1..$n order, or None when some parameter has none."""
        return None if self.missing else tuple(v.value for v in self.values)

    def describe(self) -> str:
        """One line a report can show: ``status='done' (MCV), LIMIT 20 (constant)``."""
        if self.missing:
            return "no representative value for " + ", ".join(f"${n}" for n in self.missing)
        return ", ".join(v.describe() for v in self.values)


# -- which column each $n meets -------------------------------------------------------------
def param_uses(text: str, schema: SchemaMap) -> dict[int, ParamUse]:
    """Each ``$n`` of a statement mapped to the base column it is compared with (the first
    comparison wins when a parameter is used twice); parameters not found are left out.

    >>> from indexadvisor.model import TableName
    >>> s = SchemaMap({TableName("public", "t"): {"a": "int", "ts": "date"}})
    >>> sorted((u.number, u.kind, u.column) for u in param_uses(
    ...     "SELECT a FROM t WHERE ts BETWEEN $2 AND $3 AND $10 < a OFFSET $1", s).values())
    [(1, 'offset', None), (2, 'lower', 'ts'), (3, 'upper', 'ts'), (10, 'lower', 'a')]
    """
    text, _ = expand_views(text, schema)  # a view's own filters, in its place
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return {}
    found: dict[int, ParamUse] = {}
    for raw in statements:
        if raw.stmt is not None:
            _statement(raw.stmt, schema, (), frozenset(), found)
    return dict(sorted(found.items()))


def _statement(node: ast.Node, schema: SchemaMap, scopes: tuple[Tables, ...],
               ctes: frozenset[str], found: dict[int, ParamUse]) -> None:
    """One SELECT / INSERT / UPDATE / DELETE: its FROM list is a new scope for its clauses."""
    with_clause = getattr(node, "withClause", None)
    ctes = ctes | cte_names(node)
    if isinstance(with_clause, ast.WithClause):
        for cte in with_clause.ctes or ():
            if isinstance(cte, ast.CommonTableExpr) and cte.ctequery is not None:
                _statement(cte.ctequery, schema, scopes, ctes, found)
    exprs: list[Any] = []
    sources: list[Any] = []
    if isinstance(node, ast.SelectStmt):
        if node.op != SetOperation.SETOP_NONE:
            for branch in (node.larg, node.rarg):
                if branch is not None:
                    _statement(branch, schema, scopes, ctes, found)
        sources = list(node.fromClause or ())
        exprs = [node.whereClause, node.havingClause, node.targetList, node.groupClause,
                 node.valuesLists, node.sortClause]
        _limit(node.limitCount, "limit", found)
        _limit(node.limitOffset, "offset", found)
    elif isinstance(node, ast.UpdateStmt):
        sources = [node.relation, *(node.fromClause or ())]
        exprs = [node.whereClause, node.returningClause]
    elif isinstance(node, ast.DeleteStmt):
        sources = [node.relation, *(node.usingClause or ())]
        exprs = [node.whereClause, node.returningClause]
    elif isinstance(node, ast.InsertStmt):
        _insert(node, schema, scopes, ctes, found)
        return
    else:
        return
    tables = from_tables(sources, schema, ctes)
    here = (*scopes, tables)
    if isinstance(node, ast.UpdateStmt) and node.relation is not None:
        target = from_tables([node.relation], schema, ctes)
        for item in node.targetList or ():
            if isinstance(item, ast.ResTarget) and item.name:
                for table in target.values():
                    _assign(item.val, table, item.name, schema, found)
        exprs.append([item.val for item in node.targetList or ()
                      if isinstance(item, ast.ResTarget)])
    exprs += list(_join_quals(sources))
    for expr in exprs:
        _expression(expr, schema, here, ctes, found)


def _insert(node: ast.InsertStmt, schema: SchemaMap, scopes: tuple[Tables, ...],
            ctes: frozenset[str], found: dict[int, ParamUse]) -> None:
    """``INSERT INTO t (a, b) VALUES ($1, $2)``: each value is a value of its column."""
    table = next(iter(from_tables([node.relation], schema, ctes).values()), None)
    select = node.selectStmt
    if table is not None and isinstance(select, ast.SelectStmt) and select.valuesLists:
        names = [c.name or "" for c in node.cols or () if isinstance(c, ast.ResTarget)]
        names = names or list(schema.columns(table))
        for row in select.valuesLists:
            for name, value in zip(names, row, strict=False):
                _assign(value, table, name, schema, found)
    if isinstance(select, ast.Node):
        _statement(select, schema, scopes, ctes, found)


def _assign(value: Any, table: TableName, column: str, schema: SchemaMap,
            found: dict[int, ParamUse]) -> None:
    number = _param(value)
    if number is not None and column in schema.columns(table):
        found.setdefault(number, ParamUse(number, "eq", table, column))


def _limit(node: Any, kind: str, found: dict[int, ParamUse]) -> None:
    number = _param(node)
    if number is not None:
        found.setdefault(number, ParamUse(number, kind))


def _join_quals(sources: Sequence[Any]) -> Iterator[Any]:
    stack = list(sources)
    while stack:
        item = stack.pop()
        if isinstance(item, ast.JoinExpr):
            yield item.quals
            stack += [item.larg, item.rarg]
        elif isinstance(item, ast.RangeSubselect | ast.RangeFunction):
            yield item  # its subquery is a scope of its own, found by _expression


def _expression(root: Any, schema: SchemaMap, scopes: tuple[Tables, ...],
                ctes: frozenset[str], found: dict[int, ParamUse]) -> None:
    """Comparisons of a column with a parameter anywhere in an expression (OR branches
    included); a subquery inside opens its own scope."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple | list):
            stack.extend(reversed(node))
            continue
        if not isinstance(node, ast.Node):
            continue
        if isinstance(node, ast.SelectStmt | ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt):
            _statement(node, schema, scopes, ctes, found)
            continue
        if isinstance(node, ast.A_Expr):
            for use in _comparison(node, schema, scopes):
                found.setdefault(use.number, use)
        for name in getattr(type(node), "__slots__", ()):
            stack.append(getattr(node, name, None))


def _comparison(node: ast.A_Expr, schema: SchemaMap,
                scopes: tuple[Tables, ...]) -> Iterator[ParamUse]:
    names = [n.sval for n in node.name or () if isinstance(n, ast.String)]
    op = names[-1] if names else ""
    kind = node.kind
    if kind in (A_Expr_Kind.AEXPR_OP, A_Expr_Kind.AEXPR_DISTINCT, A_Expr_Kind.AEXPR_NOT_DISTINCT,
                A_Expr_Kind.AEXPR_LIKE, A_Expr_Kind.AEXPR_ILIKE) and (op in _OPS or op in _LIKE):
        for column, other, mirrored in ((node.lexpr, node.rexpr, False),
                                        (node.rexpr, node.lexpr, True)):
            target = _resolve(column, schema, scopes)
            number = _param(other)
            if target is None or number is None:
                continue
            if op in _LIKE:
                if not mirrored:
                    yield ParamUse(number, "like", *target)
            else:
                yield ParamUse(number, _OPS[op][1 if mirrored else 0], *target)
            return
    elif kind == A_Expr_Kind.AEXPR_IN:
        target = _resolve(node.lexpr, schema, scopes)
        items = node.rexpr if isinstance(node.rexpr, tuple | list) else ()
        if target is not None:
            for position, item in enumerate(items):
                number = _param(item)
                if number is not None:
                    yield ParamUse(number, "eq", *target, position)
    elif kind in (A_Expr_Kind.AEXPR_BETWEEN, A_Expr_Kind.AEXPR_NOT_BETWEEN,
                  A_Expr_Kind.AEXPR_BETWEEN_SYM, A_Expr_Kind.AEXPR_NOT_BETWEEN_SYM):
        target = _resolve(node.lexpr, schema, scopes)
        bounds = node.rexpr if isinstance(node.rexpr, tuple | list) else ()
        if target is not None and len(bounds) == 2:
            for item, side in zip(bounds, ("lower", "upper"), strict=True):
                number = _param(item)
                if number is not None:
                    yield ParamUse(number, side, *target)


def _resolve(node: Any, schema: SchemaMap,
             scopes: tuple[Tables, ...]) -> tuple[TableName, str] | None:
    """A column reference, looked up in its own scope first, then the enclosing ones."""
    if isinstance(node, ast.TypeCast):
        node = node.arg
    for tables in reversed(scopes):
        target = column_of(node, tables, schema)
        if target is not None:
            return target
    return None


def _param(node: Any) -> int | None:
    """The number of a ``$n`` (also under a cast: ``$1::date``)."""
    while isinstance(node, ast.TypeCast):
        node = node.arg
    return node.number if isinstance(node, ast.ParamRef) and node.number else None


# -- values from pg_stats --------------------------------------------------------------------
StatsLookup = Callable[[TableName, str], ColumnStats | None]


def catalog_stats(catalog: Catalog) -> StatsLookup:
    """Column statistics from the catalog; a partitioned parent nobody ANALYZEd (autovacuum
    never does) borrows those of its largest leaf."""

    def lookup(table: TableName, column: str) -> ColumnStats | None:
        found = catalog.table(table)
        if found is None:
            return None
        col = found.column(column)
        if col is not None and col.stats is not None:
            return col.stats
        leaves = [catalog.table(leaf) for leaf in found.partitions]
        for leaf in sorted((t for t in leaves if t is not None), key=lambda t: -t.rows):
            leaf_col = leaf.column(column)
            if leaf_col is not None and leaf_col.stats is not None:
                return leaf_col.stats
        return None

    return lookup


def synthesize(uses: Mapping[int, ParamUse], param_count: int,
               stats: StatsLookup) -> Binding:
    """A value for each of ``$1..$param_count`` (see the module docstring for the choices).

    >>> from indexadvisor.model import TableName
    >>> t = TableName("public", "t")
    >>> hist = tuple(str(i) for i in range(0, 1001, 10))  # 101 bounds, 100 buckets
    >>> st = {(t, "ts"): ColumnStats(0, -1, 4, 1.0, (), (), hist)}
    >>> uses = {1: ParamUse(1, "lower", t, "ts"), 2: ParamUse(2, "upper", t, "ts")}
    >>> synthesize(uses, 2, lambda a, b: st.get((a, b))).params
    ('500', '510')
    >>> synthesize({1: ParamUse(1, "lower", t, "ts")}, 1, lambda a, b: st.get((a, b))).params
    ('990',)
    >>> synthesize(uses, 3, lambda a, b: st.get((a, b))).describe()
    'no representative value for $3'
    """
    paired = {(u.table, u.column) for u in uses.values() if u.kind == "lower"} & {
        (u.table, u.column) for u in uses.values() if u.kind == "upper"}
    values: list[ParamValue] = []
    missing: list[int] = []
    for number in range(1, param_count + 1):
        use = uses.get(number)
        picked = None if use is None else _value(use, (use.table, use.column) in paired, stats)
        if use is None or picked is None:
            missing.append(number)
        else:
            values.append(ParamValue(use, *picked))
    return Binding(tuple(values), tuple(missing))


def _value(use: ParamUse, paired: bool, stats: StatsLookup) -> tuple[str, str] | None:
    if use.kind == "limit":
        return LIMIT_VALUE, "constant"
    if use.kind == "offset":
        return OFFSET_VALUE, "constant"
    if use.table is None or use.column is None:
        return None
    st = stats(use.table, use.column)
    if st is None:
        return None
    mcv, hist = st.most_common_vals, st.histogram_bounds
    if use.kind in ("eq", "like"):
        # A typical lookup, not the worst one: a value from the histogram (the values that
        # are not among the most common), else the middle of the most-common list. The
        # commonest value would make every skewed column look like a sequential scan.
        if hist:
            value = hist[(len(hist) // 2 + use.position) % len(hist)]
            source = "histogram"
        elif mcv:
            value, source = mcv[(len(mcv) // 2 + use.position) % len(mcv)], "MCV"
        else:
            return None
        return (value + "%" if use.kind == "like" else value), source
    if not hist:  # a range over a column of only common values: any of its values is valid
        return (mcv[0], "MCV") if mcv else None
    buckets = len(hist) - 1
    step = max(1, round(buckets * SLICE))
    if paired:
        low = max(0, buckets // 2 - step // 2)
        index = low if use.kind == "lower" else min(buckets, low + step)
    else:
        index = max(0, buckets - step) if use.kind == "lower" else min(buckets, step)
    return hist[index], "histogram"
