"""HypoPG on one pinned connection: hypothetical indexes in, planner costs out.

HypoPG state lives in one backend, so this module owns exactly one connection for its whole
life: `hypopg_reset()` on entry and in `finally`. While it owns the connection, every statement
is its own read-only transaction (autocommit with default_transaction_read_only on): one round
trip per EXPLAIN, no lock held between statements, and a failing statement cannot poison the
next one (hypothetical indexes are backend memory and survive a rollback). Hypothetical
indexes are created and dropped in batches, one round trip per configuration change. HypoPG
hands out fake OIDs from a small range, so the session resets and re-creates what it needs
before that range runs out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from .catalog import Catalog
from .ddl import compose_create_index, index_key
from .errors import CostingError, ExtensionMissing
from .model import Candidate, TableName, is_expression, key_columns
from .sizes import btree_size, expression_width

# HypoPG 1.3 fake OIDs: a session holds about 2,500 hypothetical indexes before a reset.
DEFAULT_OID_BUDGET = 2_000
_PREPARED = "indexadvisor_whatif"


class StatementNotCostable(Exception):
    """EXPLAIN rejected the statement itself (its fault, not ours): carries the server's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CandidateRefused(CostingError):
    """The server would not create a hypothetical index: e.g. a function in its expression is
    not IMMUTABLE (``date_trunc`` or ``::date`` on timestamptz depend on the TimeZone)."""

    def __init__(self, candidate: Candidate, reason: str) -> None:
        super().__init__(f"HypoPG refused {candidate.label}: {reason}")
        self.candidate = candidate
        self.reason = reason


@dataclass(frozen=True)
class Plan:
    """What one EXPLAIN said: the total cost and which indexes the plan reads."""

    cost: float
    rows: float
    index_names: tuple[str, ...]  # every "Index Name" in the plan, hypothetical ones included
    plan: dict[str, Any]

    @property
    def modified_rows(self) -> float:
        """Rows an INSERT/UPDATE/DELETE writes per execution (its input's estimate)."""
        if self.plan.get("Node Type") != "ModifyTable":
            return 0.0
        return float(sum(child.get("Plan Rows", 0.0) for child in self.plan.get("Plans", ())))


def walk_index_names(node: dict[str, Any]) -> Iterator[str]:
    """Every index a plan tree reads, from the JSON (never from the text form)."""
    name = node.get("Index Name")
    if name:
        yield name
    for child in node.get("Plans", ()):
        yield from walk_index_names(child)


