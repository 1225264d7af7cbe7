"""Plans in the HTML report: the node-level diff as a tree, a plan as EXPLAIN's text form, and
a plan's JSON for pasting into a plan viewer. Every piece of plan text is escaped here.
"""

from __future__ import annotations

import json
from html import escape

from ..model import Plan, PlanNode
from .plandiff import ADDED, CHANGED, REMOVED, DiffNode, diff_nodes, only_plan

SHOWN_DETAILS = ("Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond", "Join Filter",
                 "Filter", "Sort Key", "Group Key", "Rows Removed by Filter", "Heap Fetches")


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}".rstrip("0").rstrip(".")


def _actual(node: PlanNode) -> str:
    a = node.actual
    if a is None:
        return ""
    text = f"{_num(a.total_ms)} ms x {_num(a.loops)}, rows {_num(a.rows)}"
    if a.shared_hit is not None or a.shared_read is not None:
        text += f", buffers hit {a.shared_hit or 0:,} read {a.shared_read or 0:,}"
    return text


def _numbers(d: DiffNode) -> str:
    """Cost and rows, before → after where both exist; notable moves marked."""
    b, a = d.before, d.after
    if d.status in (ADDED, REMOVED) or b is None or a is None or b is a:
        n = d.node
        out = f"cost {_num(n.total_cost)}, rows {_num(n.plan_rows)}"
        real = _actual(n)
        return out + (f"; actual {real}" if real else "")
    cost = f"cost {_num(b.total_cost)}" + ("" if b.total_cost == a.total_cost
                                           else f" → {_num(a.total_cost)}")
    rows = f"rows {_num(b.plan_rows)}" + ("" if b.plan_rows == a.plan_rows
                                          else f" → {_num(a.plan_rows)}")
    cost = f'<span class="hot">{cost}</span>' if d.cost_changed else cost
    rows = f'<span class="hot">{rows}</span>' if d.rows_changed else rows
    out = f"{cost}, {rows}"
    if b.actual is not None and a.actual is not None:
        out += f"; actual {escape(_actual(b))} → {escape(_actual(a))}"
    return out


def _details(d: DiffNode) -> str:
    node = d.node
    lines = []
    before = dict(d.before.details) if d.before is not None and d.status == CHANGED else {}
    for key, value in node.details:
        if key not in SHOWN_DETAILS:
            continue
        old = before.get(key)
        text = f"{key}: {value}" if old in (None, value) else f"{key}: {old} → {value}"
        lines.append(f'<div class="d">{escape(text)}</div>')
    if d.status == CHANGED:
        gone = [k for k in before if k in SHOWN_DETAILS and node.detail(k) is None]
        lines += [f'<div class="d">{escape(k)}: {escape(before[k])} → (none)</div>'
                  for k in gone]
    return "".join(lines)


def diff_tree(diff: DiffNode) -> str:
    """The merged tree as nested lists: changed nodes in one colour, added and removed in
    others, costs and row estimates that moved by 2x or more highlighted."""
    def item(d: DiffNode) -> str:
        hypo = " (hypothetical)" if d.after is not None and d.after.hypothetical else ""
        status = "" if d.status == "same" else f' <span class="muted">[{d.status}]</span>'
        kids = "".join(item(c) for c in d.children)
        inner = f'<ul class="plan">{kids}</ul>' if kids else ""
        return (f'<li class="n {d.status}"><span class="what">{escape(d.label)}</span>'
                f'{escape(hypo)}{status} <span class="d">{_numbers(d)}</span>'
                f'{_details(d)}{inner}</li>')

    return f'<ul class="plan top">{item(diff)}</ul>'


def plan_diff(before: Plan | None, after: Plan | None) -> str:
    """The diff of two plans, or the one plan there is, as a tree."""
    if before is None and after is None:
        return '<p class="muted">No plan (not costed).</p>'
    if before is None or after is None:
        only = before or after
        assert only is not None
        return diff_tree(only_plan(only.root))
    return diff_tree(diff_nodes(before.root, after.root))


def plan_text(plan: Plan) -> str:
    """EXPLAIN's text form, indented as psql prints it (escaped)."""
    lines: list[str] = []

    def walk(node: PlanNode, depth: int) -> None:
        pad = "" if depth == 0 else "  " * (depth - 1) * 3 + "  ->  "
        head = f"{node.describe()}  (cost={node.startup_cost:.2f}..{node.total_cost:.2f} " \
               f"rows={node.plan_rows:.0f} width={node.plan_width})"
        if node.actual is not None:
            a = node.actual
            head += (f" (actual time={a.startup_ms:.3f}..{a.total_ms:.3f} rows={a.rows:.0f} "
                     f"loops={a.loops:.0f})")
        lines.append(pad + head)
        inner = " " * (len(pad) + (2 if depth else 0))
        lines.extend(f"{inner}{k}: {v}" for k, v in node.details)
        for child in node.children:
            walk(child, depth + 1)

    walk(plan.root, 0)
    if plan.execution_ms is not None:
        lines.append(f"Execution Time: {plan.execution_ms:.3f} ms")
    return escape("\n".join(lines))


def plan_json(plan: Plan) -> str:
    """The plan as EXPLAIN (FORMAT JSON), compact and escaped, for PEV2 or any viewer."""
    return escape(json.dumps(plan.to_explain(), separators=(",", ":"), ensure_ascii=False))
