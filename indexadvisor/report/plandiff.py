"""A node-level diff of two plans: nodes matched between before and after, each marked same,
changed (another access path, join method, cost or row estimate), added or removed.

Matching works on what a reader recognises a node by: the relation it scans (and its alias),
its node type, and the relations under it. Children are paired best-first; a node whose only
job is to wrap another (a Sort the new index makes unnecessary, a Gather around a parallel
scan) is skipped over when its child matches the other side better, so the diff says
"Seq Scan on orders -> Index Scan using orders_customer_id_idx on orders" with the Sort
removed, not "Sort -> Index Scan".

>>> from indexadvisor.model import PlanNode
>>> seq = PlanNode("Seq Scan", 0, 5948.4, 12, 40, relation="orders", alias="o")
>>> before = PlanNode("Sort", 6000, 6010, 12, 40, children=(seq,))
>>> after = PlanNode("Index Scan", 0.42, 43.1, 12, 40, relation="orders", alias="o",
...                  index_name="orders_customer_id_idx", hypothetical=True)
>>> d = diff_nodes(before, after)
>>> d.status, d.before.node_type
('removed', 'Sort')
>>> d.children[0].status, d.children[0].label
('changed', 'Seq Scan on orders o → Index Scan using orders_customer_id_idx on orders o')
>>> access_changes(d)
('Seq Scan on orders o → Index Scan using orders_customer_id_idx on orders o',)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import PlanNode

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"
#: A row estimate or cost that moves by this factor is highlighted.
NOTABLE = 2.0


@dataclass(frozen=True)
class DiffNode:
    """One node of the merged tree."""

    status: str  # same | changed | added | removed
    before: PlanNode | None
    after: PlanNode | None
    children: tuple[DiffNode, ...] = ()

    @property
    def node(self) -> PlanNode:
        """The node shown: after where there is one."""
        node = self.after or self.before
        assert node is not None
        return node

    @property
    def label(self) -> str:
        if self.before is not None and self.after is not None:
            b, a = self.before.describe(), self.after.describe()
            return b if a == b else f"{b} → {a}"
        return self.node.describe()

    @property
    def access_changed(self) -> bool:
        """Another node type or index on the same relation, or another join method."""
        b, a = self.before, self.after
        return b is not None and a is not None and (
            b.node_type != a.node_type or b.index_name != a.index_name)

    @property
    def rows_changed(self) -> bool:
        b, a = self.before, self.after
        return b is not None and a is not None and _factor(b.plan_rows, a.plan_rows) >= NOTABLE

    @property
    def cost_changed(self) -> bool:
        b, a = self.before, self.after
        return b is not None and a is not None and _factor(b.total_cost, a.total_cost) >= NOTABLE

    def walk(self) -> list[DiffNode]:
        out = [self]
        for child in self.children:
            out += child.walk()
        return out


def _factor(x: float, y: float) -> float:
    lo, hi = sorted((abs(x), abs(y)))
    if hi == 0:
        return 1.0
    return float("inf") if lo == 0 else hi / lo


def _relations(node: PlanNode) -> frozenset[str]:
    return frozenset(f"{n.relation} {n.alias or ''}" for n in node.walk() if n.relation)


def _score(b: PlanNode, a: PlanNode) -> float:
    score = 0.0
    if b.relation is not None and (b.relation, b.alias) == (a.relation, a.alias):
        score += 4
    if b.node_type == a.node_type:
        score += 2
    rb, ra = _relations(b), _relations(a)
    if rb or ra:
        score += 2 * len(rb & ra) / len(rb | ra)
    return score


def _chain(node: PlanNode) -> list[PlanNode]:
    """The node and the nodes below it while each has exactly one child."""
    out = [node]
    while len(out[-1].children) == 1:
        out.append(out[-1].children[0])
    return out


def diff_nodes(before: PlanNode, after: PlanNode) -> DiffNode:
    """The merged tree of two plans' roots."""
    chain_b, chain_a = _chain(before), _chain(after)
    best = (_score(before, after), 0, 0)
    for i, b in enumerate(chain_b):
        for j, a in enumerate(chain_a):
            s = _score(b, a)
            if s > best[0] + 1e-9:
                best = (s, i, j)
    _, i, j = best
    if i == 0 and j == 0:
        return _merge(before, after)
    return _align(chain_b[:i], chain_a[:j], diff_nodes(chain_b[i], chain_a[j]))


