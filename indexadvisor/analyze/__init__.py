"""Per-statement analysis: the pglast gate, then column uses resolved to base tables.

>>> from indexadvisor.model import TableName
>>> schema = SchemaMap({TableName("public", "orders"): {"id": "integer"}})
>>> [str(u.kind) for u in analyze("SELECT 1 FROM orders o WHERE o.id = $1", schema).uses]
['eq']
"""

from indexadvisor.analyze.schema import SchemaMap
from indexadvisor.analyze.uses import Analysis, WrittenColumn, analyze
from indexadvisor.sql.parse import (
    ParsedStatement,
    StatementError,
    parse_statement,
    statement_relations,
)

__all__ = [
    "Analysis",
    "ParsedStatement",
    "SchemaMap",
    "StatementError",
    "WrittenColumn",
    "analyze",
    "parse_statement",
    "statement_relations",
]
