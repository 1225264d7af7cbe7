"""Plan shapes: what the CI gate keeps of a plan and compares across a migration.

A shape is the plan tree flattened depth first: per node its depth, node type, relation,
index, estimated rows and width (and an aggregate's strategy). It is what a baseline file
stores per statement, next to the plan's total cost and rows.

>>> doc = [{"Plan": {"Node Type": "Sort", "Total Cost": 20.5, "Plan Rows": 10, "Plan Width": 8,
...         "Plans": [{"Node Type": "Index Scan", "Relation Name": "orders", "Alias": "o",
...                    "Index Name": "orders_customer_idx", "Total Cost": 8.4,
...                    "Plan Rows": 10, "Plan Width": 8}]}}]
>>> shape = PlanShape.from_plan(Plan.from_explain(doc))
>>> [n.describe() for n in shape.nodes]
['Sort', 'Index Scan using orders_customer_idx on orders']
>>> shape.scans()
(('orders', 'Index Scan', 'orders_customer_idx'),)
>>> PlanShape.from_dict(shape.to_dict()) == shape
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .plan import Plan, PlanNode

#: Node types that read a table, and those that read it through an index.
SCAN_TYPES = frozenset({"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan",
                        "Bitmap Index Scan", "Tid Scan", "Tid Range Scan", "Sample Scan"})
INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


@dataclass(frozen=True, slots=True)
class ShapeNode:
    """One plan node as the gate compares it."""

    depth: int
    node_type: str
    relation: str | None = None
    index: str | None = None
    rows: float = 0.0
    width: int = 0
    strategy: str | None = None  # Aggregate: Plain, Sorted, Hashed, Mixed

    def describe(self) -> str:
        """As EXPLAIN's text format heads a node (without the alias)."""
        text = self.node_type
        if self.strategy == "Hashed" and self.node_type == "Aggregate":
            text = "HashAggregate"
        if self.index:
            text += f" using {self.index}"
        if self.relation:
            text += f" on {self.relation}"
        return text

    @property
    def bytes(self) -> float:
        """Estimated size of the node's output (rows times width)."""
        return self.rows * self.width

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"depth": self.depth, "type": self.node_type}
        for key, value in (("relation", self.relation), ("index", self.index),
                           ("strategy", self.strategy)):
            if value is not None:
                out[key] = value
        out["rows"] = float(self.rows)
        out["width"] = self.width
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShapeNode:
        return cls(int(data.get("depth", 0)), str(data["type"]), data.get("relation"),
                   data.get("index"), float(data.get("rows", 0.0)), int(data.get("width", 0)),
                   data.get("strategy"))


@dataclass(frozen=True, slots=True)
class PlanShape:
    """A plan's nodes (depth first), its total cost and estimated rows."""

    nodes: tuple[ShapeNode, ...]
    cost: float
    rows: float

    @classmethod
    def from_plan(cls, plan: Plan) -> PlanShape:
        nodes: list[ShapeNode] = []

        def visit(node: PlanNode, depth: int) -> None:
            nodes.append(ShapeNode(depth, node.node_type, node.relation, node.index_name,
                                   node.plan_rows, node.plan_width, node.detail("Strategy")))
            for child in node.children:
                visit(child, depth + 1)

        visit(plan.root, 0)
        return cls(tuple(nodes), plan.cost, plan.rows)

    @property
    def signature(self) -> tuple[tuple[int, str, str | None, str | None], ...]:
        """What "the same plan shape" means: node types, relations and indexes in order."""
        return tuple((n.depth, n.describe(), n.relation, n.index) for n in self.nodes)

    @property
    def indexes(self) -> tuple[str, ...]:
        """Every index the plan reads, sorted, without repeats."""
        return tuple(sorted({n.index for n in self.nodes if n.index}))

    def scans(self) -> tuple[tuple[str, str, str | None], ...]:
        """(relation, node type, index) of every node that reads a relation, sorted. A bitmap
        heap scan is named by the index its bitmap index scan reads."""
        out: set[tuple[str, str, str | None]] = set()
        for i, node in enumerate(self.nodes):
            if node.relation is None or node.node_type not in SCAN_TYPES:
                continue
            index = node.index
            if node.node_type == "Bitmap Heap Scan":
                below = [n.index for n in self.nodes[i + 1:self._end(i)] if n.index]
                index = ",".join(sorted(set(below))) or None
            out.add((node.relation, node.node_type, index))
        return tuple(sorted(out, key=lambda s: (s[0], s[1], s[2] or "")))

    def _end(self, i: int) -> int:
        """Index just past the subtree of node `i`."""
        depth = self.nodes[i].depth
        j = i + 1
        while j < len(self.nodes) and self.nodes[j].depth > depth:
            j += 1
        return j

    def to_dict(self) -> dict[str, Any]:
        return {"cost": float(self.cost), "rows": float(self.rows),
                "nodes": [n.to_dict() for n in self.nodes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlanShape:
        return cls(tuple(ShapeNode.from_dict(n) for n in data.get("nodes", ())),
                   float(data["cost"]), float(data.get("rows", 0.0)))

    def render(self) -> str:
        """The shape as indented lines, one node each (for messages and reports)."""
        return "\n".join("  " * n.depth + n.describe() for n in self.nodes)
