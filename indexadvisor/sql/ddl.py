"""DDL text, composed from quoted identifiers and canonical keys, and checked by re-parsing.

Nothing is formatted from user text: identifiers go through `quote_ident` (PostgreSQL's
quoting rules), an expression key or predicate must be the canonical text pglast printed
itself, and every statement is re-parsed and compared with its own re-print
(`check_roundtrip`) before anyone sees it.

>>> from indexadvisor.model import Candidate, TableName
>>> c = Candidate(TableName("public", "Order Lines"), ("user", "Created At"), ("total",))
>>> index_name(c)
'order_lines_user_created_at_incl_total_idx'
>>> for part in create_index(c, index_name(c), concurrently=True).split(" ON "):
...     print(part)
CREATE INDEX CONCURRENTLY order_lines_user_created_at_incl_total_idx
public."Order Lines" USING btree ("user", "Created At") INCLUDE (total)
>>> create_index(Candidate(TableName("public", "t"), ("a", "b"), order=("", "DESC")))
'CREATE INDEX ON public.t USING btree (a, b DESC)'
"""

from __future__ import annotations

import hashlib
import json
import re

import pglast
from pglast.parser import parse_sql_json
from pglast.stream import RawStream

from ..model.candidate import Candidate
from ..model.errors import AdvisorError
from ..model.names import TableName, is_expression, quote_ident
from .expressions import NotAnExpression, canonical_expression

NAMEDATALEN = 63
_METHODS = frozenset({"btree", "hash", "brin", "gin", "gist", "spgist", "bloom"})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def identity(candidate: Candidate) -> str:
    """Everything that tells two candidates apart, as one string (for name digests).

    >>> identity(Candidate(TableName("public", "t"), ("a",), method="brin"))
    'public.t(a) USING brin'
    """
    return f"{candidate.label} USING {candidate.method}"


def index_name(candidate: Candidate, suffix: str = "idx", *, hashed: bool = False) -> str:
    """A readable index name within PostgreSQL's 63-byte limit: the table, the keys (with their
    order when not the default), the method when not btree, the INCLUDE columns, the predicate.

    Two candidates differ in some part of the name, so a set of recommendations gets distinct
    names; where the name must be cut to fit, or `hashed` is asked for (names made lossy by
    slugging, see `candidates.ddl.index_names`), a digest of the whole definition ends it.

    >>> t = TableName("public", "lineitem")
    >>> index_name(Candidate(t, ("l_shipdate",), ("l_discount", "l_extendedprice", "l_suppkey")))
    'lineitem_l_shipdate_incl_l_discount_l_extendedprice_4e7e3e_idx'
    >>> index_name(Candidate(t, ("l_orderkey", "l_linenumber"), order=("", "DESC")))
    'lineitem_l_orderkey_l_linenumber_desc_idx'
    """
    parts = [_slug(candidate.table.name)]
    for key, order in zip(candidate.columns, candidate.orders, strict=True):
        parts.append(_slug(key) + ("_" + _slug(order) if order else ""))
    if candidate.method != "btree":
        parts.append(candidate.method)  # a brin and a btree on one column need two names
    if candidate.include:
        parts += ["incl", *(_slug(c) for c in candidate.include)]
    if candidate.where:
        digest = hashlib.sha1(candidate.where.encode()).hexdigest()[:4]
        parts.append(_slug(candidate.where)[:20].rstrip("_") + "_" + digest)
    base = "_".join(parts)
    room = NAMEDATALEN - len(suffix) - 1
    if len(base) > room or hashed:
        digest = hashlib.sha1(identity(candidate).encode()).hexdigest()[:6]
        base = base[:room - len(digest) - 1].rstrip("_") + "_" + digest
    return f"{base}_{suffix}"


def qualified(table: TableName) -> str:
    """``schema.name``, each part quoted where needed."""
    return f"{quote_ident(table.schema)}.{quote_ident(table.name)}"


def index_key(key: str) -> str:
    """An index key: a quoted column, or an expression key exactly as canonicalized.

    An expression key is only ever pglast's own deparse (`expressions`); it is
    re-canonicalized here and must come back unchanged, so no other text reaches the DDL.

    >>> index_key("(lower(email))"), index_key("Order Id")
    ('(lower(email))', '"Order Id"')
    """
    if not is_expression(key):
        return quote_ident(key)
    try:
        same = canonical_expression(key) == key
    except NotAnExpression:
        same = False
    if not same:
        raise AdvisorError(f"internal error: index key {key!r} is not a canonical expression")
    return key


def create_index(candidate: Candidate, name: str | None = None,
                 table: TableName | None = None, *, concurrently: bool = False,
                 only: bool = False, opclass: str | None = None) -> str:
    """CREATE INDEX for a candidate (no trailing semicolon), from quoted identifiers and
    canonical keys. `table` overrides the candidate's own (a parent's index built on one of
    its leaves); `opclass` follows every key (a GIN's operator class)."""
    if candidate.method not in _METHODS:
        raise AdvisorError(f"internal error: unknown access method {candidate.method!r}")
    keys = [index_key(c) + (f" {quote_ident(opclass)}" if opclass else "")
            + (f" {order}" if order else "")
            for c, order in zip(candidate.columns, candidate.orders, strict=True)]
    words = ["CREATE INDEX"]
    if concurrently:
        words.append("CONCURRENTLY")
    if name:
        words.append(quote_ident(name))
    words.append("ON")
    if only:
        words.append("ONLY")
    words += [qualified(table or candidate.table), "USING", candidate.method,
              "(" + ", ".join(keys) + ")"]
    if candidate.include:
        words.append("INCLUDE (" + ", ".join(quote_ident(c) for c in candidate.include) + ")")
    if candidate.where:
        words += ["WHERE", candidate.where]
    return " ".join(words)


def attach_partition(parent_index: str, schema: str, leaf_index: TableName) -> str:
    """ALTER INDEX ... ATTACH PARTITION, no trailing semicolon.

    >>> attach_partition("events_kind_idx", "public", TableName("public", "events_2024_kind_idx"))
    'ALTER INDEX public.events_kind_idx ATTACH PARTITION public.events_2024_kind_idx'
    """
    return (f"ALTER INDEX {qualified(TableName(schema, parent_index))} ATTACH PARTITION "
            f"{qualified(leaf_index)}")


def drop_index_ddl(schema: str, name: str, *, concurrently: bool = True) -> str:
    """DROP INDEX CONCURRENTLY for an existing index; `concurrently=False` for an index on a
    partitioned table, where PostgreSQL refuses CONCURRENTLY.

    >>> drop_index_ddl("public", "Orders Idx")
    'DROP INDEX CONCURRENTLY IF EXISTS public."Orders Idx";'
    >>> drop_index_ddl("public", "events_kind_idx", concurrently=False)
    'DROP INDEX IF EXISTS public.events_kind_idx;'
    """
    how = "CONCURRENTLY " if concurrently else ""
    return check_roundtrip(f"DROP INDEX {how}IF EXISTS {qualified(TableName(schema, name))};")


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
