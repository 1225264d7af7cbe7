"""What every rule reads: the watched statements' plans before and after the migration, the
migration's statements, the indexes it creates and drops, table sizes and settings. Plain
values, so a rule is a pure function and its case file needs no database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...model import short
from ...model.gate import CheckConfig, Finding, Location, RuleInfo, Severity, Thresholds
from ...model.shape import INDEX_SCANS, PlanShape
from ..migration import MigrationStatement


@dataclass(frozen=True)
class Pair:
    """One watched statement: its plan in the baseline (or before the migration) and after."""

    key: str
    location: Location
    text: str
    calls: int = 1
    before: PlanShape | None = None
    after: PlanShape | None = None
    before_error: str | None = None
    after_error: str | None = None

    @property
    def label(self) -> str:
        """The statement as a message names it: its text, shortened, and where it is."""
        return f"{short(self.text, 70)} ({self.location})"


@dataclass(frozen=True)
class CreatedIndex:
    """An index the migration creates (as a hypothetical index where it can)."""

    name: str  # as plans show it
    table: str  # the table's name as plans show relations (unqualified)
    location: Location
    statement: str  # its CREATE INDEX statement
    simulated: bool = True
    used_by: tuple[str, ...] = ()  # keys of the statements whose plans read it
    saving: float | None = None  # calls-weighted cost its readers save with it
    write_cost: float | None = None  # calls-weighted cost the workload's writes pay for it


@dataclass(frozen=True)
class DroppedIndex:
    """An existing index the migration drops."""

    name: str  # unqualified, as plans show it
    table: str
    location: Location
    definition: str = ""


@dataclass(frozen=True)
class Context:
    """Everything the rules look at."""

    pairs: tuple[Pair, ...] = ()
    migration: tuple[MigrationStatement, ...] = ()
    created: tuple[CreatedIndex, ...] = ()
    dropped: tuple[DroppedIndex, ...] = ()
    table_rows: Mapping[str, float] = field(default_factory=dict)  # relname -> rows
    existing_tables: frozenset[str] = frozenset()  # before the migration: name, schema.name
    work_mem: int = 4 << 20  # bytes
    hash_mem_multiplier: float = 2.0
    config: CheckConfig = field(default_factory=CheckConfig)

    def thresholds(self, pair: Pair) -> Thresholds:
        return self.config.for_statement(pair.key, pair.location)

    def compared(self) -> list[Pair]:
        """Statements planned on both sides."""
        return [p for p in self.pairs if p.before is not None and p.after is not None]

    def existed(self, table: str | None) -> bool:
        """Whether `table` (as a migration wrote it) existed before the migration."""
        if table is None:
            return False
        return table in self.existing_tables or table.split(".")[-1] in self.existing_tables


def make_rule(doc: str | None, severity: Severity) -> RuleInfo:
    """A rule's description from its module docstring: ``IA101 name: summary`` first."""
    text = (doc or "").strip()
    head, _, body = text.partition("\n")
    match = re.fullmatch(r"(IA\d{3}) ([a-z0-9-]+): (.+)", head.strip())
    if not match:
        raise ValueError(f"rule docstring must start with 'IAnnn name: summary': {head!r}")
    return RuleInfo(match.group(1), match.group(2), severity, match.group(3).rstrip("."),
                    " ".join(body.split()))


def finding(rule: RuleInfo, message: str, *, pair: Pair | None = None,
            location: Location | None = None, subject: str = "",
            severity: Severity | None = None) -> Finding:
    """A finding of `rule`, about a statement (`pair`) or a migration statement."""
    return Finding(rule.code, rule.name, severity or rule.severity, message,
                   key=pair.key if pair else None,
                   location=pair.location if pair else location, subject=subject,
                   before_cost=pair.before.cost if pair and pair.before else None,
                   after_cost=pair.after.cost if pair and pair.after else None)


def cost_change(before: PlanShape, after: PlanShape) -> str:
    """``cost 8.44 -> 1,834.00 (217.3x)``.

    >>> from indexadvisor.model.shape import PlanShape
    >>> cost_change(PlanShape((), 10.0, 1), PlanShape((), 25.0, 1))
    'cost 10.00 -> 25.00 (2.5x)'
    """
    ratio = f"{after.cost / before.cost:,.1f}x" if before.cost > 0 else "from 0"
    return f"cost {before.cost:,.2f} -> {after.cost:,.2f} ({ratio})"


def _reads(shape: PlanShape) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for relation, node_type, index in shape.scans():
        if node_type == "Bitmap Index Scan":
            continue
        text = node_type + (f" using {index}" if index else "")
        out.setdefault(relation, []).append(text)
    return out


def plan_change(before: PlanShape, after: PlanShape) -> str:
    """How the plan changed, by the way each relation is read (or the top node when no scan
    changed): ``orders: Index Scan using orders_customer_idx -> Seq Scan``.

    >>> from indexadvisor.model.shape import PlanShape, ShapeNode
    >>> a = PlanShape((ShapeNode(0, "Index Scan", "orders", "orders_c_idx"),), 8, 1)
    >>> b = PlanShape((ShapeNode(0, "Seq Scan", "orders"),), 80, 1)
    >>> plan_change(a, b)
    'orders: Index Scan using orders_c_idx -> Seq Scan'
    """
    old, new = _reads(before), _reads(after)
    parts = [f"{rel}: {' + '.join(old.get(rel, ['-']))} -> {' + '.join(new.get(rel, ['-']))}"
             for rel in sorted(set(old) | set(new)) if sorted(old.get(rel, [])) !=
             sorted(new.get(rel, []))]
    if parts:
        return "; ".join(parts)
    if before.signature != after.signature:
        return f"{before.nodes[0].describe()} -> {after.nodes[0].describe()}" \
            if before.nodes and after.nodes else "plan changed"
    return "same plan"


def index_reads(shape: PlanShape) -> dict[str, set[str]]:
    """relation -> the index-based ways it is read (index, index-only, bitmap)."""
    out: dict[str, set[str]] = {}
    for i, node in enumerate(shape.nodes):
        if node.relation and (node.node_type in INDEX_SCANS
                              or node.node_type == "Bitmap Heap Scan"):
            out.setdefault(node.relation, set()).add(node.node_type)
        del i
    return out
