"""Pure pass: what an index costs to maintain under the workload's writes.

PostgreSQL's planner never costs index maintenance, so we charge each index entry written the
planner-unit price of one btree descent that dirties a leaf page (`btree_insert_cost`), per
row, per call: every INSERT row, and every UPDATE row that changes an indexed column (such an
update is also no longer HOT, which is why it is charged in full). DELETE leaves index entries
for VACUUM and is not charged here.

>>> from indexadvisor.model import Candidate, TableName
>>> t = TableName("public", "audit_log")
>>> load = WriteLoad(t, "insert", rows_per_call=1.0, calls=1000, columns=frozenset())
>>> round(index_write_cost(Candidate(t, ("entity_id",)), [load], {t: 1e6}))
4555
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Candidate, TableName, key_columns

RANDOM_PAGE_COST = 4.0  # PostgreSQL's default random_page_cost: the leaf page written
CPU_OPERATOR_COST = 0.0025
CPU_INDEX_TUPLE_COST = 0.005
BTREE_FANOUT = 200.0


@dataclass(frozen=True)
class WriteLoad:
    """One write statement of the workload, as index maintenance sees it."""

    table: TableName
    kind: str  # insert | update | delete | merge
    rows_per_call: float
    calls: int
    columns: frozenset[str]  # columns it writes (UPDATE SET, INSERT target list)


def btree_insert_cost(rows: float) -> float:
    """Planner units for one index entry: descend the tree, write one leaf page.

    Mirrors the descent charge of PostgreSQL's btcostestimate (50 operator costs per level)
    plus one random page for the leaf.

    >>> round(btree_insert_cost(1e6), 3)
    4.555
    """
    height = max(1.0, math.ceil(math.log(max(rows, 2.0), BTREE_FANOUT)))
    descent = (height + 1) * 50 * CPU_OPERATOR_COST + math.log2(max(rows, 2.0)) * CPU_OPERATOR_COST
    return RANDOM_PAGE_COST + CPU_INDEX_TUPLE_COST + descent


def _charged(candidate: Candidate, load: WriteLoad,
             parents: Mapping[TableName, TableName]) -> bool:
    same = load.table == candidate.table or parents.get(load.table) == candidate.table
    if not same:
        return False
    if load.kind == "insert":
        return True
    if load.kind in ("update", "merge"):
        keys = {c for key in candidate.columns for c in key_columns(key)}  # (lower(email)): email
        return bool(load.columns & (keys | set(candidate.include)))
    return False


def index_write_cost(candidate: Candidate, loads: Iterable[WriteLoad],
                     rows: Mapping[TableName, float],
                     parents: Mapping[TableName, TableName] | None = None) -> float:
    """Calls-weighted planner-unit cost of keeping `candidate` up to date."""
    unit = btree_insert_cost(rows.get(candidate.table, 1.0))
    return sum(load.calls * load.rows_per_call * unit
               for load in loads if _charged(candidate, load, parents or {}))