class WhatIf:
    """A HypoPG session: create, drop and cost hypothetical indexes on one connection."""

    def __init__(self, conn: psycopg.Connection, catalog: Catalog, *,
                 oid_budget: int = DEFAULT_OID_BUDGET) -> None:
        if catalog.hypopg_version is None:
            hint = (
                "run CREATE EXTENSION hypopg in the target database (it only adds functions), "
                "or pass --create-extension"
                if catalog.hypopg_available
                else "install HypoPG on the server (Debian/Ubuntu: postgresql-"
                f"{catalog.server_version_num // 10000}-hypopg; Amazon RDS/Aurora: available "
                "as an extension), or omit --dsn to use a sandbox"
            )
            raise ExtensionMissing("HypoPG is not installed in the target database", hint=hint)
        self.conn = conn
        self.catalog = catalog
        self.oid_budget = oid_budget
        self.explain_calls = 0
        self.resets = 0
        self._created = 0
        self._live: dict[Candidate, tuple[int, ...]] = {}
        self._names: dict[str, Candidate] = {}
        self._sizes: dict[Candidate, int] = {}
        self._generic_plan = catalog.server_version_num >= 160000
        self._prepared_dirty = False

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> WhatIf:
        self.conn.rollback()
        self._autocommit = self.conn.autocommit
        self.conn.autocommit = True
        if self.conn.read_only:
            self.conn.execute("SET default_transaction_read_only = on")
        self._reset()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.conn.closed:
                self.conn.rollback()
                self._reset()
                if self.conn.read_only:
                    self.conn.execute("RESET default_transaction_read_only")
                self.conn.autocommit = self._autocommit
        except psycopg.Error:
            pass

    def _reset(self) -> None:
        self.conn.execute("SELECT hypopg_reset()")
        self._live.clear()
        self._created = 0
        self.resets += 1

    # -- hypothetical indexes --------------------------------------------------------------
    def _targets(self, candidate: Candidate) -> list[TableName]:
        """Where the hypothetical index goes: the table, or each leaf of a partitioned parent."""
        table = self.catalog.table(candidate.table)
        if table is not None and table.kind == "p":
            return list(table.partitions)
        return [candidate.table]

    def _create(self, candidates: Sequence[Candidate]) -> None:
        """Create hypothetical indexes for `candidates` (one per leaf of a partitioned parent),
        one round trip for all of them. If the server refuses one, raise CandidateRefused
        with its reason and leave nothing of it behind."""
        ddls: list[str] = []
        owners: list[Candidate] = []
        for cand in candidates:
            for target in self._targets(cand):
                ddls.append(compose_create_index(cand, table=target).as_string(self.conn))
                owners.append(cand)
        if not ddls:
            return
        try:
            rows = self.conn.execute(
                "SELECT h.indexrelid, h.indexname FROM unnest(%s::text[]) WITH ORDINALITY"
                " AS d(ddl, n), LATERAL hypopg_create_index(d.ddl) AS h ORDER BY d.n",
                (ddls,)).fetchall()
        except psycopg.OperationalError as exc:
            raise CostingError(f"lost the database connection: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            self._drop_untracked()  # HypoPG's indexes are backend memory: no rollback
            if len(candidates) == 1:
                reason = _first_line(exc).removeprefix("hypopg: ")
                raise CandidateRefused(candidates[0], reason) from None
            for cand in candidates:  # find the one refused
                self._create([cand])
            return
        oids: dict[Candidate, list[int]] = {}
        for cand, (oid, name) in zip(owners, rows, strict=True):
            oids.setdefault(cand, []).append(int(oid))
            self._names[name] = cand
        for cand, created in oids.items():
            self._live[cand] = tuple(created)
        self._created += len(rows)

    def _drop_untracked(self) -> None:
        """Drop hypothetical indexes a failed batch created before it failed."""
        tracked = {oid for oids in self._live.values() for oid in oids}
        rows = self.conn.execute("SELECT indexrelid FROM hypopg_list_indexes").fetchall()
        self._drop([int(r[0]) for r in rows if int(r[0]) not in tracked])

    def refused(self, candidates: Iterable[Candidate]) -> dict[Candidate, str]:
        """The candidates the server will not create, each with its reason.

        Only an expression key can be refused for what it is (a function that is not
        IMMUTABLE, a type without a btree operator class), so each distinct expression key is
        tried once on its own, and every candidate holding a refused key is refused with it.
        No hypothetical index is live afterwards.
        """
        keys = sorted({(c.table, k) for c in candidates for k in c.columns if is_expression(k)})
        bad: dict[tuple[TableName, str], str] = {}
        self.use([])
        for table, key in keys:
            try:
                self.use([Candidate(table, (key,))])
            except CandidateRefused as exc:
                bad[(table, key)] = exc.reason
        self.use([])
        return {c: bad[(c.table, k)] for c in candidates for k in c.columns
                if (c.table, k) in bad}

    def _drop(self, oids: Sequence[int]) -> None:
        if oids:
            self.conn.execute("SELECT hypopg_drop_index(o) FROM unnest(%s::oid[]) AS o",
                              (list(oids),))

    def use(self, config: Iterable[Candidate]) -> None:
        """Make exactly `config` the set of live hypothetical indexes."""
        wanted = set(config)
        stale = [c for c in self._live if c not in wanted]
        self._drop([oid for cand in stale for oid in self._live.pop(cand)])
        missing = sorted(c for c in wanted if c not in self._live)
        needed = sum(len(self._targets(c)) for c in missing)
        if self._created + needed > self.oid_budget:
            keep = sorted(self._live)
            self._reset()
            missing = sorted(set(missing) | set(keep))
        self._create(missing)

    def size(self, candidate: Candidate) -> int:
        """Estimated size in bytes (summed over the leaves of a partitioned parent)."""
        if candidate not in self._sizes:
            fresh = candidate not in self._live
            if fresh:
                self.use([*self._live, candidate])
            row = self.conn.execute(
                "SELECT coalesce(sum(hypopg_relation_size(o)), 0)::bigint"
                " FROM unnest(%s::oid[]) AS o", (list(self._live[candidate]),)).fetchone()
            total = int(row[0]) if row else 0
            if any(is_expression(k) for k in candidate.columns):
                total = self._expression_index_size(candidate) or total
            self._sizes[candidate] = total
        return self._sizes[candidate]

    def _expression_index_size(self, candidate: Candidate) -> int | None:
        """HypoPG's btree formula with better key widths (see `sizes`); None if unknown."""
        table = self.catalog.table(candidate.table)
        if table is None:
            return None

        def column_width(name: str) -> int:
            column = table.column(name)
            return column.stats.avg_width if column and column.stats else 0

        widths = []
        for key in (*candidate.columns, *candidate.include):
            if not is_expression(key):
                widths.append(column_width(key))
                continue
            query = sql.SQL("SELECT {} FROM {}.{}").format(
                index_key(key), sql.Identifier(table.name.schema), sql.Identifier(table.name.name))
            try:
                planned = int(self.explain(query.as_string(self.conn)).plan.get("Plan Width", 0))
            except StatementNotCostable:
                return None
            widths.append(expression_width(planned, [column_width(c) for c in key_columns(key)]))
        return btree_size(table.rows, widths)

    def candidate_for(self, index_name: str) -> Candidate | None:
        """The candidate behind a hypothetical index name seen in a plan, if any."""
        return self._names.get(index_name)

    # -- EXPLAIN ---------------------------------------------------------------------------
    def explain(self, text: str, params: Sequence[str | None] | None = None,
                param_count: int = 0) -> Plan:
        """EXPLAIN (FORMAT JSON) under the live hypothetical indexes.

        `params` are real captured values (a custom plan); with `param_count` and no values
        the statement gets a generic plan (GENERIC_PLAN on 16+, PREPARE elsewhere).
        """
        self.explain_calls += 1
        try:
            if params is not None and len(params) > 0:
                with self.conn.transaction():
                    raw = self._explain_prepared(text, list(params), custom=True)
            elif param_count > 0 and self._generic_plan:
                raw = self.conn.execute(
                    sql.SQL("EXPLAIN (GENERIC_PLAN, FORMAT JSON) ") + sql.SQL(text)
                ).fetchone()
            elif param_count > 0:
                with self.conn.transaction():
                    raw = self._explain_prepared(text, [None] * param_count, custom=False)
            else:
                raw = self.conn.execute(
                    sql.SQL("EXPLAIN (FORMAT JSON) ") + sql.SQL(text)).fetchone()
        except (psycopg.errors.SyntaxError, psycopg.errors.UndefinedTable,
                psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedFunction,
                psycopg.errors.DatatypeMismatch, psycopg.errors.InvalidTextRepresentation,
                psycopg.errors.IndeterminateDatatype, psycopg.errors.AmbiguousColumn,
                psycopg.errors.InsufficientPrivilege, psycopg.errors.FeatureNotSupported,
                psycopg.errors.QueryCanceled, psycopg.errors.ReadOnlySqlTransaction,
                psycopg.errors.DataException, psycopg.errors.UndefinedObject,
                psycopg.errors.WrongObjectType, psycopg.errors.GroupingError,
                psycopg.errors.InvalidColumnReference, psycopg.errors.AmbiguousFunction,
                psycopg.errors.UndefinedParameter, psycopg.errors.InvalidParameterValue,
                ) as exc:
            raise StatementNotCostable(_first_line(exc)) from None
        except psycopg.OperationalError as exc:
            raise CostingError(f"lost the database connection: {_first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StatementNotCostable(_first_line(exc)) from None
        assert raw is not None
        doc = raw[0] if not isinstance(raw[0], str) else json.loads(raw[0])
        top = doc[0]["Plan"]
        return Plan(
            cost=float(top["Total Cost"]),
            rows=float(top.get("Plan Rows", 0.0)),
            index_names=tuple(walk_index_names(top)),
            plan=top,
        )

    def _explain_prepared(self, text: str, values: list[str | None], *, custom: bool) -> Any:
        """PREPARE + EXPLAIN EXECUTE. Prepared statements outlive a rolled-back transaction,
        so a fresh name is used each time and any left by a failed call are dropped first."""
        if self._prepared_dirty:
            self.conn.execute("DEALLOCATE ALL")
            self._prepared_dirty = False
        mode = "force_custom_plan" if custom else "force_generic_plan"
        self.conn.execute(sql.SQL("SET LOCAL plan_cache_mode = {}").format(sql.Literal(mode)))
        name = sql.Identifier(f"{_PREPARED}_{self.explain_calls}")
        self._prepared_dirty = True
        self.conn.execute(sql.SQL("PREPARE {} AS ").format(name) + sql.SQL(text))
        placeholders = sql.SQL(", ").join(sql.Literal(v) for v in values)
        row = self.conn.execute(
            sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE {} ({})").format(name, placeholders)
        ).fetchone()
        self.conn.execute(sql.SQL("DEALLOCATE {}").format(name))
        self._prepared_dirty = False
        return row


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
