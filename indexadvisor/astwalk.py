"""Walking pglast parse trees: the one place that knows how child nodes are stored."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast


def children(node: ast.Node, skip: str | None = None) -> Iterator[ast.Node]:
    """The nodes directly under `node` (every slot, lists and tuples flattened)."""
    for name in getattr(type(node), "__slots__", ()):
        if name == skip:
            continue
        yield from flatten(getattr(node, name, None))


def flatten(value: object) -> Iterator[ast.Node]:
    """Nodes inside a slot value; VALUES lists are tuples of tuples."""
    if isinstance(value, ast.Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from flatten(item)
