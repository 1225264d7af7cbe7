"""Read through views: a statement with every view it reads replaced by the view's definition.

PostgreSQL plans a query on a view as the query with the view's definition in its place (the
rewriter inlines it as a subquery), so that is how the analyzer reads it too: each ``RangeVar``
that names a view (not a CTE, not the target of an INSERT/UPDATE/DELETE/MERGE) becomes
``(<definition>) AS <name>``, in the text, so every later pass (pglast and sqlglot, the
expression keys that need positions in one text) sees one consistent statement. Views of views
are expanded in turn. The column uses then resolve to the base tables through the subquery
(`resolve`): a filter on a view's column is a filter on the base column wherever PostgreSQL
can push it down.

Costing never sees this text: EXPLAIN runs the statement as written.

>>> from indexadvisor.model import TableName
>>> s = SchemaMap({TableName("public", "orders"): {"id": "int", "status": "text"}},
...               views={TableName("public", "open_orders"):
...                      "SELECT id FROM orders WHERE status = 'open'"})
>>> text, views = expand_views("SELECT * FROM open_orders o WHERE o.id = 1", s)
>>> print(text)
SELECT * FROM (SELECT id FROM orders WHERE status = 'open') o WHERE o.id = 1
>>> [str(v) for v in views]
['public.open_orders']
"""

from __future__ import annotations

from collections.abc import Iterator

import pglast
from pglast import ast
from pglast.parser import ParseError, scan

from indexadvisor.analyze.schema import SchemaMap
from indexadvisor.model import TableName, quote_ident
from indexadvisor.sql.walk import children

MAX_DEPTH = 16  # views of views; deeper (or cyclic) definitions are left as they are
_TARGETS = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt, ast.MergeStmt)
_NAME_TOKENS = frozenset({"IDENT", "UNRESERVED_KEYWORD", "COL_NAME_KEYWORD",
                          "TYPE_FUNC_NAME_KEYWORD"})


def expand_views(text: str, schema: SchemaMap,
                 depth: int = 0) -> tuple[str, tuple[TableName, ...]]:
    """`text` with every view it reads inlined, and the views read (sorted; nested too).
    Text that does not parse, or reads no view, comes back as it is."""
    if not schema.views or depth > MAX_DEPTH:
        return text, ()
    folded = text.lower()
    if not any(view.name.lower() in folded for view in schema.views):
        return text, ()  # names no view (a cheap test before parsing)
    try:
        tree = pglast.parse_sql(text)
    except ParseError:
        return text, ()
    edits: list[tuple[int, int, str]] = []
    views: set[TableName] = set()
    for raw in tree:
        for node in _read_relations(raw.stmt, frozenset()):
            view = schema.view_named(node.schemaname, node.relname or "")
            if view is None or node.location is None or not node.relname:
                continue
            end = _name_end(text, node.location)
            if end is None:
                continue
            body, inner = expand_views(schema.views[view], schema, depth + 1)
            views.add(view)
            views.update(inner)
            alias = "" if node.alias is not None else f" AS {quote_ident(node.relname)}"
            edits.append((node.location, end, f"({body}){alias}"))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, tuple(sorted(views))


def _read_relations(node: ast.Node | None, ctes: frozenset[str]) -> Iterator[ast.RangeVar]:
    """RangeVars a statement reads, without CTE names visible where they are read and without
    the target of a data-modifying statement."""
    if node is None:
        return
    if isinstance(node, ast.RangeVar):
        if not (node.schemaname is None and node.relname in ctes):
            yield node
        return
    with_clause = getattr(node, "withClause", None)
    names: list[str] = []
    if isinstance(with_clause, ast.WithClause):
        names = [cte.ctename for cte in with_clause.ctes or ()]
        for i, cte in enumerate(with_clause.ctes or ()):
            visible = names if with_clause.recursive else names[:i]
            yield from _read_relations(cte.ctequery, ctes | frozenset(visible))
    inner = ctes | frozenset(names)
    skip = "relation" if isinstance(node, _TARGETS) else None
    for child in children(node, skip=skip):
        if child is not with_clause:
            yield from _read_relations(child, inner)


def _name_end(text: str, start: int) -> int | None:
    """Where the (possibly qualified) relation name starting at `start` ends."""
    try:
        tokens = [t for t in scan(text) if t.start >= start]
    except ParseError:
        return None
    if not tokens or tokens[0].start != start or tokens[0].name not in _NAME_TOKENS:
        return None
    end = tokens[0].end + 1
    i = 1
    while i + 1 < len(tokens) and tokens[i].name == "ASCII_46" \
            and tokens[i + 1].name in _NAME_TOKENS:
        end = tokens[i + 1].end + 1
        i += 2
    return end