def _align(wraps_b: list[PlanNode], wraps_a: list[PlanNode], inner: DiffNode) -> DiffNode:
    """Single-child nodes above the matched pair: the same node types paired in order (a
    Limit stays a Limit), the others removed or added."""
    steps: list[tuple[PlanNode | None, PlanNode | None]] = []
    b, a = list(wraps_b), list(wraps_a)
    while b or a:
        if b and a and b[0].node_type == a[0].node_type:
            steps.append((b.pop(0), a.pop(0)))
        elif b and (not a or all(x.node_type != b[0].node_type for x in a)):
            steps.append((b.pop(0), None))
        else:
            steps.append((None, a.pop(0)))
    for old, new in reversed(steps):
        if old is not None and new is not None:
            same = old.describe() == new.describe() and not _moved(old, new)
            inner = DiffNode(SAME if same else CHANGED, old, new, (inner,))
        else:
            inner = DiffNode(REMOVED if new is None else ADDED, old, new, (inner,))
    return inner


def _moved(b: PlanNode, a: PlanNode) -> bool:
    return (_factor(b.plan_rows, a.plan_rows) >= NOTABLE
            or _factor(b.total_cost, a.total_cost) >= NOTABLE)


def _merge(b: PlanNode, a: PlanNode) -> DiffNode:
    same = b.describe() == a.describe() and not _moved(b, a)
    pairs = sorted(((_score(x, y), i, j) for i, x in enumerate(b.children)
                    for j, y in enumerate(a.children)), key=lambda t: (-t[0], t[1], t[2]))
    taken_b: dict[int, int] = {}
    taken_a: set[int] = set()
    for score, i, j in pairs:
        if score > 0 and i not in taken_b and j not in taken_a:
            taken_b[i] = j
            taken_a.add(j)
    by_after: dict[int, DiffNode] = {j: diff_nodes(b.children[i], a.children[j])
                                     for i, j in taken_b.items()}
    children: list[DiffNode] = []
    for j, child in enumerate(a.children):
        children.append(by_after[j] if j in by_after else _only(child, ADDED))
    children += [_only(child, REMOVED) for i, child in enumerate(b.children) if i not in taken_b]
    return DiffNode(SAME if same else CHANGED, b, a, tuple(children))


def _only(node: PlanNode, status: str) -> DiffNode:
    """A subtree only one plan has."""
    kids = tuple(_only(child, status) for child in node.children)
    return DiffNode(status, node if status == REMOVED else None,
                    node if status == ADDED else None, kids)


def only_plan(node: PlanNode) -> DiffNode:
    """A plan shown without a second one to compare with: every node `same`."""
    return DiffNode(SAME, node, node, tuple(only_plan(c) for c in node.children))


def access_changes(diff: DiffNode) -> tuple[str, ...]:
    """The access-path changes of a diff, one line each, in plan order: what a reader
    wants in one glance ("Seq Scan on orders → Index Scan using ..."). A scan that appears
    (a new Bitmap Index Scan under a changed node) counts too."""
    out = []
    for node in diff.walk():
        n = node.node
        if node.status == CHANGED and node.access_changed and (n.relation or n.index_name):
            out.append(node.label)
        elif node.status == ADDED and n.index_name and not any(
                n.index_name in line for line in out):
            out.append(f"+ {n.describe()}")
    return tuple(out)
