"""HypoPG on one pinned connection: hypothetical indexes in, planner costs out.

HypoPG state lives in one backend, so a session owns exactly one connection for its whole
life: `hypopg_reset()` on entry and in `finally`. It plans through an `Explainer` on that
connection (every statement its own read-only transaction; hypothetical indexes are backend
memory and survive a rollback). Hypothetical indexes are created and dropped in batches, one
round trip per configuration change. HypoPG hands out fake OIDs from a small range, so the
session resets and re-creates what it needs before that range runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Self

import psycopg

from ..candidates.ddl import leaf_index_name
from ..candidates.sizes import btree_size, expression_width
from ..catalog import Catalog
from ..db.target import hypopg_missing
from ..model import Candidate, Plan, TableName, is_expression
from ..model.errors import CostingError, first_line
from ..sql.ddl import create_index, index_key, index_name, qualified
from ..sql.expressions import key_columns
from .errors import CandidateRefused, StatementNotCostable
from .explainer import Explainer

# HypoPG 1.3 fake OIDs: a session holds about 2,500 hypothetical indexes before a reset.
DEFAULT_OID_BUDGET = 2_000


class HypoSession:
    """A HypoPG session: create, drop and cost hypothetical indexes on one connection."""

    def __init__(self, conn: psycopg.Connection, catalog: Catalog, *,
                 oid_budget: int = DEFAULT_OID_BUDGET) -> None:
        if catalog.hypopg_version is None:
            raise hypopg_missing(catalog.hypopg_available, catalog.server_version_num)
        self.conn = conn
        self.catalog = catalog
        self.oid_budget = oid_budget
        self.explainer = Explainer(conn, catalog.server_version_num)
        self.resets = 0
        self._created = 0
        self._live: dict[Candidate, tuple[int, ...]] = {}
        self._live_on: dict[TableName, set[Candidate]] = {}  # `_live` by table
        self._names: dict[str, Candidate] = {}
        self._oid_names: dict[int, str] = {}
        self._display: dict[str, str] = {}
        self._sizes: dict[Candidate, int] = {}
        self._ddl: dict[tuple[Candidate, TableName], str] = {}  # hypothetical DDL, composed once
        self._shown: dict[tuple[Candidate, TableName], str] = {}  # the names our DDL gives
        self._pinned: dict[str, tuple[str, tuple[int, ...]]] = {}  # display -> (ddl, oids)

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.explainer.__enter__()
        self._reset()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if not self.conn.closed:
                self.conn.rollback()
                self._pinned.clear()
                self._reset()
        except psycopg.Error:
            pass
        self.explainer.__exit__(exc_type, exc, tb)

    @property
    def explain_calls(self) -> int:
        return self.explainer.calls

    def _reset(self) -> None:
        self.conn.execute("SELECT hypopg_reset()")
        self._live.clear()
        self._live_on.clear()
        self._names.clear()
        self._display.clear()
        self._oid_names.clear()
        self._created = 0
        self.resets += 1
        for display, (ddl, _) in list(self._pinned.items()):
            self._pinned.pop(display)
            self.pin(ddl, display)

    def _guard(self) -> AbstractContextManager[object]:
        """A savepoint when the caller holds a transaction open (a failure must not end it)."""
        return self.conn.transaction() if self.explainer.in_block else nullcontext()

    # -- hypothetical indexes a caller states as DDL (a migration's CREATE INDEX) -----------
    def pin(self, ddl: str, display: str) -> None:
        """Create a hypothetical index from a CREATE INDEX statement; it stays live through
        `use()` and resets until `unpin`, and plans show it as `display`. Raises
        StatementNotCostable with HypoPG's reason when it cannot be simulated."""
        try:
            with self._guard():
                rows = self.conn.execute(
                    "SELECT indexrelid, indexname FROM hypopg_create_index(%s)", (ddl,)
                ).fetchall()
        except psycopg.OperationalError as exc:
            raise CostingError(f"lost the database connection: {first_line(exc)}") from None
        except psycopg.Error as exc:
            raise StatementNotCostable(first_line(exc).removeprefix("hypopg: ")) from None
        for _, name in rows:
            self._display[name] = display
        self._pinned[display] = (ddl, tuple(int(r[0]) for r in rows))
        self._created += len(rows)

    def unpin(self, display: str) -> None:
        """Drop a pinned hypothetical index."""
        _, oids = self._pinned.pop(display)
        with self._guard():
            self._drop(oids)

    def pinned_ddl(self, display: str) -> str:
        """The CREATE INDEX statement a pinned index was made from."""
        return self._pinned[display][0]

    @property
    def pinned(self) -> tuple[str, ...]:
        """The display names of the pinned hypothetical indexes."""
        return tuple(self._pinned)

    # -- hypothetical indexes --------------------------------------------------------------
    def _targets(self, candidate: Candidate) -> list[TableName]:
        """Where the hypothetical index goes: the table, or each leaf of a partitioned parent."""
        table = self.catalog.table(candidate.table)
        if table is not None and table.kind == "p":
            return list(table.partitions)
        return [candidate.table]

    def _create(self, candidates: Sequence[Candidate], dropping: Sequence[int] = ()) -> None:
        """Create hypothetical indexes for `candidates` (one per leaf of a partitioned parent),
        one round trip for all of them and for dropping the indexes `dropping` (OIDs no
        longer tracked as live). If the server refuses one, raise CandidateRefused with its
        reason and leave nothing of it behind (and `dropping` dropped)."""
        ddls: list[str] = []
        owners: list[Candidate] = []
        targets: list[TableName] = []
        for cand in candidates:
            for target in self._targets(cand):
                ddl = self._ddl.get((cand, target))
                if ddl is None:
                    ddl = self._ddl[(cand, target)] = create_index(cand, table=target)
                ddls.append(ddl)
                owners.append(cand)
                targets.append(target)
        if not ddls:
            self._drop(dropping)
            return
        try:
            with self._guard():
                # the drops: a one-row CTE, evaluated once, before any create
                rows = self.conn.execute(
                    "WITH x AS MATERIALIZED (SELECT count(hypopg_drop_index(o)) AS gone"
                    " FROM unnest(%s::oid[]) AS o)"
                    " SELECT h.indexrelid, h.indexname FROM x,"
                    " unnest(%s::text[]) WITH ORDINALITY AS d(ddl, n),"
                    " LATERAL hypopg_create_index(d.ddl) AS h ORDER BY d.n",
                    (list(dropping), ddls)).fetchall()
        except psycopg.OperationalError as exc:
            raise CostingError(f"lost the database connection: {first_line(exc)}") from None
        except psycopg.Error as exc:
            # HypoPG's indexes are backend memory, no rollback: what the failed batch made
            # goes, and so does any of `dropping` it did not reach (neither is tracked)
            self._forget(dropping)
            self._drop_untracked()
            if len(candidates) == 1:
                reason = first_line(exc).removeprefix("hypopg: ")
                raise CandidateRefused(candidates[0], reason) from None
            for cand in candidates:  # find the one refused
                self._create([cand])
            return
        oids: dict[Candidate, list[int]] = {}
        for cand, target, (oid, name) in zip(owners, targets, rows, strict=True):
            oids.setdefault(cand, []).append(int(oid))
            self._names[name] = cand
            self._oid_names[int(oid)] = name
            shown = self._shown.get((cand, target))
            if shown is None:
                shown = self._shown[(cand, target)] = (
                    index_name(cand) if target == cand.table else leaf_index_name(cand, target))
            self._display[name] = shown
        self._forget(dropping)
        for cand, created in oids.items():
            self._live[cand] = tuple(created)
            self._live_on.setdefault(cand.table, set()).add(cand)
        self._created += len(rows)

    def _drop_untracked(self) -> None:
        """Drop hypothetical indexes a failed batch created before it failed."""
        tracked = {oid for oids in self._live.values() for oid in oids}
        tracked |= {oid for _, oids in self._pinned.values() for oid in oids}
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
            self._forget(oids)

    def _forget(self, oids: Iterable[int]) -> None:
        """Names of dropped indexes are forgotten: memory follows what lives (and HypoPG
        hands a dropped index's OID out again)."""
        for oid in oids:
            name = self._oid_names.pop(oid, None)
            if name is not None:
                self._names.pop(name, None)
                self._display.pop(name, None)

    def use(self, config: Iterable[Candidate],
            scope: frozenset[TableName] | None = None) -> None:
        """Make `config` the live hypothetical indexes on the tables in `scope` (on every
        table when it is None). Indexes on other tables may stay live: a plan of a statement
        that reads none of those tables never sees them, so switching between statements on
        different tables creates and drops nothing."""
        wanted = set(config)
        if scope is None:
            stale = [c for c in self._live if c not in wanted]
        else:  # thousands may live on other tables: only the scope's are looked at
            stale = [c for t in scope for c in self._live_on.get(t, ()) if c not in wanted]
        for cand in stale:
            self._live_on[cand.table].discard(cand)
        gone = [oid for cand in stale for oid in self._live.pop(cand)]
        missing = sorted(c for c in wanted if c not in self._live)
        needed = sum(len(self._targets(c)) for c in missing)
        if self._created + needed > self.oid_budget:
            self._reset()  # drops all; only what is wanted now is created again
            self._create(sorted(wanted))
        else:
            self._create(missing, dropping=gone)  # one round trip for both

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
            query = f"SELECT {index_key(key)} FROM {qualified(table.name)}"
            try:
                planned = self.explain(query).root.plan_width
            except StatementNotCostable:
                return None
            widths.append(expression_width(planned, [column_width(c) for c in key_columns(key)]))
        return btree_size(table.rows, widths)

    def candidate_for(self, name: str) -> Candidate | None:
        """The candidate behind a hypothetical index name seen in a plan, if any."""
        return self._names.get(name)

    def display_name(self, name: str) -> str | None:
        """The name a hypothetical index seen in a plan will have when built from our DDL
        (on a leaf of a partitioned parent: that leaf's index), None if it is not ours."""
        return self._display.get(name)

    # -- EXPLAIN ---------------------------------------------------------------------------
    def explain(self, text: str, params: Sequence[str | None] | None = None,
                param_count: int = 0) -> Plan:
        """EXPLAIN under the live hypothetical indexes (see `Explainer.explain`)."""
        return self.explainer.explain(text, params, param_count)

    def explain_json(self, text: str, params: Sequence[str | None] | None = None,
                     param_count: int = 0) -> str:
        """`explain` as the server's JSON text."""
        return self.explainer.explain_json(text, params, param_count)
