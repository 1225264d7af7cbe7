"""Planning the watched statements under the live simulation (HypoPG's hypothetical indexes
and hidden indexes), and what the migration's new indexes are worth to them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..explain.errors import StatementNotCostable
from ..explain.hypo import HypoSession
from ..model import Candidate, TableName
from ..model.shape import PlanShape
from ..selection.writes import WriteLoad, index_write_cost
from .rules import CreatedIndex
from .watch import Watched


@dataclass(frozen=True)
class Planned:
    """A statement's plan shape, or why EXPLAIN refused it."""

    shape: PlanShape | None
    error: str | None = None
    rows_written: float = 0.0


def plan_one(session: HypoSession, watched: Watched) -> Planned:
    """EXPLAIN one statement; hypothetical indexes shown by the names their DDL gives."""
    try:
        plan = session.explain(watched.text, watched.params or None, watched.param_count)
    except StatementNotCostable as exc:
        return Planned(None, exc.message)
    names = {n: d for n in plan.index_names if (d := session.display_name(n)) is not None}
    if names:
        plan = plan.renamed(names)
    return Planned(PlanShape.from_plan(plan), rows_written=plan.modified_rows)


def plan_all(session: HypoSession, watched: Sequence[Watched]) -> dict[str, Planned]:
    """Every watched statement's plan, by key."""
    return {w.key: plan_one(session, w) for w in watched}


def price_new_indexes(session: HypoSession, created: Sequence[CreatedIndex],
                      watched: Sequence[Watched], after: Mapping[str, Planned],
                      loads: Sequence[WriteLoad], rows: Mapping[TableName, float],
                      columns: Mapping[str, tuple[TableName, tuple[str, ...]]],
                      ) -> list[CreatedIndex]:
    """Each new index with the statements that read it, what they save with it (planned again
    without it) and what the workload's writes pay to maintain it."""
    out = []
    by_key = {w.key: w for w in watched}
    for index in created:
        users = tuple(sorted(k for k, p in after.items()
                             if p.shape is not None and index.name in p.shape.indexes))
        saving: float | None = None
        if users and index.simulated and index.name in session.pinned:
            ddl = session.pinned_ddl(index.name)
            session.unpin(index.name)
            try:
                saving = 0.0
                for key in users:
                    without = plan_one(session, by_key[key])
                    with_it = after[key].shape
                    if without.shape is not None and with_it is not None:
                        saving += by_key[key].calls * (without.shape.cost - with_it.cost)
            finally:
                session.pin(ddl, index.name)
        write_cost = None
        if index.name in columns:
            table, keys = columns[index.name]
            write_cost = index_write_cost(Candidate(table, keys or ("?",)), loads, rows)
        out.append(replace(index, used_by=users, saving=saving, write_cost=write_cost))
    return out
