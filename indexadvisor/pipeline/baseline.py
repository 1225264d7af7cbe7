"""Stage 3, baseline: every statement planned with the indexes that exist today.

A `$n` statement's pg_stats values are tried here first: kept (with a note) when the server
takes them, dropped for the generic plan (with the server's words) when it does not. What
EXPLAIN rejects gets its verdict; the rest is the bar every candidate is measured against.
Write statements give the write load: their rows per call, charged to the tables they write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..explain.costs import CachedCosts
from ..explain.errors import StatementNotCostable
from ..model import Outcome
from ..selection.writes import WriteLoad
from .analysis import Analyzed, Item, Problem, delete_target, without_values


@dataclass(frozen=True)
class Baseline:
    """The workload as it costs today."""

    reads: tuple[Item, ...]  # the costable queries advised on
    base: Mapping[str, float]  # query key -> cost with no new index
    loads: tuple[WriteLoad, ...]  # the workload's own writes
    problems: Mapping[str, Problem]  # query key -> EXPLAIN failed
    notes: Mapping[str, str]  # query key -> which values its $n were costed with


def cost_baseline(analyzed: Analyzed, costs: CachedCosts) -> Baseline:
    """Settle each statement's parameter values, then cost reads and writes as they are."""
    costs.prefetch((item.costed, ()) for item in [*analyzed.reads, *analyzed.writes])
    settled = _settle_values([*analyzed.reads, *analyzed.writes], costs)
    reads = [settled[item.key] for item in analyzed.reads]
    writes = [settled[item.key] for item in analyzed.writes]
    problems: dict[str, Problem] = {}
    base: dict[str, float] = {}
    costable: list[Item] = []
    for item in reads:
        try:
            base[item.key] = costs.cost(item.costed, ()).cost
            costable.append(item)
        except StatementNotCostable as exc:
            problems[item.key] = Problem(Outcome.NOT_COSTABLE, f"EXPLAIN failed: {exc.message}")
    loads = _write_loads(writes, costs, problems)
    notes = {key: item.values_note for key, item in settled.items() if item.values_note}
    return Baseline(tuple(costable), base, tuple(loads), problems, notes)


def _settle_values(items: Sequence[Item], costs: CachedCosts) -> dict[str, Item]:
    """Each statement by key, its pg_stats values tried once (the EXPLAIN is the
    no-new-index cost, cached for later)."""
    out: dict[str, Item] = {}
    for item in items:
        if item.key in out or item.binding is None:
            out.setdefault(item.key, item)
            continue
        binding = item.binding
        if binding.params is None:
            out[item.key] = replace(item, values_note=f"generic plan: {binding.describe()}")
            continue
        try:
            costs.cost(item.costed, ())
        except StatementNotCostable as exc:
            out[item.key] = without_values(item, (
                f"generic plan: EXPLAIN with pg_stats values ({binding.describe()}) "
                f"failed: {exc.message}"))
            continue
        out[item.key] = replace(
            item, values_note=f"costed with pg_stats values: {binding.describe()}")
    return out


def _write_loads(writes: Sequence[Item], costs: CachedCosts,
                 problems: dict[str, Problem]) -> list[WriteLoad]:
    """Rows per call of every write statement (its no-new-index plan, usually cached already),
    charged to the tables it writes (`selection.writes` prices them per index)."""
    loads = []
    for item in writes:
        try:
            rows = costs.cost(item.costed, ()).rows_written
        except StatementNotCostable as exc:
            problems[item.key] = Problem(Outcome.NOT_COSTABLE, f"EXPLAIN failed: {exc.message}")
            continue
        for table in sorted({w.table for w in item.analysis.written_columns}):
            written = frozenset(w.column for w in item.analysis.written_columns
                                if w.table == table)
            loads.append(WriteLoad(table, item.kind, rows, item.query.calls, written))
        if item.kind == "delete":  # writes no column: its target is the DELETE's relation
            loads += [WriteLoad(table, "delete", rows, item.query.calls, frozenset())
                      for table in delete_target(item)]
    return loads
