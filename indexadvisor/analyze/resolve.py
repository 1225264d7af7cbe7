"""Qualify a statement with sqlglot and resolve each column reference to a base-table column.

The resolution follows sqlglot's scopes: a column names a source (a table, a CTE, a derived
table) in its own scope or, when correlated, in an enclosing one. A column of a CTE or derived
table (or a view, which the analyzer reads as one) is traced to its base table only when it is a
plain pass-through and the planner can push a predicate on it into that subquery: no LIMIT,
window, set operation or DISTINCT ON; with GROUP BY only a plain grouping column (the planner
moves such a filter below the aggregation), with DISTINCT only a plain column; and for a CTE:
not MATERIALIZED, not recursive, read once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, traverse_scope

from indexadvisor.analyze.schema import SchemaMap
from indexadvisor.model import TableName

Source = exp.Expr | Scope


@dataclass(frozen=True, order=True)
class BaseColumn:
    """A column of a table that exists in the schema."""

    table: TableName
    column: str


@dataclass(frozen=True)
class Ref:
    """A column reference seen from a scope: the source it reads and, if traceable, its base."""

    source: Source
    home: Scope  # the scope whose FROM defines the source
    base: BaseColumn | None


def qualified(expression: exp.Expr | str, schema: SchemaMap) -> exp.Expr:
    """Qualify tables (through search_path) and columns of a statement, in place.

    >>> from indexadvisor.model import TableName
    >>> s = SchemaMap({TableName("app", "t"): {"a": "int"}}, search_path=("public", "app"))
    >>> qualified("SELECT a FROM t", s).sql("postgres")
    'SELECT "t"."a" AS "a" FROM "app"."t" AS "t"'
    """
    if isinstance(expression, str):
        expression = exp.maybe_parse(expression, dialect="postgres")

    def follow_search_path(table: exp.Table) -> None:
        if not table.db:
            found = schema.lookup(None, table.name)
            namespace = found.schema if found else (schema.search_path or ("public",))[0]
            table.set("db", exp.to_identifier(namespace, quoted=True))

    return qualify(
        expression,
        dialect="postgres",
        schema=schema.sqlglot_schema,
        on_qualify=follow_search_path,
        validate_qualify_columns=False,
    )


class Resolver:
    """Column references of one qualified query, resolved against a SchemaMap.

    >>> from indexadvisor.model import TableName
    >>> s = SchemaMap({TableName("public", "orders"): {"id": "integer", "status": "text"}})
    >>> r = Resolver(qualified("SELECT o.status FROM (SELECT * FROM orders) o", s), s)
    >>> [type(scope.expression).__name__ for scope in r.scopes]  # innermost first
    ['Select', 'Select']
    """

    def __init__(self, root: exp.Expr, schema: SchemaMap) -> None:
        self.schema = schema
        self.scopes: list[Scope] = traverse_scope(root)  # innermost first
        self.notes: set[str] = set()
        self._by_query = {id(scope.expression): scope for scope in self.scopes}
        self._cte_reads: Counter[int] = Counter()
        for scope in self.scopes:
            for _, source in scope.selected_sources.values():
                if isinstance(source, Scope) and source.is_cte:
                    self._cte_reads[id(source.expression)] += 1

    def scope_of(self, query: exp.Expr) -> Scope | None:
        """The scope a (sub)query starts, if any.

        >>> s = SchemaMap({})
        >>> r = Resolver(qualified("SELECT 1 FROM (SELECT 2) AS x", s), s)
        >>> r.scope_of(r.scopes[0].expression) is r.scopes[0]
        True
        """
        if isinstance(query, exp.Subquery):
            query = query.unnest()
        return self._by_query.get(id(query))

    def ref(self, column: exp.Column, scope: Scope) -> Ref | None:
        """Resolve a qualified column through its scope and the enclosing ones.

        >>> from indexadvisor.model import TableName
        >>> s = SchemaMap({TableName("public", "orders"): {"id": "integer", "status": "text"}})
        >>> r = Resolver(qualified("SELECT o.status FROM (SELECT * FROM orders) o", s), s)
        >>> outer = r.scopes[-1]
        >>> r.ref(outer.expression.selects[0].this, outer).base
        BaseColumn(table=TableName(schema='public', name='orders'), column='status')
        """
        name = column.table
        current: Scope | None = scope
        while name and current is not None:
            source = current.sources.get(name)
            if source is not None:
                return Ref(source, current, self._base(source, column.name))
            current = current.parent
        return None

    def projection(self, query: exp.Expr, index: int) -> tuple[exp.Expr, Scope] | None:
        """What a subquery projects at `index` (unaliased), with the subquery's scope.

        >>> s = SchemaMap({})
        >>> r = Resolver(qualified("SELECT 1 WHERE 1 IN (SELECT 2 AS two)", s), s)
        >>> r.projection(r.scopes[0].expression, 0)[0].sql()
        '2'
        """
        scope = self.scope_of(query)
        if scope is None or not isinstance(scope.expression, exp.Select):
            return None
        selects = scope.expression.selects
        return (selects[index].unalias(), scope) if index < len(selects) else None

    def _base(self, source: Source, name: str) -> BaseColumn | None:
        if isinstance(source, exp.Table):
            if not isinstance(source.this, exp.Identifier):
                return None  # a table function
            table = self.schema.lookup(source.db or None, source.name)
            if table is None:
                return None  # reported as an unknown table
            real = _unalias_column(source, list(self.schema.columns(table)), name)
            if real is None:
                self.notes.add(f"unknown column {table}.{name}")
                return None
            return BaseColumn(table, real)
        if isinstance(source, Scope) and self._traceable(source):
            assert isinstance(source.expression, exp.Select)
            for projection in source.expression.selects:
                inner = projection.unalias()
                if (projection.alias_or_name == name and isinstance(inner, exp.Column)
                        and _passes_through(source.expression, inner)):
                    ref = self.ref(inner, source)
                    return ref.base if ref else None
        return None

    def _traceable(self, scope: Scope) -> bool:
        select = scope.expression
        if not isinstance(select, exp.Select) or any(
            select.args.get(key) for key in ("limit", "offset", "fetch", "qualify")
        ):
            return False
        distinct = select.args.get("distinct")
        if isinstance(distinct, exp.Distinct) and distinct.args.get("on") is not None:
            return False
        if any(p.find(exp.Window) for p in select.selects):
            return False
        cte = select.parent
        if scope.is_cte and isinstance(cte, exp.CTE):
            with_ = cte.parent
            recursive = isinstance(with_, exp.With) and bool(with_.args.get("recursive"))
            materialized = cte.args.get("materialized")
            reads = self._cte_reads[id(select)]
            return not recursive and materialized is not True and (
                reads <= 1 or materialized is False
            )
        return True


def _passes_through(select: exp.Select, column: exp.Column) -> bool:
    """A projected column a filter above can be pushed down on: in an aggregating query only
    a plain GROUP BY column (not under ROLLUP, CUBE or GROUPING SETS)."""
    group = select.args.get("group")
    grouped = group is not None or select.args.get("having") is not None or any(
        p.find(exp.AggFunc) for p in select.selects)
    if not grouped:
        return True
    if not isinstance(group, exp.Group) or any(
            group.args.get(k) for k in ("rollup", "cube", "grouping_sets")):
        return False
    return any(isinstance(g, exp.Column) and g.name == column.name and g.table == column.table
               for g in group.expressions)


def _unalias_column(table: exp.Table, columns: list[str], name: str) -> str | None:
    """`FROM orders AS o(a, b)` renames the first columns (in catalog order) to a and b."""
    alias = table.args.get("alias")
    renamed = [c.name for c in alias.columns] if isinstance(alias, exp.TableAlias) else []
    if name in renamed:
        index = renamed.index(name)
        return columns[index] if index < len(columns) else None
    return name if name in columns[len(renamed):] else None
