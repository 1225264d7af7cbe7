"""The catalog as the analyzer needs it: tables, their columns, and the search_path.

>>> s = SchemaMap({TableName("public", "orders"): {"id": "integer"}})
>>> s.resolve("Orders"), s.resolve('"Orders"')
(TableName(schema='public', name='orders'), None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.schema import MappingSchema

from indexadvisor.model import TableName


@dataclass(frozen=True)
class SchemaMap:
    """Tables with their columns (name -> type, as pg_catalog spells them) and a search_path."""

    tables: Mapping[TableName, Mapping[str, str]]
    search_path: tuple[str, ...] = ("public",)

    def lookup(self, schema: str | None, name: str) -> TableName | None:
        """Find a table by already case-folded parts; no schema means follow search_path.

        >>> s = SchemaMap({TableName("app", "users"): {}}, search_path=("public", "app"))
        >>> s.lookup(None, "users"), s.lookup("public", "users")
        (TableName(schema='app', name='users'), None)
        """
        candidates = (schema,) if schema else self.search_path
        for namespace in candidates:
            table = TableName(namespace, name)
            if table in self.tables:
                return table
        return None

    def resolve(self, name: str) -> TableName | None:
        """Resolve a name as SQL writes it (unquoted folds to lower case, quoted keeps case).

        >>> s = SchemaMap({TableName("public", "OrderLines"): {}})
        >>> s.resolve('public."OrderLines"'), s.resolve("OrderLines")
        (TableName(schema='public', name='OrderLines'), None)
        """
        try:
            table = exp.to_table(name, dialect="postgres")
        except SqlglotError:
            return None
        table = normalize_identifiers(table, dialect="postgres")
        return self.lookup(table.db or None, table.name)

    def columns(self, table: TableName) -> Mapping[str, str]:
        """The columns of a table (empty when the table is unknown).

        >>> t = TableName("public", "t")
        >>> SchemaMap({t: {"a": "integer"}}).columns(t)
        {'a': 'integer'}
        """
        return self.tables.get(table, {})

    @cached_property
    def sqlglot_schema(self) -> MappingSchema:
        """The same tables as a sqlglot schema, with names kept exactly as spelled.

        >>> s = SchemaMap({TableName("public", "T"): {"A b": "text"}})
        >>> s.sqlglot_schema.column_names(exp.to_table('public."T"'))
        ['A b']
        """
        nested: dict[str, object] = {}
        for table, columns in self.tables.items():
            tables = nested.setdefault(table.schema, {})
            assert isinstance(tables, dict)
            tables[table.name] = dict(columns)
        return MappingSchema(nested, dialect="postgres", normalize=False)
