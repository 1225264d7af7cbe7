"""Building the recommended indexes for real, inside the round's transaction.

The transaction is never committed: the indexes exist only for it and vanish when it ends,
whatever ends it (rollback, an error, Ctrl-C, a killed process: the server aborts the
transaction of a connection that went away). Other sessions never see them, so the what-if
costing on its own connection stays true to the database as it is. While it is open, writes to
the indexed tables wait (CREATE INDEX holds a SHARE lock until the transaction ends).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ..model import BuiltIndex, Candidate
from ..model.errors import first_line
from ..sql.ddl import create_index, index_name


@dataclass(frozen=True)
class Build:
    """What building one candidate gave: the index, or why it could not be built."""

    candidate: Candidate
    index: BuiltIndex | None
    names: tuple[str, ...] = ()  # names plans show for it (its partitions' on a parent)
    error: str | None = None


def _free_name(conn: psycopg.Connection, candidate: Candidate) -> str:
    """Our DDL's name for it, or a variant when an index of that name exists already."""
    base = index_name(candidate)
    name = base
    for n in range(2, 100):
        row = conn.execute("SELECT to_regclass(%s)", [
            sql.Identifier(candidate.table.schema, name).as_string(conn)]).fetchone()
        if row is None or row[0] is None:
            return name
        name = f"{base[:56]}_v{n}"
    return name


def build(conn: psycopg.Connection, candidate: Candidate, estimated_bytes: int) -> Build:
    """CREATE INDEX (in a savepoint), then its real size and the names plans show for it."""
    name = _free_name(conn, candidate)
    started = time.perf_counter()
    try:
        with conn.transaction():
            conn.execute(sql.SQL(create_index(candidate, name)))  # composed: sql/ddl.py
    except psycopg.Error as exc:
        return Build(candidate, None, error=first_line(exc))
    seconds = time.perf_counter() - started
    regclass = sql.Identifier(candidate.table.schema, name).as_string(conn)
    row = conn.execute(
        "SELECT coalesce(sum(pg_relation_size(t.relid)), 0)::bigint,"
        " array_agg(c.relname::text ORDER BY c.relname), bool_and(NOT i.indcheckxmin)"
        " FROM (SELECT %s::regclass AS relid UNION SELECT relid FROM pg_partition_tree(%s))"
        " t JOIN pg_class c ON c.oid = t.relid JOIN pg_index i ON i.indexrelid = t.relid",
        [regclass, regclass]).fetchone()
    assert row is not None
    names = tuple(row[1] or (name,))
    index = BuiltIndex(candidate, name, estimated_bytes, int(row[0]), seconds,
                       visible=bool(row[2]))
    return Build(candidate, index, names)


@contextmanager
def hidden(conn: psycopg.Connection, built: Sequence[BuiltIndex]) -> Iterator[None]:
    """The built indexes dropped for the block, then back (a savepoint rolled back: no
    rebuild): how a statement is measured without them once they exist."""
    with conn.transaction(force_rollback=True):
        for index in built:
            conn.execute(sql.SQL("DROP INDEX {}").format(
                sql.Identifier(index.candidate.table.schema, index.name)))
        yield

