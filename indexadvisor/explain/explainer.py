"""EXPLAIN for any statement, with one error mapping: the layer the HypoPG session, the CI gate
and validation all plan through.

A statement is planned one of three ways:

- no parameters: ``EXPLAIN (FORMAT JSON) <text>``;
- ``$n`` parameters with values (captured, or typical ones from pg_stats): a custom plan, by
  ``EXPLAIN`` with the values bound through the extended protocol (one round trip: the server
  plans with bound values as constants, as a custom plan of a prepared statement does; each
  value is sent untyped, so it takes the type its place in the statement gives it, as in
  ``PREPARE`` without types);
- ``$n`` parameters without values: a generic plan, ``EXPLAIN (GENERIC_PLAN)`` on PostgreSQL
  16+, else ``PREPARE`` with ``force_generic_plan`` and NULLs (a generic plan ignores them).

``analyze=True`` runs the statement (EXPLAIN ANALYZE, with BUFFERS) inside a transaction that is
always rolled back. Only validation asks for it, and only in a sandbox or where the user named
the database for it.

While a session is open (``with Explainer(conn):``) the connection is in autocommit with every
transaction read-only when the connection is: one round trip per EXPLAIN, no lock held between
statements, and a failing statement cannot poison the next one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.types.string import TextLoader

from ..model import Plan
from ..model.errors import CostingError, first_line
from .errors import StatementNotCostable

_PREPARED = "indexadvisor_explain"

#: Errors that are the statement's own fault: EXPLAIN says why, the run goes on.
STATEMENT_ERRORS: tuple[type[psycopg.Error], ...] = (
    pg_errors.SyntaxError, pg_errors.UndefinedTable, pg_errors.UndefinedColumn,
    pg_errors.UndefinedFunction, pg_errors.DatatypeMismatch,
    pg_errors.InvalidTextRepresentation, pg_errors.IndeterminateDatatype,
    pg_errors.AmbiguousColumn, pg_errors.InsufficientPrivilege,
    pg_errors.FeatureNotSupported, pg_errors.QueryCanceled, pg_errors.ReadOnlySqlTransaction,
    pg_errors.DataException, pg_errors.UndefinedObject, pg_errors.WrongObjectType,
    pg_errors.GroupingError, pg_errors.InvalidColumnReference, pg_errors.AmbiguousFunction,
    pg_errors.UndefinedParameter, pg_errors.InvalidParameterValue,
    pg_errors.ProtocolViolation,  # values bound that do not fit the statement's $n
)


def explain_error(exc: psycopg.Error) -> Exception:
    """The one mapping of a failed EXPLAIN: a lost connection is ours to report
    (CostingError); anything else the server said about the statement is its verdict."""
    if isinstance(exc, psycopg.OperationalError) and not isinstance(exc, STATEMENT_ERRORS):
        return CostingError(f"lost the database connection: {first_line(exc)}")
    return StatementNotCostable(first_line(exc), exc.sqlstate)


class Explainer:
    """Plans statements on one connection; counts its EXPLAINs."""

    def __init__(self, conn: psycopg.Connection, server_version_num: int) -> None:
        self.conn = conn
        self.server_version_num = server_version_num
        self.calls = 0
        self._generic_plan = server_version_num >= 160000
        self._prepared_dirty = False
        self._autocommit: bool | None = None
        self._cursor: psycopg.RawCursor[Any] | None = None

    def _execute(self, query: sql.Composed, values: list[str | None] | None = None) -> Any:
        """Run one statement on a cursor that returns json as the server's text. `values`
        are bound to its ``$n`` as they are (str as type unknown, None as NULL), in one
        Parse/Bind/Execute never prepared by name."""
        if self._cursor is None or self._cursor.closed:
            self._cursor = psycopg.RawCursor(self.conn)
            self._cursor.adapters.register_loader("json", TextLoader)
        if values is None:
            return self._cursor.execute(query)
        return self._cursor.execute(query, values, prepare=False)

    # -- session ---------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.conn.rollback()
        self._autocommit = self.conn.autocommit
        self.conn.autocommit = True
        if self.conn.read_only:
            self.conn.execute("SET default_transaction_read_only = on")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self.conn.closed and self._autocommit is not None:
                self.conn.rollback()
                if self.conn.read_only:
                    self.conn.execute("RESET default_transaction_read_only")
                self.conn.autocommit = self._autocommit
        except psycopg.Error:
            pass  # the connection is going away; its backend state goes with it

    @property
    def in_block(self) -> bool:
        """Whether a transaction block of the caller's is open on the connection (the CI
        gate's staging mode plans inside the migration's transaction): every EXPLAIN then
        runs in a savepoint."""
        return self.conn.info.transaction_status == TransactionStatus.INTRANS

    # -- EXPLAIN ---------------------------------------------------------------------------
    def explain(self, text: str, params: Sequence[str | None] | None = None,
                param_count: int = 0, *, analyze: bool = False) -> Plan:
        """The plan of `text` (EXPLAIN (FORMAT JSON); with `analyze`, run and measured, then
        rolled back). `params` are values for its ``$n`` (a custom plan); with `param_count`
        and no values the statement gets a generic plan.

        Raises StatementNotCostable with the server's words when the statement is at fault,
        CostingError when the connection is lost.
        """
        return Plan.from_explain(json.loads(self.explain_json(text, params, param_count,
                                                              analyze=analyze)))

    def explain_json(self, text: str, params: Sequence[str | None] | None = None,
                     param_count: int = 0, *, analyze: bool = False) -> str:
        """`explain`, as the JSON text the server sent (cheap to keep; parse when needed)."""
        self.calls += 1
        options = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
        try:
            if analyze:
                with self.conn.transaction(force_rollback=True):
                    raw = self._explain(text, params, param_count, options)
            elif self.in_block:  # inside a caller's transaction: a failure must not end it
                with self.conn.transaction():
                    raw = self._explain(text, params, param_count, options)
            else:
                raw = self._explain(text, params, param_count, options)
        except psycopg.Error as exc:
            raise explain_error(exc) from None
        assert raw is not None
        return raw[0] if isinstance(raw[0], str) else json.dumps(raw[0])

    def _explain(self, text: str, params: Sequence[str | None] | None, param_count: int,
                 options: str) -> Any:
        plain = sql.SQL("EXPLAIN ({}) ").format(sql.SQL(options)) + sql.SQL(text)
        if params is not None and len(params) > 0:
            if param_count and len(params) != param_count:
                raise StatementNotCostable(
                    f"{len(params)} parameter values for {param_count} parameters")
            return self._execute(plain, list(params)).fetchone()
        if param_count > 0 and self._generic_plan and "ANALYZE" not in options:
            return self._execute(
                sql.SQL("EXPLAIN (GENERIC_PLAN, {}) ").format(sql.SQL(options)) + sql.SQL(text)
            ).fetchone()
        if param_count > 0:
            with self.conn.transaction():
                return self._prepared(text, [None] * param_count, options)
        return self._execute(plain).fetchone()

    def _prepared(self, text: str, values: list[str | None], options: str) -> Any:
        """PREPARE + EXPLAIN EXECUTE of a generic plan (PostgreSQL before 16). Prepared
        statements outlive a rolled-back transaction, so a fresh name is used each time and
        any left by a failed call are dropped first."""
        if self._prepared_dirty:
            self.conn.execute("DEALLOCATE ALL")
            self._prepared_dirty = False
        self.conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        name = sql.Identifier(f"{_PREPARED}_{self.calls}")
        self._prepared_dirty = True
        self.conn.execute(sql.SQL("PREPARE {} AS ").format(name) + sql.SQL(text))
        placeholders = sql.SQL(", ").join(sql.Literal(v) for v in values)
        row = self._execute(
            sql.SQL("EXPLAIN ({}) EXECUTE {} ({})").format(sql.SQL(options), name, placeholders)
        ).fetchone()
        self.conn.execute(sql.SQL("DEALLOCATE {}").format(name))
        self._prepared_dirty = False
        return row
