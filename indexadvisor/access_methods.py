"""Access methods besides btree: BRIN and hash candidates, and GIN proposals HypoPG cannot cost.

- **BRIN** (`brin_candidates`): a block-range index is a few pages for a table of millions of
  rows, and serves a range predicate as well as a btree when the column's values follow the
  physical row order (pg_stats.correlation near +-1: an append-only log's timestamp, a serial
  id). Proposed for a RANGE use (or equality on a date/time column) on a large table only;
  HypoPG 1.3 simulates BRIN, so selection weighs it like any candidate, and under a small budget
  its size makes it win.
- **Hash** (`hash_candidates`): for pure equality on one wide column (a URL, a token), a hash
  index stores 4-byte hash codes instead of the key, so it is smaller than a btree on the same
  column. Proposed only when the query uses that column for nothing but equality; HypoPG
  simulates hash too, and selection decides whether it wins on cost or size.
- **GIN** (`gin_proposals`): jsonb ``@>``/``?``/``?|``/``?&``, array ``@>``/``<@``/``&&``,
  ``LIKE '%x%'``/ILIKE/regex with pg_trgm, full-text ``@@``. HypoPG 1.3 refuses a hypothetical
  GIN ("access method "gin" is not supported"), so these are proposed labelled **not costed**:
  a `NotCosted` with its reason and DDL, never counted in a budget or a benefit. They are found
  by a small pglast pass over each statement (the sqlglot analyzer does not record these
  operators), resolving columns to base tables the way `analyze.predicates` does.

>>> from indexadvisor.model import TableName
>>> s = SchemaMap({TableName("public", "docs"): {"body": "jsonb", "tags": "text[]"}})
>>> [(u.column, u.operator, u.family) for u in gin_uses(
...     "SELECT 1 FROM docs d WHERE d.body @> '{\\"a\\": 1}' AND tags && $1", s)]
[('body', '@>', 'jsonb'), ('tags', '&&', 'array')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pglast
import psycopg
from pglast import ast
from pglast.enums import A_Expr_Kind
from psycopg import sql

from .analyze.predicates import _column, where_scope
from .analyze.schema import SchemaMap
from .catalog import Catalog, Index, Table
from .ddl import check_roundtrip, index_key, index_name
from .expressions import NotAnExpression, canonical_expression
from .model import Candidate, ColumnUse, Query, TableName, UseKind, is_expression, quote_ident

# -- BRIN and hash candidates (costed by HypoPG like btree ones) ------------------------------

MIN_BRIN_PAGES = 10_000  # 80 MB of heap: below that a btree is small enough anyway
MIN_BRIN_CORRELATION = 0.9  # |pg_stats.correlation|: rows stored in (nearly) column order
MIN_HASH_WIDTH = 32  # pg_stats.avg_width in bytes: hash codes are 4 bytes, so a wide key pays
_TIME_TYPES = ("timestamp", "date", "time")
_HASH_ONLY = frozenset({UseKind.EQ, UseKind.PROJECT})


def brin_candidates(uses: Iterable[ColumnUse], catalog: Catalog) -> list[Candidate]:
    """Single-column BRIN candidates: a range use (or equality on a date/time column) of a
    column whose values follow the physical order, on a table of at least MIN_BRIN_PAGES.

    >>> brin_candidates([], Catalog(150000, "15", "1.3.1", None, ("public",)))
    []
    """
    out: set[Candidate] = set()
    for use in uses:
        if is_expression(use.column):
            continue
        table = catalog.table(use.table)
        if table is None or table.kind not in ("r", "m") or table.pages < MIN_BRIN_PAGES:
            continue
        column = table.column(use.column)
        if column is None or column.stats is None or column.stats.correlation is None:
            continue
        timelike = column.type.startswith(_TIME_TYPES)
        if not (use.kind == UseKind.RANGE or (use.kind == UseKind.EQ and timelike)):
            continue
        if abs(column.stats.correlation) >= MIN_BRIN_CORRELATION:
            out.add(Candidate(use.table, (use.column,), method="brin"))
    return sorted(out)


def hash_candidates(uses: Iterable[ColumnUse], catalog: Catalog) -> list[Candidate]:
    """Single-column hash candidates: a wide column (avg_width >= MIN_HASH_WIDTH) the query
    compares for equality and uses in no other way a btree would serve (range, sort, LIKE,
    IS NULL, join, IN)."""
    kinds: dict[tuple[TableName, str], set[UseKind]] = {}
    for use in uses:
        kinds.setdefault((use.table, use.column), set()).add(use.kind)
    out = []
    for (name, col), used in sorted(kinds.items()):
        if UseKind.EQ not in used or not used <= _HASH_ONLY or is_expression(col):
            continue
        table = catalog.table(name)
        column = table.column(col) if table is not None else None
        if (table is not None and table.kind in ("r", "m") and column is not None
                and column.stats is not None and column.stats.avg_width >= MIN_HASH_WIDTH):
            out.append(Candidate(name, (col,), method="hash"))
    return out


def method_candidates(uses: Sequence[ColumnUse], catalog: Catalog) -> list[Candidate]:
    """The BRIN and hash candidates of one query."""
    return sorted(set(brin_candidates(uses, catalog)) | set(hash_candidates(uses, catalog)))


# -- GIN: detected, proposed, never costed ------------------------------------------------------

GIN_REASON = "HypoPG 1.3 cannot simulate GIN"
_JSONB_OPS = frozenset({"@>", "<@", "?", "?|", "?&"})
_ARRAY_OPS = frozenset({"@>", "<@", "&&"})
_TEXT_OPS = frozenset({"~~", "~~*", "~", "~*"})
_TEXT_TYPES = ("text", "character varying", "character", "varchar", "citext")
_SYMMETRIC = frozenset({"&&", "@@"})
_FLIPPED = {"<@": "@>", "@>": "<@"}
MAX_SAMPLES = 20  # samples of a query read for patterns


@dataclass(frozen=True, order=True)
class GinUse:
    """One predicate only a GIN index serves: `column` (a key, maybe an expression) of
    `table` under `operator`; `family` is jsonb, array, trgm or tsvector."""

    table: TableName
    column: str
    operator: str
    family: str


@dataclass(frozen=True)
class NotCosted:
    """An index proposed without a cost: HypoPG cannot simulate its access method.

    Never counted in a budget, a benefit or the workload cost; `ddl` builds it for real
    (preceded by CREATE EXTENSION when `extension` is not installed yet).
    """

    table: TableName
    column: str
    method: str
    opclass: str | None
    operators: tuple[str, ...]
    reason: str
    ddl: str
    queries: tuple[str, ...]  # fingerprints
    extension: str | None = None  # an extension the opclass needs that is not installed

    @property
    def label(self) -> str:
        key = self.column if is_expression(self.column) else quote_ident(self.column)
        opclass = f" {self.opclass}" if self.opclass else ""
        return f"{self.table} USING {self.method} ({key}{opclass})"


def gin_uses(text: str, schema: SchemaMap,
             params: Sequence[str | None] = ()) -> tuple[GinUse, ...]:
    """Every predicate of a statement a GIN index could serve (empty if pglast cannot parse
    it). `params` are captured bind values: a ``LIKE $1`` counts when its value is unanchored.
    """
    try:
        statements = pglast.parse_sql(text)
    except pglast.parser.ParseError:
        return ()
    found: set[GinUse] = set()
    for raw in statements:
        for node in _walk(raw.stmt) if raw.stmt is not None else ():
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
    for term in _walk(where, into_subqueries=False):
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
    target = _column(left, tables, schema)
    other = right
    if target is None and op in _SYMMETRIC | set(_FLIPPED):
        target = _column(right, tables, schema)
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
        refs = {_column(n, tables, schema) for n in _walk(side) if isinstance(n, ast.ColumnRef)}
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


def _walk(node: ast.Node, *, into_subqueries: bool = True) -> Iterator[ast.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if not into_subqueries and isinstance(current, ast.SubLink):
            continue
        for name in getattr(type(current), "__slots__", ()):
            value = getattr(current, name, None)
            items = value if isinstance(value, tuple | list) else (value,)
            stack.extend(v for v in items if isinstance(v, ast.Node))


def installed_extensions(conn: psycopg.Connection) -> frozenset[str]:
    """Extensions created in the database (read-only)."""
    return frozenset(r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall())


def gin_proposals(found: Mapping[str, Sequence[GinUse]], catalog: Catalog,
                  extensions: frozenset[str]) -> tuple[NotCosted, ...]:
    """One not-costed GIN proposal per (table, key, family) the workload needs and no
    existing index serves. `found`: query fingerprint -> its GIN uses."""
    groups: dict[tuple[TableName, str, str], tuple[set[str], set[str]]] = {}
    for key, uses in found.items():
        for use in uses:
            ops, queries = groups.setdefault((use.table, use.column, use.family), (set(), set()))
            ops.add(use.operator)
            queries.add(key)
    out = []
    for (name, column, family), (ops, queries) in sorted(groups.items()):
        table = catalog.table(name)
        if table is None or table.kind not in ("r", "m", "p"):
            continue
        opclass = _opclass(family, ops)
        if _served(table.indexes, column, family, ops):
            continue
        extension = "pg_trgm" if family == "trgm" and "pg_trgm" not in extensions else None
        reason = (f"{GIN_REASON}: not costed, not counted in the budget; serves "
                  + ", ".join(sorted(ops)) + f" on {name}.{column}")
        if extension:
            reason += (f"; needs the {extension} extension (CREATE EXTENSION {extension}), "
                       "not installed in this database")
        cand = NotCosted(name, column, "gin", opclass, tuple(sorted(ops)), reason, "",
                         tuple(sorted(queries)), extension)
        out.append(NotCosted(name, column, "gin", opclass, cand.operators, reason,
                             gin_ddl(cand, table), cand.queries, extension))
    return tuple(out)


def _opclass(family: str, ops: set[str]) -> str | None:
    if family == "trgm":
        return "gin_trgm_ops"
    if family == "jsonb" and ops <= {"@>"}:
        return "jsonb_path_ops"  # smaller and faster, but serves @> only
    return None


def _served(indexes: Sequence[Index], column: str, family: str, ops: set[str]) -> bool:
    """An existing valid GIN index on the key with an operator class that serves `ops`."""
    for index in indexes:
        if index.method != "gin" or not index.valid or column not in index.columns:
            continue
        if family == "trgm":
            if "gin_trgm_ops" in index.definition:
                return True
        elif family == "jsonb" and "jsonb_path_ops" in index.definition:
            if ops <= {"@>"}:
                return True
        else:
            return True
    return False


def gin_ddl(proposal: NotCosted, table: Table) -> str:
    """CREATE INDEX CONCURRENTLY ... USING gin (key opclass); a partitioned parent (no
    CONCURRENTLY there) gets a plain build with a comment. CREATE EXTENSION first if needed."""
    cand = Candidate(proposal.table, (proposal.column,), method="gin")
    concurrently = table.kind != "p"
    ddl = sql.Composed([
        sql.SQL("CREATE INDEX "), sql.SQL("CONCURRENTLY ") if concurrently else sql.SQL(""),
        sql.SQL("{} ON {}.{} USING gin ({}{})").format(
            sql.SQL(quote_ident(index_name(cand))), sql.SQL(quote_ident(proposal.table.schema)),
            sql.SQL(quote_ident(proposal.table.name)), index_key(proposal.column),
            sql.SQL(" " + proposal.opclass) if proposal.opclass else sql.SQL("")),
    ]).as_string(None)
    lines = []
    if proposal.extension:
        lines.append(check_roundtrip(f"CREATE EXTENSION IF NOT EXISTS {proposal.extension};"))
    if not concurrently:
        lines.append("-- partitioned table: this build blocks writes on the table while it runs")
    lines.append(check_roundtrip(ddl + ";"))
    return "\n".join(lines)


def gin_note(proposals: Iterable[NotCosted], fingerprint: str) -> str | None:
    """The sentence a query's verdict gets when a not-costed GIN index is proposed for it."""
    labels = sorted(p.label for p in proposals if fingerprint in p.queries)
    if not labels:
        return None
    return f"GIN index proposed, not costed: {GIN_REASON} ({'; '.join(labels)})"
