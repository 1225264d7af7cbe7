"""The catalog: frozen values (`values`), assembled by a pure function (`build`) from one
read-only read of pg_catalog (`read`)."""

from .values import Catalog, Column, ColumnStats, Index, Table, View

__all__ = ["Catalog", "Column", "ColumnStats", "Index", "Table", "View"]
