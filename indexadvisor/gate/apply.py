"""Running a migration against the gate's target, with index DDL simulated where it can be.

- ``CREATE INDEX`` becomes a hypothetical index (HypoPG) that stays live for the rest of the
  check. HypoPG cannot simulate every index (GIN, say): in the sandbox such an index is built
  for real; on a staging database it is left out, and the step says so. An index a later
  statement of the migration refers to (ALTER INDEX, ADD CONSTRAINT ... USING INDEX) is built
  for real as well.
- ``DROP INDEX``: ``hypopg_hide_index`` on HypoPG 1.4+; else a real DROP INDEX, in the sandbox
  (ours) or inside the staging transaction (always rolled back).
- anything else runs as written: in the sandbox for real, on staging inside the one
  transaction that the check rolls back at the end, each statement in a savepoint.
- BEGIN/COMMIT are the gate's business and are skipped; so are VACUUM and ANALYZE where they
  would replace imported statistics (or cannot run in a transaction).

A statement the server rejects stops the check with its file, line and the server's words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from ..catalog import Catalog
from ..catalog.values import Index
from ..drops.price import hide_supported
from ..explain.errors import StatementNotCostable
from ..explain.hypo import HypoSession
from ..model.errors import first_line
from ..model.gate import Location, MigrationStep
from .migration import MigrationError, MigrationStatement
from .rules import CreatedIndex, DroppedIndex


@dataclass
class Applied:
    """What a migration did, as far as plans can tell."""

    steps: list[MigrationStep] = field(default_factory=list)
    created: list[CreatedIndex] = field(default_factory=list)
    dropped: list[DroppedIndex] = field(default_factory=list)
    hidden: list[int] = field(default_factory=list)  # oids hidden with hypopg_hide_index
    executed: int = 0  # statements run for real


def _unquoted(name: str) -> tuple[str | None, str]:
    """(schema, name) of a name as `migration` writes it (quoted where needed)."""
    parts = _split_name(name)
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[-1])


def _split_name(name: str) -> list[str]:
    out, current, quoted, i = [], "", False, 0
    while i < len(name):
        ch = name[i]
        if ch == '"':
            if quoted and i + 1 < len(name) and name[i + 1] == '"':
                current += '"'
                i += 1
            else:
                quoted = not quoted
        elif ch == "." and not quoted:
            out.append(current)
            current = ""
        else:
            current += ch
        i += 1
    out.append(current)
    return out


def default_index_name(stmt: MigrationStatement) -> str:
    """A name for an unnamed CREATE INDEX (PostgreSQL would pick ``table_column_idx``)."""
    table = _unquoted(stmt.table or "t")[1]
    return f"{table}_idx@{stmt.location}"


class MigrationRunner:
    """Applies migration statements in order on one connection (`session.conn`)."""

    def __init__(self, session: HypoSession, catalog: Catalog, *, staging: bool,
                 keep_statistics: bool = False,
                 say: Callable[[str], None] | None = None) -> None:
        self.session = session
        self.conn = session.conn
        self.catalog = catalog
        self.staging = staging
        self.keep_statistics = keep_statistics  # imported stats: never VACUUM/ANALYZE
        self.hide = hide_supported(catalog.hypopg_version)
        self.say = say or (lambda _m: None)
        self.applied = Applied()
        self._indexes = {(i.schema, i.name): i for t in catalog.tables.values()
                         for i in t.indexes}

    def run(self, statements: Sequence[MigrationStatement]) -> Applied:
        for n, stmt in enumerate(statements):
            later = statements[n + 1:]
            action = self._one(stmt, later)
            self.applied.steps.append(MigrationStep(stmt.location, stmt.short, action))
        return self.applied

    # -- one statement -------------------------------------------------------------------------
    def _one(self, stmt: MigrationStatement, later: Sequence[MigrationStatement]) -> str:
        if stmt.kind == "transaction":
            return "skipped: the gate runs the migration in its own transaction"
        if stmt.kind == "vacuum":
            if self.staging:
                return "skipped: VACUUM/ANALYZE do not run on staging"
            if self.keep_statistics:
                return "skipped: it would replace the imported statistics"
            return self._execute(stmt)
        if stmt.kind == "create_index":
            return self._create_index(stmt, later)
        if stmt.kind == "drop_index":
            return self._drop_index(stmt)
        return self._execute(stmt)

    def _execute(self, stmt: MigrationStatement, text: str | None = None) -> str:
        query = (text or stmt.text).encode()  # the user's migration, as written
        try:
            if self.staging:
                with self.conn.transaction():
                    self.conn.execute(query)
            else:
                self.conn.execute(query)
        except pg_errors.LockNotAvailable as exc:
            raise MigrationError(
                f"{stmt.location}: could not take the lock in time: {first_line(exc)}",
                hint="staging: something holds a lock on the table; the gate waits at most "
                "lock_timeout (--lock-timeout) and rolls everything back") from None
        except psycopg.OperationalError as exc:
            if isinstance(exc, pg_errors.QueryCanceled):
                raise MigrationError(f"{stmt.location}: {first_line(exc)}",
                                     hint="raise --statement-timeout") from None
            raise MigrationError(f"{stmt.location}: lost the connection: {first_line(exc)}") \
                from None
        except psycopg.Error as exc:
            raise MigrationError(f"{stmt.location}: the server rejects it: {first_line(exc)}",
                                 hint=f"statement: {stmt.short}") from None
        self.applied.executed += 1
        return "executed" + (" (rolled back at the end)" if self.staging else "")

    def _create_index(self, stmt: MigrationStatement,
                      later: Sequence[MigrationStatement]) -> str:
        name = _unquoted(stmt.index)[1] if stmt.index else None
        display = name or default_index_name(stmt)
        table = _unquoted(stmt.table or "")[1]
        named_later = name is not None and any(
            name in s.mentions for s in later if s.kind != "drop_index")
        reason = "a later statement of the migration refers to it"
        if not named_later:
            try:
                self.session.pin(stmt.text, display)
            except StatementNotCostable as exc:
                reason = f"HypoPG cannot simulate it ({exc.message})"
            else:
                self.applied.created.append(CreatedIndex(display, table, stmt.location,
                                                         stmt.text))
                return "hypothetical index (HypoPG)"
        if self.staging and not named_later:
            self.applied.created.append(CreatedIndex(display, table, stmt.location, stmt.text,
                                                     simulated=False))
            return f"left out: {reason}; plans assume it is absent"
        text = stmt.text
        if self.staging and stmt.concurrently:
            text = _without_concurrently(text)
        self._execute(stmt, text)
        self.applied.created.append(CreatedIndex(display, table, stmt.location, stmt.short,
                                                 simulated=False))
        return f"built for real: {reason}"

    def _find(self, name: str) -> Index | None:
        schema, bare = _unquoted(name)
        for path_schema in ([schema] if schema else self.catalog.search_path):
            found = self._indexes.get((path_schema, bare))
            if found is not None:
                return found
        return None

    def _drop_index(self, stmt: MigrationStatement) -> str:
        actions = []
        for name in stmt.drops:
            bare = _unquoted(name)[1]
            if bare in self.session.pinned:
                self.session.unpin(bare)
                self.applied.created = [c for c in self.applied.created if c.name != bare]
                actions.append(f"{bare}: hypothetical index dropped")
                continue
            index = self._find(name)
            if index is None:
                if stmt.if_exists:
                    actions.append(f"{bare}: does not exist, skipped")
                    continue
                raise MigrationError(f"{stmt.location}: index {name} does not exist",
                                     hint="the migration would fail here")
            self.applied.dropped.append(DroppedIndex(index.name, index.table.name, stmt.location,
                                                     index.definition))
            if self.hide and index.oid is not None:
                self._hide(stmt, index.oid)
                actions.append(f"{bare}: hidden (hypopg_hide_index)")
                continue
            drop = sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(index.schema),
                                                      sql.Identifier(index.name))
            self._execute(stmt, drop.as_string(self.conn))
            actions.append(f"{bare}: dropped" + (" (rolled back at the end)" if self.staging
                                                 else ""))
        return "; ".join(actions)

    def _hide(self, stmt: MigrationStatement, oid: int) -> None:
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT hypopg_hide_index(%s)", (oid,))
        except psycopg.Error as exc:
            raise MigrationError(f"{stmt.location}: hypopg_hide_index failed: "
                                 f"{first_line(exc)}") from None
        self.applied.hidden.append(oid)

    def unhide(self) -> None:
        """Show every index hidden again (backend state; also gone with the connection)."""
        if self.applied.hidden and not self.conn.closed:
            try:
                with self.conn.transaction():
                    self.conn.execute("SELECT hypopg_unhide_all_indexes()")
            except psycopg.Error:
                pass


def _without_concurrently(text: str) -> str:
    """CREATE INDEX CONCURRENTLY cannot run in a transaction block: the staging transaction
    builds it plainly (it is rolled back anyway)."""
    import pglast
    from pglast.stream import RawStream

    tree = pglast.parse_sql(text)
    stmt = tree[0].stmt
    stmt.concurrent = False  # type: ignore[union-attr]
    return str(RawStream()(tree))


__all__ = ["Applied", "Location", "MigrationRunner", "default_index_name"]
