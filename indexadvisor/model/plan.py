"""Plans as values: what EXPLAIN (FORMAT JSON) said, trimmed to what a reader needs.

A plan keeps PostgreSQL's own key names when written out (`Plan.to_explain`), so any tool that
reads EXPLAIN JSON (PEV2, explain.dalibo.com) reads ours. Only the keys a reader compares are
kept: node type, relation and index, join type, costs and row estimates, conditions and sort
keys, and, from EXPLAIN ANALYZE, the measured times, rows, loops and buffers.

>>> doc = [{"Plan": {"Node Type": "Index Scan", "Relation Name": "orders", "Alias": "o",
...                  "Index Name": "<13>btree_orders_customer_id", "Startup Cost": 0.42,
...                  "Total Cost": 8.44, "Plan Rows": 1, "Plan Width": 40,
...                  "Index Cond": "(customer_id = 42)", "Output": ["id"]}}]
>>> plan = Plan.from_explain(doc)
>>> plan.cost, plan.index_names
(8.44, ('<13>btree_orders_customer_id',))
>>> renamed = plan.renamed({"<13>btree_orders_customer_id": "orders_customer_id_idx"})
>>> renamed.root.describe()
'Index Scan using orders_customer_id_idx on orders o'
>>> renamed.root.hypothetical, Plan.from_explain(renamed.to_explain()) == renamed
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

#: Keys kept as text details, in the order a reader expects them.
DETAIL_KEYS = (
    "Strategy", "Partial Mode", "Scan Direction", "Parent Relationship", "Subplan Name",
    "CTE Name", "Function Name", "Operation", "Index Cond", "Recheck Cond", "Hash Cond",
    "Merge Cond", "Join Filter", "Filter", "Sort Key", "Presorted Key", "Group Key",
    "Rows Removed by Filter", "Rows Removed by Index Recheck", "Sort Method",
    "Sort Space Used", "Sort Space Type", "Heap Fetches", "Workers Planned",
)
#: A hypothetical index renamed for display keeps this key set to true.
HYPOTHETICAL_KEY = "Hypothetical Index"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True, slots=True)
class Actual:
    """What EXPLAIN ANALYZE (BUFFERS) measured for one node, per loop as PostgreSQL reports."""

    startup_ms: float
    total_ms: float
    rows: float
    loops: float
    shared_hit: int | None = None
    shared_read: int | None = None

    @classmethod
    def from_explain(cls, node: Mapping[str, Any]) -> Actual | None:
        if "Actual Total Time" not in node and "Actual Rows" not in node:
            return None
        hit, read = node.get("Shared Hit Blocks"), node.get("Shared Read Blocks")
        return cls(float(node.get("Actual Startup Time", 0.0)),
                   float(node.get("Actual Total Time", 0.0)), float(node.get("Actual Rows", 0.0)),
                   float(node.get("Actual Loops", 1.0)),
                   None if hit is None else int(hit), None if read is None else int(read))

    def to_explain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Actual Startup Time": self.startup_ms,
                               "Actual Total Time": self.total_ms,
                               "Actual Rows": self.rows, "Actual Loops": self.loops}
        if self.shared_hit is not None:
            out["Shared Hit Blocks"] = self.shared_hit
        if self.shared_read is not None:
            out["Shared Read Blocks"] = self.shared_read
        return out


@dataclass(frozen=True, slots=True)
class PlanNode:
    """One node of a plan tree."""

    node_type: str
    startup_cost: float
    total_cost: float
    plan_rows: float
    plan_width: int
    relation: str | None = None
    alias: str | None = None
    index_name: str | None = None
    join_type: str | None = None
    hypothetical: bool = False  # index_name is a hypothetical (HypoPG) index
    details: tuple[tuple[str, str], ...] = ()
    actual: Actual | None = None
    children: tuple[PlanNode, ...] = ()

    @classmethod
    def from_explain(cls, node: Mapping[str, Any]) -> PlanNode:
        """A node (and its subtree) from EXPLAIN (FORMAT JSON)'s ``Plan`` object."""
        return cls(
            node_type=str(node.get("Node Type", "?")),
            startup_cost=float(node.get("Startup Cost", 0.0)),
            total_cost=float(node.get("Total Cost", 0.0)),
            plan_rows=float(node.get("Plan Rows", 0.0)),
            plan_width=int(node.get("Plan Width", 0)),
            relation=node.get("Relation Name"),
            alias=node.get("Alias"),
            index_name=node.get("Index Name"),
            join_type=node.get("Join Type"),
            hypothetical=bool(node.get(HYPOTHETICAL_KEY, False)),
            details=tuple((k, _text(node[k])) for k in DETAIL_KEYS if k in node),
            actual=Actual.from_explain(node),
            children=tuple(cls.from_explain(child) for child in node.get("Plans", ())),
        )

    def to_explain(self) -> dict[str, Any]:
        """The node as EXPLAIN (FORMAT JSON) spells it (only the keys kept)."""
        out: dict[str, Any] = {"Node Type": self.node_type}
        for key, value in (("Relation Name", self.relation), ("Alias", self.alias),
                           ("Index Name", self.index_name), ("Join Type", self.join_type)):
            if value is not None:
                out[key] = value
        if self.hypothetical:
            out[HYPOTHETICAL_KEY] = True
        out.update({"Startup Cost": self.startup_cost, "Total Cost": self.total_cost,
                    "Plan Rows": self.plan_rows, "Plan Width": self.plan_width})
        out.update(self.details)
        if self.actual is not None:
            out.update(self.actual.to_explain())
        if self.children:
            out["Plans"] = [child.to_explain() for child in self.children]
        return out

    def detail(self, key: str) -> str | None:
        return next((v for k, v in self.details if k == key), None)

    def walk(self) -> Iterator[PlanNode]:
        """This node and every node below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()

    def describe(self) -> str:
        """One line, as EXPLAIN's text format heads a node.

        >>> PlanNode("Hash Join", 1, 2, 3, 4, join_type="Left").describe()
        'Hash Left Join'
        >>> PlanNode("Seq Scan", 0, 9, 100, 8, relation="orders", alias="orders").describe()
        'Seq Scan on orders'
        """
        text = self.node_type
        if self.join_type and self.join_type != "Inner" and self.node_type.endswith("Join"):
            text = text[: -len("Join")] + f"{self.join_type} Join"
        if self.index_name:
            text += f" using {self.index_name}"
        if self.relation:
            text += f" on {self.relation}"
            if self.alias and self.alias != self.relation:
                text += f" {self.alias}"
        return text

    def renamed(self, names: Mapping[str, str]) -> PlanNode:
        """The tree with hypothetical index names replaced by the names in `names`."""
        children = tuple(child.renamed(names) for child in self.children)
        if self.index_name is not None and self.index_name in names:
            return replace(self, index_name=names[self.index_name], hypothetical=True,
                           children=children)
        return replace(self, children=children) if children != self.children else self


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole plan: its root and, from EXPLAIN ANALYZE, the measured times."""

    root: PlanNode
    planning_ms: float | None = None
    execution_ms: float | None = None

    @classmethod
    def from_explain(cls, doc: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> Plan:
        """From EXPLAIN (FORMAT JSON)'s document: a one-element list, or its element."""
        top = doc[0] if isinstance(doc, Sequence) else doc
        planning, execution = top.get("Planning Time"), top.get("Execution Time")
        return cls(PlanNode.from_explain(top["Plan"]),
                   None if planning is None else float(planning),
                   None if execution is None else float(execution))

    def to_explain(self) -> list[dict[str, Any]]:
        top: dict[str, Any] = {"Plan": self.root.to_explain()}
        if self.planning_ms is not None:
            top["Planning Time"] = self.planning_ms
        if self.execution_ms is not None:
            top["Execution Time"] = self.execution_ms
        return [top]

    @property
    def cost(self) -> float:
        return self.root.total_cost

    @property
    def rows(self) -> float:
        return self.root.plan_rows

    @property
    def index_names(self) -> tuple[str, ...]:
        """Every index the plan reads, in plan order, hypothetical ones included."""
        return tuple(n.index_name for n in self.root.walk() if n.index_name)

    @property
    def modified_rows(self) -> float:
        """Rows an INSERT/UPDATE/DELETE writes per execution (its input's estimate)."""
        if self.root.node_type != "ModifyTable":
            return 0.0
        return float(sum(child.plan_rows for child in self.root.children))

    def renamed(self, names: Mapping[str, str]) -> Plan:
        return replace(self, root=self.root.renamed(names))


def index_names(node: Mapping[str, Any]) -> tuple[str, ...]:
    """Every index an EXPLAIN (FORMAT JSON) plan node and its subtree read, in plan order.

    >>> index_names({"Node Type": "Bitmap Heap Scan", "Plans": [
    ...     {"Node Type": "Bitmap Index Scan", "Index Name": "t_a_idx"}]})
    ('t_a_idx',)
    """
    return tuple(n.index_name for n in PlanNode.from_explain(node).walk() if n.index_name)
