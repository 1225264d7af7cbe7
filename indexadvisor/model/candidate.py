"""A (hypothetical) index: what the advisor proposes, costs and recommends.

>>> from indexadvisor.model.names import TableName
>>> t = TableName("public", "Order Lines")
>>> Candidate(t, ("id",)).label
'public."Order Lines"(id)'
>>> Candidate(t, ("(lower(email))", "Tier")).label
'public."Order Lines"((lower(email)), "Tier")'
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import TableName, key_sql, quote_ident


@dataclass(frozen=True)
class Candidate:
    """Key columns in order, INCLUDE columns, predicate, access method.

    A key in `columns` is a plain column name or a canonical expression in parentheses
    (``"(lower(email))"``); `key_sql` writes either as SQL. INCLUDE holds plain columns only.
    """

    table: TableName
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"

    def _order(self) -> tuple[TableName, tuple[str, ...], tuple[str, ...], str, str]:
        return (self.table, self.columns, self.include, self.where or "", self.method)

    def __lt__(self, other: Candidate) -> bool:
        return self._order() < other._order()

    @property
    def label(self) -> str:
        cols = ", ".join(key_sql(c) for c in self.columns)
        text = f"{self.table}({cols})"
        if self.include:
            text += " INCLUDE (" + ", ".join(quote_ident(c) for c in self.include) + ")"
        if self.where:
            text += f" WHERE {self.where}"
        return text

    def is_prefix_of(self, other: Candidate) -> bool:
        """True when every lookup this index serves, `other` serves too."""
        return (
            self.table == other.table
            and self.method == other.method == "btree"
            and self.where == other.where
            and other.columns[: len(self.columns)] == self.columns
            and set(self.include) <= set(other.columns) | set(other.include)
        )
