"""The catalog as the analyzer needs it: tables, their columns, and the search_path.

>>> s = SchemaMap({TableName("public", "orders"): {"id": "integer"}})
>>> s.resolve("Orders"), s.resolve('"Orders"')
(TableName(schema='public', name='orders'), None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.schema import MappingSchema

from indexadvisor.model import TableName


@dataclass(frozen=True)
class SchemaMap:
    """Tables with their columns (name -> type, as pg_catalog spells them) and a search_path;
    the views (name -> definition), which the analyzer reads through (`views`), and the names
    of the system relations (pg_catalog, information_schema), which it does not advise on."""

    tables: Mapping[TableName, Mapping[str, str]]
    search_path: tuple[str, ...] = ("public",)
    views: Mapping[TableName, str] = field(default_factory=dict)
    system: frozenset[TableName] = frozenset()

    def locate(self, schema: str | None, name: str) -> tuple[str, TableName] | None:
        """("table" | "view" | "system", its name) for already case-folded parts, as
        PostgreSQL finds it: a schema given, or pg_catalog first, then the search_path.

        >>> s = SchemaMap({TableName("app", "users"): {}}, search_path=("public", "app"),
        ...               views={TableName("public", "users"): "SELECT 1"},
        ...               system=frozenset({TableName("pg_catalog", "pg_class")}))
        >>> s.locate(None, "users"), s.locate(None, "pg_class")[0], s.locate("x", "users")
        (('view', TableName(schema='public', name='users')), 'system', None)
        """
        candidates = (schema,) if schema else ("pg_catalog", *self.search_path)
        for namespace in candidates:
            found = TableName(namespace, name)
            if found in self.tables:
                return "table", found
            if found in self.views:
                return "view", found
            if found in self.system:
                return "system", found
        return None

    def lookup(self, schema: str | None, name: str) -> TableName | None:
        """Find a table by already case-folded parts; no schema means follow search_path.

        >>> s = SchemaMap({TableName("app", "users"): {}}, search_path=("public", "app"))
        >>> s.lookup(None, "users"), s.lookup("public", "users")
        (TableName(schema='app', name='users'), None)
        """
        found = self.locate(schema, name)
        return found[1] if found is not None and found[0] == "table" else None

    def view_named(self, schema: str | None, name: str) -> TableName | None:
        """The view a (case-folded) name refers to, if it is one."""
        found = self.locate(schema, name)
        return found[1] if found is not None and found[0] == "view" else None

    def find(self, name: str) -> tuple[str, TableName] | None:
        """`locate` for a name as SQL writes it (see `resolve`)."""
        try:
            table = exp.to_table(name, dialect="postgres")
        except SqlglotError:
            return None
        table = normalize_identifiers(table, dialect="postgres")
        return self.locate(table.db or None, table.name)

    def resolve(self, name: str) -> TableName | None:
        """Resolve a name as SQL writes it (unquoted folds to lower case, quoted keeps case).

        >>> s = SchemaMap({TableName("public", "OrderLines"): {}})
        >>> s.resolve('public."OrderLines"'), s.resolve("OrderLines")
        (TableName(schema='public', name='OrderLines'), None)
        """
        found = self.find(name)
        return found[1] if found is not None and found[0] == "table" else None

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
