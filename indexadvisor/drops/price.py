"""What dropping an index would cost the workload: a what-if drop, priced by the planner.

Each workload query that reads the index's table is EXPLAINed with the index and without it:

- HypoPG 1.4+: `hypopg_hide_index(oid)` hides it from the planner in this backend only
  (`hypopg_unhide_index` right after, `hypopg_unhide_all_indexes` at the end); safe anywhere.
- otherwise, ONLY in a sandbox we own (`sandbox=True`): `BEGIN; SET LOCAL lock_timeout;
  DROP INDEX ...; EXPLAIN ...; ROLLBACK`. Nothing survives the rollback.
- against a user's database with HypoPG < 1.4 nothing is dropped, not even in a transaction:
  the verdict says the cost change was not measured.

A drop that makes some query cost more than `max_increase` more is demoted to `keep`, with
that query named, unless the workload's writes save more maintenance than its reads lose. The
cost change is the calls-weighted sum over the queries on the table.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

import psycopg
from psycopg import sql

from ..catalog import Catalog
from ..explain.costs import CachedCosts
from ..explain.errors import StatementNotCostable
from ..model import (
    Candidate,
    CostedQuery,
    DropCandidate,
    DropMethod,
    DropReason,
    DropVerdict,
    Plan,
    QueryChange,
    TableName,
    Verdict,
    short,
)
from ..model.errors import first_line
from ..selection.writes import WriteLoad, index_write_cost
from .find import find_drop_candidates, merge, redundant_after

DEFAULT_MAX_INCREASE = 0.05  # a query 5% costlier without the index: the index earns its keep
NOT_MEASURED = ("cost change not measured: needs HypoPG 1.4+ (hypopg_hide_index) or --sandbox "
                "(a what-if DROP INDEX inside a rolled-back transaction)")


class DropNotMeasurable(Exception):
    """The what-if drop itself failed (a lock timeout, a dependency): carries the reason."""


def hide_supported(hypopg_version: str | None) -> bool:
    """HypoPG 1.4.0 added hypopg_hide_index.

    >>> hide_supported("1.3.1"), hide_supported("1.4.0"), hide_supported("2.0.0dev")
    (False, True, True)
    >>> hide_supported(None)
    False
    """
    if not hypopg_version:
        return False
    numbers = [int(n) for n in re.findall(r"\d+", hypopg_version)[:2]]
    return tuple(numbers) >= (1, 4)


def measurement_method(hypopg_version: str | None, sandbox: bool) -> DropMethod:
    """Hide where HypoPG can; drop in a rolled-back transaction only in our own sandbox.

    >>> measurement_method("1.3.1", sandbox=False), measurement_method("1.3.1", sandbox=True)
    (<DropMethod.NONE: 'none'>, <DropMethod.ROLLBACK: 'drop_in_rolled_back_transaction'>)
    >>> measurement_method("1.4.1", sandbox=False)
    <DropMethod.HIDE: 'hypopg_hide_index'>
    """
    if hide_supported(hypopg_version):
        return DropMethod.HIDE
    return DropMethod.ROLLBACK if sandbox else DropMethod.NONE


def _family(table: TableName, catalog: Catalog) -> frozenset[TableName]:
    """A table with its ancestors (a query on the parent plans the partition's index) and its
    descendants (a query on a partition plans the partitioned index's copy there)."""
    family = {table}
    up = catalog.table(table)
    while up is not None and up.parent is not None:
        family.add(up.parent)
        up = catalog.table(up.parent)
    for name, other in catalog.tables.items():
        parent = other.parent
        while parent is not None:
            if parent == table:
                family.add(name)
                break
            above = catalog.table(parent)
            parent = above.parent if above is not None else None
    return frozenset(family)


def _fallback_tables(query: CostedQuery, catalog: Catalog) -> frozenset[TableName]:
    """Tables a query reads when the caller did not say: its filtered columns' tables, and
    the relations it names, matched by name."""
    names = {rel.split(".")[-1].strip('"') for rel in query.query.relations}
    found = {t for t, _ in query.leading}
    found |= {t for t in catalog.tables if t.name in names or t.name.lower() in names}
    return frozenset(found)


def measure_drops(costs: CachedCosts, candidates: Sequence[DropCandidate],
                  queries: Sequence[CostedQuery], *, catalog: Catalog, sandbox: bool = False,
                  tables: Mapping[str, Collection[TableName]] | None = None,
                  loads: Iterable[WriteLoad] = (),
                  max_increase: float = DEFAULT_MAX_INCREASE,
                  lock_timeout_ms: int = 1_000) -> tuple[DropVerdict, ...]:
    """Price each candidate drop on the workload queries that read its table.

    `tables` maps a query's fingerprint to the tables it reads (the analysis knows them);
    without it they are guessed from the query's relations. `loads` are the workload's writes:
    what they stop paying to maintain the index is weighed against what reads lose.
    `sandbox=True` only for a database we created and own: there a drop is simulated with a
    real DROP INDEX that is always rolled back. Plans with every index in place come from the
    run's cost cache (`costs`); only plans without the index are new EXPLAINs.
    """
    method = measurement_method(catalog.hypopg_version, sandbox)
    reads = {q.key: frozenset(tables[q.key]) if tables is not None and q.key in tables
             else _fallback_tables(q, catalog) for q in queries}
    writes = list(loads)
    session = _Session(costs, method, lock_timeout_ms)
    try:
        return tuple(
            _judge(cand, [q for q in queries if reads[q.key] & _family(cand.table, catalog)],
                   session, max_increase, write_saving(cand, writes, catalog))
            for cand in candidates)
    finally:
        session.close()


def write_saving(cand: DropCandidate, loads: Iterable[WriteLoad], catalog: Catalog) -> float:
    """What the workload's writes pay to maintain the index (writes.py's price per entry):
    every INSERT row, every UPDATE row that changes a column it depends on."""
    rows = {name: table.rows for name, table in catalog.tables.items()}
    parents = {name: t.parent for name, t in catalog.tables.items() if t.parent is not None}
    as_candidate = Candidate(cand.table, tuple(sorted(cand.columns)))
    return index_write_cost(as_candidate, loads, rows, parents)


class _Session:
    """Costs with and without one index, on the HypoPG session's connection."""

    def __init__(self, costs: CachedCosts, method: DropMethod, lock_timeout_ms: int) -> None:
        self.costs = costs
        self.whatif = costs.session
        self.conn = costs.session.conn
        self.method = method
        self.lock_timeout_ms = lock_timeout_ms
        self.hidden_any = False

    def _plan(self, query: CostedQuery) -> Plan | None:
        try:
            return self.whatif.explain(query.text, query.params, query.param_count)
        except StatementNotCostable:
            return None

    def _cost(self, query: CostedQuery) -> float | None:
        plan = self._plan(query)
        return None if plan is None else plan.cost

    def before(self, query: CostedQuery, requires: tuple[Candidate, ...]) -> Plan | None:
        """The query's plan with every index in place (and `requires` assumed built)."""
        try:
            return self.costs.plan(query, requires)
        except StatementNotCostable:
            return None

    def without(self, cand: DropCandidate,
                queries: Sequence[CostedQuery]) -> dict[str, float | None]:
        """Each query's cost with `cand` gone (hidden, or dropped and rolled back)."""
        self.whatif.use(cand.requires)
        if self.method is DropMethod.HIDE:
            return self._hidden(cand, queries)
        if self.method is DropMethod.ROLLBACK:
            return self._rolled_back(cand, queries)
        raise AssertionError("no measurement method")

    def _hidden(self, cand: DropCandidate,
                queries: Sequence[CostedQuery]) -> dict[str, float | None]:
        self.hidden_any = True
        try:
            with self.conn.transaction():
                for oid in cand.hide_oids:
                    self.conn.execute("SELECT hypopg_hide_index(%s)", (oid,))
        except psycopg.Error as exc:
            raise DropNotMeasurable(f"hypopg_hide_index failed: {first_line(exc)}") from None
        try:
            return {q.key: self._cost(q) for q in queries}
        finally:
            with self.conn.transaction():
                for oid in cand.hide_oids:
                    self.conn.execute("SELECT hypopg_unhide_index(%s)", (oid,))

    def _rolled_back(self, cand: DropCandidate,
                     queries: Sequence[CostedQuery]) -> dict[str, float | None]:
        read_only = self.conn.read_only
        self.conn.read_only = False
        try:
            with self.conn.transaction(force_rollback=True):
                self.conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(
                    sql.Literal(self.lock_timeout_ms)))
                try:
                    self.conn.execute(sql.SQL("DROP INDEX {}.{}").format(
                        sql.Identifier(cand.schema), sql.Identifier(cand.name)))
                except psycopg.Error as exc:
                    raise DropNotMeasurable(
                        f"the what-if DROP INDEX failed: {first_line(exc)}") from None
                return {q.key: self._cost(q) for q in queries}
        finally:
            self.conn.read_only = read_only

    def close(self) -> None:
        if self.hidden_any and not self.conn.closed:
            try:
                with self.conn.transaction():
                    self.conn.execute("SELECT hypopg_unhide_all_indexes()")
            except psycopg.Error:
                pass  # backend state only: gone with the connection anyway



def _judge(cand: DropCandidate, queries: Sequence[CostedQuery], session: _Session,
           max_increase: float, saving: float) -> DropVerdict:
    if cand.reason is DropReason.INVALID:
        return DropVerdict(cand, Verdict.DROP, False, 0.0,
                           "the planner never uses an invalid index: no plan changes",
                           write_saving=saving)
    if not queries:
        return DropVerdict(cand, Verdict.DROP, True, 0.0,
                           f"no workload query reads {cand.table}: no plan changes",
                           session.method, write_saving=saving)
    plans = {q.key: session.before(q, cand.requires) for q in queries}
    if session.method is DropMethod.NONE:
        return _unmeasured(cand, queries, plans, saving)
    before = {k: None if plan is None else plan.cost for k, plan in plans.items()}
    try:
        after = session.without(cand, queries)
    except DropNotMeasurable as exc:
        return DropVerdict(cand, Verdict.DROP, False, None, f"cost change not measured: {exc}",
                           session.method, write_saving=saving)
    changes = tuple(
        QueryChange(q.key, q.query.text, q.query.source, q.weight, b, a)
        for q in queries
        if (b := before[q.key]) is not None and (a := after.get(q.key)) is not None)
    return verdict_from_changes(cand, changes, session.method, max_increase, saving)


def _unmeasured(cand: DropCandidate, queries: Sequence[CostedQuery],
                plans: Mapping[str, Plan | None], saving: float) -> DropVerdict:
    """No what-if drop possible: the current plans still tell whether the workload reads it.

    A plan that reads the index would change without it, so the index is kept until measured
    (a duplicate's twin serves the same plans, so that one may still go).
    """
    readers = [q for q in queries
               if (plan := plans.get(q.key)) is not None
               and cand.plan_names & set(plan.index_names)]
    keys = tuple(sorted(q.key for q in readers))
    if not readers:
        return DropVerdict(cand, Verdict.DROP, False, None,
                           NOT_MEASURED + "; no workload query's current plan reads it",
                           write_saving=saving)
    first = min(readers, key=lambda q: (-q.weight, q.key))
    said = (f"the current plan of {short(first.query.text, 60)} ({first.query.source}) reads it"
            + (f", and {len(readers) - 1} more" if len(readers) > 1 else ""))
    if cand.reason is DropReason.DUPLICATE:
        return DropVerdict(cand, Verdict.DROP, False, None,
                           f"{NOT_MEASURED}; {said}, but its twin {cand.kept_by} serves the "
                           "same plans", write_saving=saving, queries=keys)
    return DropVerdict(cand, Verdict.KEEP, False, None,
                       f"keep: {said}; {NOT_MEASURED}", write_saving=saving, queries=keys)



def verdict_from_changes(cand: DropCandidate, changes: tuple[QueryChange, ...], method: DropMethod,
             max_increase: float, saving: float = 0.0) -> DropVerdict:
    """Keep the index when some query costs more than `max_increase` more without it and the
    reads lose more than the writes save (both calls-weighted planner units)."""
    change = sum(c.calls * (c.after - c.before) for c in changes)
    total = sum(c.calls * c.before for c in changes)
    costlier = tuple(sorted(c.fingerprint for c in changes if c.after > c.before * 1.0001))
    hurt = sorted((c for c in changes if c.increase > max_increase),
                  key=lambda c: (-c.increase, c.fingerprint))
    if hurt:
        worst = hurt[0]
        said = (f"{short(worst.text, 60)} ({worst.source}) costs {100 * worst.increase:.0f}% "
                f"more without it ({worst.before:,.2f} -> {worst.after:,.2f})")
        if len(hurt) > 1:
            said += f"; {len(hurt) - 1} more quer{'ies' if len(hurt) > 2 else 'y'} too"
        if change > saving:
            if saving > 0:
                said += (f"; reads would lose {change:,.2f}, writes save only {saving:,.2f} "
                         "(calls-weighted)")
            return DropVerdict(cand, Verdict.KEEP, True, change, "keep: " + said, method,
                               changes, saving, costlier)
        return DropVerdict(cand, Verdict.DROP, True, change,
                           f"drop: {said}, but the workload's writes save more than its reads "
                           f"lose ({saving:,.2f} vs {change:,.2f}, calls-weighted)",
                           method, changes, saving, costlier)
    pct = 0.0 if total <= 0 else 100 * change / total
    reason = (f"measured ({method.value}): the {len(changes)} workload quer"
              f"{'ies' if len(changes) != 1 else 'y'} on {cand.table} cost {pct:+.1f}% "
              f"without it, calls-weighted")
    if cand.reason is DropReason.DUPLICATE:
        reason += f"; its twin {cand.kept_by} serves the same plans"
    return DropVerdict(cand, Verdict.DROP, True, change, reason, method, changes, saving,
                       costlier)


def advise_drops(costs: CachedCosts, catalog: Catalog, queries: Sequence[CostedQuery],
                 recommendations: Iterable[Candidate], *, sandbox: bool,
                 tables: Mapping[str, Collection[TableName]] | None = None,
                 loads: Iterable[WriteLoad] = (),
                 max_increase: float = DEFAULT_MAX_INCREASE) -> tuple[DropVerdict, ...]:
    """The whole drop advice of one run: candidates from the catalog (usage counters only
    outside a sandbox: there they count our own load), those the recommended indexes make
    redundant, each priced by a what-if drop, with the write maintenance it saves."""
    found = find_drop_candidates(catalog, include_unused=not sandbox)
    after = redundant_after(list(recommendations), catalog)
    candidates = merge(found, after)
    if not candidates:
        return ()
    return measure_drops(costs, candidates, queries, catalog=catalog, sandbox=sandbox,
                         tables=tables, loads=loads, max_increase=max_increase)
