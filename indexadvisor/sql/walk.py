"""Walking pglast parse trees: the one place that knows how child nodes are stored.

>>> import pglast
>>> stmt = pglast.parse_sql("SELECT a FROM t WHERE b = (SELECT max(c) FROM u)")[0].stmt
>>> [n.relname for n in walk(stmt) if isinstance(n, ast.RangeVar)]
['t', 'u']
>>> [n.relname for n in walk(stmt, prune=ast.SubLink) if isinstance(n, ast.RangeVar)]
['t']
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast


def children(node: ast.Node, skip: str | None = None) -> Iterator[ast.Node]:
    """The nodes directly under `node` (every slot, lists and tuples flattened), in order."""
    for name in getattr(type(node), "__slots__", ()):
        if name == skip:
            continue
        yield from flatten(getattr(node, name, None))


def flatten(value: object) -> Iterator[ast.Node]:
    """Nodes inside a slot value; VALUES lists are tuples of tuples."""
    if isinstance(value, ast.Node):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from flatten(item)


def walk(node: ast.Node, *, prune: type[ast.Node] | tuple[type[ast.Node], ...] = ()
         ) -> Iterator[ast.Node]:
    """`node` and every node under it, in document order (pre-order). Below a node of a
    `prune` type (e.g. ``ast.SubLink``: stay out of subqueries) nothing is visited; the node
    itself is."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if prune and isinstance(current, prune):
            continue
        stack.extend(reversed(list(children(current))))
