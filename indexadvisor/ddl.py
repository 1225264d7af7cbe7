"""DDL a user can run online, composed from identifiers and checked by re-parsing with pglast.

>>> from indexadvisor.model import Candidate, TableName
>>> print(index_name(Candidate(TableName("public", "Order Lines"), ("user", "Created At"))))
order_lines_user_created_at_idx
"""

from __future__ import annotations

import hashlib
import json
import re

import pglast
from pglast.parser import parse_sql_json
from pglast.stream import RawStream
from psycopg import sql

from .catalog import Catalog
from .errors import AdvisorError
from .expressions import NotAnExpression, canonical_expression
from .model import Candidate, TableName, is_expression, quote_ident

NAMEDATALEN = 63


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def index_name(candidate: Candidate, suffix: str = "idx") -> str:
    """A readable index name within PostgreSQL's 63-byte limit."""
    parts = [_slug(candidate.table.name), *(_slug(c) for c in candidate.columns)]
    if candidate.method != "btree":
        parts.append(candidate.method)  # a brin and a btree on one column need two names
    if candidate.include:
        parts.append("incl")
    if candidate.where:
        digest = hashlib.sha1(candidate.where.encode()).hexdigest()[:4]
        parts.append(_slug(candidate.where)[:20].rstrip("_") + "_" + digest)
    base = "_".join(parts)
    room = NAMEDATALEN - len(suffix) - 1
    return f"{base[:room].rstrip('_')}_{suffix}"


def _ident(name: str) -> sql.SQL:
    """An identifier quoted only where PostgreSQL needs it (pglast's rules), for readable DDL;
    every statement built from it is re-parsed by `check_roundtrip` before it is shown."""
    return sql.SQL(quote_ident(name))


def index_key(key: str) -> sql.SQL:
    """An index key: a quoted column, or an expression key exactly as canonicalized.

    An expression key is only ever pglast's own deparse (indexadvisor.expressions); it is
    re-canonicalized here and must come back unchanged, so no other text reaches the DDL.

    >>> index_key("(lower(email))").as_string(None), index_key("Order Id").as_string(None)
    ('(lower(email))', '"Order Id"')
    """
    if not is_expression(key):
        return _ident(key)
    try:
        same = canonical_expression(key) == key
    except NotAnExpression:
        same = False
    if not same:
        raise AdvisorError(f"internal error: index key {key!r} is not a canonical expression")
    return sql.SQL(key)


def compose_create_index(candidate: Candidate, name: str | None = None,
                         table: TableName | None = None, *, concurrently: bool = False,
                         only: bool = False) -> sql.Composed:
    """CREATE INDEX for a candidate, composed from quoted identifiers and canonical
    expression keys (never formatted).

    `table` overrides the candidate's own (a parent's index built on one of its leaves).
    """
    table = table or candidate.table
    parts: list[sql.Composable] = [
        sql.SQL("CREATE INDEX "),
        sql.SQL("CONCURRENTLY ") if concurrently else sql.SQL(""),
        sql.SQL("{} ").format(_ident(name)) if name else sql.SQL(""),
        sql.SQL("ON "),
        sql.SQL("ONLY ") if only else sql.SQL(""),
        sql.SQL("{}.{} USING {} (").format(
            _ident(table.schema), _ident(table.name), sql.SQL(candidate.method)),
        sql.SQL(", ").join(index_key(c) for c in candidate.columns),
        sql.SQL(")"),
    ]
    if candidate.include:
        parts += [sql.SQL(" INCLUDE ("),
                  sql.SQL(", ").join(_ident(c) for c in candidate.include),
                  sql.SQL(")")]
    if candidate.where:
        parts += [sql.SQL(" WHERE "), sql.SQL(candidate.where)]
    return sql.Composed(parts)


def _render(composed: sql.Composable) -> str:
    # Identifiers only: quoting does not depend on a connection's encoding settings.
    return composed.as_string(None)


def create_index_ddl(candidate: Candidate, catalog: Catalog) -> str:
    """The statements to build `candidate` without blocking writes.

    A plain table gets CREATE INDEX CONCURRENTLY. A partitioned parent cannot be indexed
    concurrently, so it gets the online sequence: an invalid index ON ONLY the parent, one
    CONCURRENTLY built index per partition, each attached; the parent's index turns valid
    when the last one is attached.
    """
    name = index_name(candidate)
    table = catalog.table(candidate.table)
    if table is None or table.kind != "p" or not table.partitions:
        return check_roundtrip(
            _render(compose_create_index(candidate, name, concurrently=True)) + ";")
    direct = [leaf for leaf in table.partitions
              if (t := catalog.table(leaf)) is not None and t.parent == candidate.table]
    if len(direct) != len(table.partitions):
        # Multi-level partitioning: each level needs its own ON ONLY step; keep it simple
        # and correct with a blocking build, said so in a comment.
        ddl = _render(compose_create_index(candidate, name))
        return ("-- multi-level partitions: this build blocks writes on the table while it runs\n"
                + check_roundtrip(ddl + ";"))
    first = _render(compose_create_index(candidate, name, only=True))
    builds, attaches = [], []
    for leaf in direct:
        leaf_name = index_name(Candidate(leaf, candidate.columns, candidate.include,
                                         candidate.where, candidate.method))
        builds.append(_render(compose_create_index(candidate, leaf_name, leaf,
                                                   concurrently=True)))
        attaches.append(_render(sql.SQL("ALTER INDEX {}.{} ATTACH PARTITION {}.{}").format(
            _ident(candidate.table.schema), _ident(name), _ident(leaf.schema),
            _ident(leaf_name))))
    lines = [first, *builds, *attaches]
    return "\n".join(check_roundtrip(line + ";") for line in lines)


def drop_index_ddl(schema: str, name: str, *, concurrently: bool = True) -> str:
    """DROP INDEX CONCURRENTLY for an existing index; `concurrently=False` for an index on a
    partitioned table, where PostgreSQL refuses CONCURRENTLY.

    >>> drop_index_ddl("public", "Orders Idx")
    'DROP INDEX CONCURRENTLY IF EXISTS public."Orders Idx";'
    >>> drop_index_ddl("public", "events_kind_idx", concurrently=False)
    'DROP INDEX IF EXISTS public.events_kind_idx;'
    """
    how = "CONCURRENTLY " if concurrently else ""
    return check_roundtrip(
        f"DROP INDEX {how}IF EXISTS {quote_ident(schema)}.{quote_ident(name)};")


def check_roundtrip(ddl: str) -> str:
    """Return `ddl` if pglast parses it and its own re-print parses to the same tree.

    >>> check_roundtrip('CREATE INDEX "Ix" ON public."T t" ("select");')
    'CREATE INDEX "Ix" ON public."T t" ("select");'
    """
    try:
        tree = _tree(ddl)
        again = _tree(RawStream()(pglast.parse_sql(ddl)))
    except pglast.parser.ParseError as exc:
        raise AdvisorError(
            f"internal error: generated DDL does not parse: {ddl!r}: {exc}") from None
    if tree != again:
        raise AdvisorError(f"internal error: generated DDL does not round-trip: {ddl!r}")
    return ddl


_POSITIONS = frozenset({"location", "stmt_len", "stmt_location", "rexpr_list_start",
                        "rexpr_list_end"})


def _tree(text: str) -> object:
    """The parse tree as plain data, without source positions."""

    def clean(node: object) -> object:
        if isinstance(node, dict):
            return {k: clean(v) for k, v in node.items()
                    if k not in _POSITIONS}
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return clean(json.loads(parse_sql_json(text)))
