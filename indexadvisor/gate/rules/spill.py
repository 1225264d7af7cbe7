"""IA104 spill: a new sort or hash whose estimated input exceeds work_mem, so it may spill to disk.

Estimated bytes are the node's rows times its width; a Sort spills past `work_mem`, a Hash or
HashAggregate past `work_mem` x `hash_mem_multiplier` (the server's settings). Only nodes the
baseline plan did not already have are reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from ...model import format_size
from ...model.gate import Finding, Severity
from ...model.shape import PlanShape, ShapeNode
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.WARNING)
SORTS = frozenset({"Sort", "Incremental Sort"})


def _limit(node: ShapeNode, ctx: Context) -> float | None:
    if node.node_type in SORTS:
        return float(ctx.work_mem)
    if node.node_type == "Hash" or (node.node_type == "Aggregate" and node.strategy == "Hashed"):
        return ctx.work_mem * ctx.hash_mem_multiplier
    return None


def _spills(shape: PlanShape, ctx: Context) -> list[ShapeNode]:
    out = []
    for node in shape.nodes:
        limit = _limit(node, ctx)
        if limit is not None and node.bytes > limit:
            out.append(node)
    return out


def check(ctx: Context) -> Iterator[Finding]:
    for pair in ctx.compared():
        assert pair.before is not None and pair.after is not None
        old = Counter(n.describe() for n in _spills(pair.before, ctx))
        for node in _spills(pair.after, ctx):
            name = node.describe()
            if old[name] > 0:
                old[name] -= 1
                continue
            limit = _limit(node, ctx) or 0.0
            yield finding(RULE, f"{pair.label}: new {name} of ~{node.rows:,.0f} rows x "
                          f"{node.width} bytes ({format_size(node.bytes)}) may spill past "
                          f"{format_size(limit)} of memory", pair=pair, subject=name)
