"""analyze: one statement plus the schema in, the base-table columns it uses (and how) out.

The passes, in order: the pglast gate (parse_statement), sqlglot parsing, rewriting DML into the
queries that read rows, qualification against the schema (resolve), classification (classify).
A valid statement never raises here: what cannot be resolved becomes a note.

>>> from indexadvisor.model import TableName
>>> s = SchemaMap({TableName("public", "orders"): {"id": "integer", "status": "text"}})
>>> print(*analyze("SELECT id FROM orders WHERE status = $1 ORDER BY id", s).lines(), sep="\\n")
kind select
table public.orders
order public.orders.id
project public.orders.id
eq public.orders.status
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from indexadvisor.analyze.classify import SET_PREFIX, classify
from indexadvisor.analyze.keys import ExpressionKeys, mark_positions
from indexadvisor.analyze.resolve import Resolver, qualified
from indexadvisor.analyze.schema import SchemaMap
from indexadvisor.analyze.views import expand_views
from indexadvisor.model import ColumnUse, TableName, key_sql, quote_ident
from indexadvisor.model.errors import first_line
from indexadvisor.sql.parse import parse_statement


class WrittenColumn(NamedTuple):
    """A column an INSERT, UPDATE or MERGE writes (it costs index maintenance)."""

    table: TableName
    column: str


@dataclass(frozen=True)
class Analysis:
    """What one statement does to which base-table columns; everything sorted."""

    kind: str
    tables: tuple[TableName, ...] = ()
    uses: tuple[ColumnUse, ...] = ()
    unknown_tables: tuple[str, ...] = ()
    written_columns: tuple[WrittenColumn, ...] = ()
    notes: tuple[str, ...] = ()
    views: tuple[TableName, ...] = ()  # views it reads, read through to their base tables
    system: tuple[TableName, ...] = ()  # system relations it reads (never advised on)

    def lines(self) -> list[str]:
        """A readable line per fact (the golden-file format).

        >>> Analysis("utility").lines()
        ['kind utility']
        """
        out = [f"kind {self.kind}"]
        out += [f"table {t}" for t in self.tables]
        out += [f"unknown {name}" for name in self.unknown_tables]
        out += [f"view {v}" for v in self.views]
        out += [f"system {t}" for t in self.system]
        out += [f"{u.kind.value} {u.table}.{key_sql(u.column)}"
                + (f" @{u.position}" if u.position else "")
                + (f" {u.direction}" if u.direction else "") for u in self.uses]
        out += [f"written {w.table}.{quote_ident(w.column)}" for w in self.written_columns]
        out += [f"note {note}" for note in self.notes]
        return out


def analyze(text: str, schema: SchemaMap) -> Analysis:
    """Column uses of one statement, resolved to base tables through the schema.

    Raises StatementError only for text PostgreSQL's grammar rejects.

    >>> from indexadvisor.model import TableName
    >>> s = SchemaMap({TableName("public", "t"): {"a": "int", "b": "int"}})
    >>> [f"{u.kind} {u.column}" for u in analyze("UPDATE t SET b = 1 WHERE a IN (1, 2)", s).uses]
    ['in a']
    >>> analyze("UPDATE t SET b = 1 WHERE a IN (1, 2)", s).written_columns
    (WrittenColumn(table=TableName(schema='public', name='t'), column='b'),)
    >>> analyze("SELECT * FROM nowhere", s).unknown_tables
    ('nowhere',)
    """
    parsed = parse_statement(text)
    if parsed.kind == "utility":
        return Analysis(kind="utility")
    text, views = expand_views(text, schema)
    relations = parse_statement(text).relations if views else parsed.relations
    tables: set[TableName] = set()
    unknown: list[str] = []
    system: set[TableName] = set()
    targets: set[TableName] = set()  # a view written through (its base table is not read)
    for relation in relations:
        found = schema.find(relation)
        if found is None:
            unknown.append(relation)
        elif found[0] == "table":
            tables.add(found[1])
        elif found[0] == "system":
            system.add(found[1])
        else:
            targets.add(found[1])
    notes: set[str] = set()
    notes |= {f"writes through the view {view}: its write load is not counted"
              for view in targets}
    written: set[WrittenColumn] = set()
    uses: set[ColumnUse] = set()
    try:
        _column_uses(text, schema, uses, written, notes)
    except SqlglotError as error:
        notes.add(f"sqlglot cannot analyze the statement: {first_line(error)}")
    except Exception as error:  # degrade, never fail a valid statement; the note says why
        notes.add(f"column analysis failed ({type(error).__name__}: {first_line(error)})")
    return Analysis(
        kind=parsed.kind,
        tables=tuple(sorted(tables)),
        uses=tuple(sorted(uses)),
        unknown_tables=tuple(unknown),
        written_columns=tuple(sorted(written)),
        notes=tuple(sorted(notes)),
        views=tuple(sorted(set(views) | targets)),
        system=tuple(sorted(system)),
    )


def _column_uses(
    text: str,
    schema: SchemaMap,
    uses: set[ColumnUse],
    written: set[WrittenColumn],
    notes: set[str],
) -> None:
    """The sqlglot half: parse, rewrite DML, qualify, classify (each query on its own)."""
    tree = normalize_identifiers(sqlglot.parse_one(text, dialect="postgres"), dialect="postgres")
    mark_positions(tree)
    keys = ExpressionKeys(text)
    for root in _queries(tree, schema, written, notes):
        try:
            resolver = Resolver(qualified(root, schema), schema)
            found, more_notes = classify(resolver, keys)
        except SqlglotError as error:
            notes.add(f"sqlglot cannot resolve columns: {first_line(error)}")
            continue
        notes |= more_notes
        uses |= {ColumnUse(base.table, base.column, kind, position, order)
                 for base, kind, position, order in found}



def _queries(
    tree: exp.Expr, schema: SchemaMap, written: set[WrittenColumn], notes: set[str]
) -> Iterator[exp.Expr]:
    """Reading queries of a statement and of its data-modifying CTEs (`WITH d AS (DELETE ..)`).

    Such a CTE is analyzed as a statement of its own; in the query that reads it, it becomes
    `SELECT <returning> FROM target`, materialized (PostgreSQL never inlines it).
    """
    for root in _reading_queries(tree, schema, written, notes):
        with_ = root.args.get("with_")
        for cte in with_.expressions if isinstance(with_, exp.With) else []:
            body = cte.this
            if isinstance(body, exp.Update | exp.Delete | exp.Insert | exp.Merge):
                yield from _queries(body.copy(), schema, written, notes)
                target = body.this.this if isinstance(body.this, exp.Schema) else body.this
                returning = body.args.get("returning")
                projections = list(returning.expressions) if returning else []
                cte.set("this", exp.Select(
                    expressions=projections or [exp.Literal.number(1)],
                    from_=exp.From(this=target.copy()),
                ))
                cte.set("materialized", True)
        yield root


def _reading_queries(
    tree: exp.Expr, schema: SchemaMap, written: set[WrittenColumn], notes: set[str]
) -> Iterator[exp.Expr]:
    """The queries whose column reads matter; DML becomes the SELECT that finds its rows."""
    if isinstance(tree, exp.Query):
        yield tree
    elif isinstance(tree, exp.Update):
        _record_writes(tree.this, _set_columns(tree.expressions), schema, written, notes)
        values = [
            exp.alias_(e.expression, f"{SET_PREFIX}{i}") for i, e in enumerate(tree.expressions)
        ]
        from_ = tree.args.get("from_")
        sources = [from_.this] if isinstance(from_, exp.From) else []
        yield _as_select(tree, tree.this, sources, values)
    elif isinstance(tree, exp.Delete):
        yield _as_select(tree, tree.this, list(tree.args.get("using") or []), [])
    elif isinstance(tree, exp.Insert):
        yield from _insert(tree, schema, written, notes)
    elif isinstance(tree, exp.Merge):
        yield from _merge(tree, schema, written, notes)
    else:
        notes.add(f"statement type {type(tree).__name__} is not analyzed")


def _as_select(
    dml: exp.Expr, target: exp.Expr, sources: list[exp.Expr], values: list[exp.Expr]
) -> exp.Select:
    """UPDATE/DELETE as `SELECT <returning> FROM target, <FROM/USING sources> WHERE ...`."""
    joins: list[exp.Expr] = []
    for source in sources:
        nested = source.args.get("joins") or []
        source.set("joins", None)
        joins += [exp.Join(this=source), *nested]
    returning = dml.args.get("returning")
    projections = (list(returning.expressions) if returning else []) + values
    return exp.Select(
        expressions=projections or [exp.Literal.number(1)],
        from_=exp.From(this=target),
        joins=joins or None,
        where=dml.args.get("where"),
        with_=dml.args.get("with_"),
    )


def _set_columns(assignments: list[exp.Expr]) -> list[str]:
    """Target column names of SET assignments (`a = 1`, `(a, b) = (...)`) or column lists."""
    names: list[str] = []
    for assignment in assignments:
        target = assignment.this if isinstance(assignment, exp.EQ) else assignment
        columns = target.expressions if isinstance(target, exp.Tuple) else [target]
        names += [c.name for c in columns if isinstance(c, exp.Column | exp.Identifier)]
    return names


def _record_writes(
    target: exp.Expr | None,
    columns: list[str] | None,
    schema: SchemaMap,
    written: set[WrittenColumn],
    notes: set[str],
) -> None:
    """Record written columns of a target table; None means all of its columns."""
    if not isinstance(target, exp.Table):
        return
    table = schema.lookup(target.db or None, target.name)
    if table is None:
        return  # reported as an unknown table
    for name in list(schema.columns(table)) if columns is None else columns:
        if name in schema.columns(table):
            written.add(WrittenColumn(table, name))
        else:
            notes.add(f"unknown column {table}.{name}")


def _insert(
    tree: exp.Insert, schema: SchemaMap, written: set[WrittenColumn], notes: set[str]
) -> Iterator[exp.Expr]:
    """INSERT writes its column list (all columns without one); its query part reads."""
    target = tree.this
    table = target.this if isinstance(target, exp.Schema) else target
    named = [c.name for c in target.expressions] if isinstance(target, exp.Schema) else []
    _record_writes(table, named or None, schema, written, notes)
    conflict = tree.args.get("conflict")
    if conflict is not None and conflict.expressions:
        _record_writes(table, _set_columns(conflict.expressions), schema, written, notes)
    source = tree.expression
    if isinstance(source, exp.Query):
        if tree.args.get("with_") and not source.args.get("with_"):
            source.set("with_", tree.args["with_"])
        yield source
    returning = tree.args.get("returning")
    if returning is not None and isinstance(table, exp.Table):
        yield exp.Select(expressions=list(returning.expressions), from_=exp.From(this=table))


def _merge(
    tree: exp.Merge, schema: SchemaMap, written: set[WrittenColumn], notes: set[str]
) -> Iterator[exp.Expr]:
    """MERGE writes what its WHEN clauses set or insert; ON joins target and source."""
    target, source, whens = tree.this, tree.args.get("using"), tree.args.get("whens")
    for when in whens.expressions if whens is not None else []:
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            _record_writes(target, _set_columns(then.expressions), schema, written, notes)
        elif isinstance(then, exp.Insert) and isinstance(then.this, exp.Tuple):
            _record_writes(target, _set_columns(then.this.expressions), schema, written, notes)
    if source is not None:
        yield exp.Select(
            expressions=[exp.Literal.number(1)],
            from_=exp.From(this=target),
            joins=[exp.Join(this=source, on=tree.args.get("on"))],
            with_=tree.args.get("with_"),
        )
