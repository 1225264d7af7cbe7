"""A (hypothetical) index: what the advisor proposes, costs and recommends.

>>> from indexadvisor.model.names import TableName
>>> t = TableName("public", "Order Lines")
>>> Candidate(t, ("id",)).label
'public."Order Lines"(id)'
>>> Candidate(t, ("(lower(email))", "Tier")).label
'public."Order Lines"((lower(email)), "Tier")'
>>> Candidate(t, ("a", "b"), order=("", "DESC")).label
'public."Order Lines"(a, b DESC)'
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import TableName, key_sql, quote_ident

# The sort order of one index key, as CREATE INDEX writes it: "" is PostgreSQL's default
# (ASC NULLS LAST), "DESC" is DESC NULLS FIRST (the default nulls order of DESC). Listed in the
# order `canonical_order` prefers them when two spellings serve the same scans.
KEY_ORDERS = ("", "DESC", "DESC NULLS LAST", "NULLS FIRST")
_FLIP = {"": "DESC", "DESC": "", "DESC NULLS LAST": "NULLS FIRST",
         "NULLS FIRST": "DESC NULLS LAST"}


def flip_order(order: str) -> str:
    """The order a backward scan of a key with `order` delivers.

    >>> flip_order(""), flip_order("DESC NULLS LAST")
    ('DESC', 'NULLS FIRST')
    """
    return _FLIP[order]


def key_order(desc: bool, nulls_first: bool) -> str:
    """One key's order from its two flags (PostgreSQL's indoption, an ORDER BY item).

    >>> key_order(False, False), key_order(True, True), key_order(True, False)
    ('', 'DESC', 'DESC NULLS LAST')
    """
    return {(False, False): "", (True, True): "DESC", (True, False): "DESC NULLS LAST",
            (False, True): "NULLS FIRST"}[(desc, nulls_first)]


def canonical_order(orders: tuple[str, ...]) -> tuple[str, ...]:
    """One spelling for the two key orders a btree scans alike (forwards and backwards): the
    one with fewer non-default keys, then the one whose keys come first in KEY_ORDERS.

    ``ORDER BY a DESC, b`` is served by ``(a DESC, b)`` and by ``(a, b DESC)`` alike:

    >>> canonical_order(("DESC", "")), canonical_order(("DESC", "DESC"))
    (('', 'DESC'), ('', ''))
    >>> canonical_order(("DESC NULLS LAST",))
    ('DESC NULLS LAST',)
    """
    flipped = tuple(flip_order(o) for o in orders)

    def rank(side: tuple[str, ...]) -> tuple[int, tuple[int, ...]]:
        return sum(1 for o in side if o), tuple(KEY_ORDERS.index(o) for o in side)

    return min(orders, flipped, key=rank)


@dataclass(frozen=True)
class Candidate:
    """Key columns in order, INCLUDE columns, predicate, access method, key sort orders.

    A key in `columns` is a plain column name or a canonical expression in parentheses
    (``"(lower(email))"``); `key_sql` writes either as SQL. INCLUDE holds plain columns only.
    `order` is empty (every key in PostgreSQL's default order) or holds one of KEY_ORDERS per
    key; an all-default `order` is stored empty, so ``Candidate(t, ("a",))`` equals
    ``Candidate(t, ("a",), order=("",))``.
    """

    table: TableName
    columns: tuple[str, ...]
    include: tuple[str, ...] = ()
    where: str | None = None
    method: str = "btree"
    order: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.order:
            if len(self.order) != len(self.columns) or any(o not in _FLIP for o in self.order):
                raise ValueError(f"key orders {self.order!r} do not fit keys {self.columns!r}")
            if not any(self.order):
                object.__setattr__(self, "order", ())
        # Candidates are hashed millions of times (cost-cache keys are sets of them): once.
        object.__setattr__(self, "_hash", hash(self._order()))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined]

    def __reduce__(self) -> tuple[type[Candidate], tuple[object, ...]]:
        # rebuilt, not restored: a hash of strings differs between processes
        return (Candidate, (self.table, self.columns, self.include, self.where, self.method,
                            self.order))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Candidate):
            return NotImplemented
        return (self._hash == other._hash  # type: ignore[attr-defined]
                and self._order() == other._order())

    @property
    def lead(self) -> tuple[TableName, str]:
        """(table, first key): what `is_relevant` looks for among a query's uses."""
        return (self.table, self.columns[0])

    def _order(self) -> tuple[TableName, tuple[str, ...], tuple[str, ...], str, str,
                              tuple[str, ...]]:
        return (self.table, self.columns, self.include, self.where or "", self.method,
                self.order)

    def __lt__(self, other: Candidate) -> bool:
        return self._order() < other._order()

    def key_order(self, position: int) -> str:
        """The sort order of the key at `position` ("" for the default)."""
        return self.order[position] if self.order else ""

    @property
    def orders(self) -> tuple[str, ...]:
        """One order per key, defaults spelled out as ""."""
        return self.order or ("",) * len(self.columns)

    @property
    def label(self) -> str:
        cols = ", ".join(key_sql(c) + (f" {o}" if o else "")
                         for c, o in zip(self.columns, self.orders, strict=True))
        text = f"{self.table}({cols})"
        if self.include:
            text += " INCLUDE (" + ", ".join(quote_ident(c) for c in self.include) + ")"
        if self.where:
            text += f" WHERE {self.where}"
        return text

    def is_prefix_of(self, other: Candidate) -> bool:
        """True when every lookup this index serves, `other` serves too (its keys lead
        `other`'s in the same orders, or all reversed: a backward scan)."""
        n = len(self.columns)
        mine, theirs = self.orders, other.orders[:n]
        return (
            self.table == other.table
            and self.method == other.method == "btree"
            and self.where == other.where
            and other.columns[:n] == self.columns
            and (mine == theirs or mine == tuple(flip_order(o) for o in theirs))
            and set(self.include) <= set(other.columns) | set(other.include)
        )
