"""Frozen value objects shared by every stage of the pipeline.

Nothing here does I/O; state read from a database lives in the layer that read it.

>>> t = TableName("public", "Order Lines")
>>> str(t)
'public."Order Lines"'
>>> Candidate(t, ("id",)).label
'public."Order Lines"(id)'
>>> Candidate(t, ("(lower(email))", "Tier")).label
'public."Order Lines"((lower(email)), "Tier")'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pglast.stream import maybe_double_quote_name

from .expressions import key_column_names


def quote_ident(name: str) -> str:
    """Quote an identifier the way PostgreSQL needs it (only when needed).

    >>> quote_ident("orders"), quote_ident("Orders"), quote_ident("select")
    ('orders', '"Orders"', '"select"')
    """
    return str(maybe_double_quote_name(name))


# Index keys. A key "column" (ColumnUse.column, Candidate.columns, catalog Index.columns) is
# either a plain column name, stored unquoted as pg_catalog spells it, or an expression: its
# canonical SQL text (pglast's deparse, qualifiers stripped; see indexadvisor.expressions)
# wrapped in parentheses, e.g. "(lower(email))". The parentheses tell them apart; a column
# whose own name starts with "(" and ends with ")" would be mistaken for an expression.


def is_expression(key: str) -> bool:
    """True when an index key is an expression rather than a plain column.

    >>> is_expression("(lower(email))"), is_expression("email")
    (True, False)
    """
    return key.startswith("(") and key.endswith(")")


def key_sql(key: str) -> str:
    """An index key as SQL: a column quoted where needed, an expression as it is.

    >>> key_sql("Order Id"), key_sql("(CAST(created_at AS date))")
    ('"Order Id"', '(CAST(created_at AS date))')
    """
    return key if is_expression(key) else quote_ident(key)


def key_columns(key: str) -> tuple[str, ...]:
    """The table columns an index key reads (several for an expression like ``(a + b)``).

    >>> key_columns("email"), key_columns("(lower(email))")
    (('email',), ('email',))
    """
    return key_column_names(key) if is_expression(key) else (key,)


@dataclass(frozen=True, order=True)
class TableName:
    """A schema-qualified relation name, stored unquoted (as pg_catalog spells it)."""

    schema: str
    name: str

    def __str__(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


class UseKind(StrEnum):
    """How a query uses a column; decides where the column goes in a composite index."""

    EQ = "eq"
    IN = "in"
    RANGE = "range"
    LIKE_PREFIX = "like_prefix"
    IS_NULL = "is_null"
    JOIN = "join"
    ORDER = "order"
    GROUP = "group"
    PROJECT = "project"


@dataclass(frozen=True, order=True)
class ColumnUse:
    """One column (or expression) of one base table used by a query in one way.

    `column` is an index key: a plain column name, or the canonical text of an expression
    over columns of this one table in parentheses, e.g. ``"(lower(email))"`` for
    ``WHERE lower(u.email) = $1`` (see `is_expression`).
    """

    table: TableName
    column: str
    kind: UseKind


@dataclass(frozen=True)
class Statement:
    """One statement as a source delivered it, before any grouping."""

    text: str
    source: str  # "path/to/file.sql:12" or "pg_stat_statements"
    calls: int = 1
    total_time_ms: float | None = None
    params: tuple[str | None, ...] = ()
    # What richer sources know (logs, pg_stat_statements); None where a source does not say.
    max_time_ms: float | None = None
    first_seen: str | None = None  # ISO 8601, as the source wrote it
    last_seen: str | None = None
    queryid: int | None = None
    plan: str | None = None  # auto_explain output (text or JSON) logged with the statement
    database: str | None = None
    user: str | None = None
    rows: int | None = None
    shared_blks_hit: int | None = None
    shared_blks_read: int | None = None
    # How many source records (log lines, file statements) this one stands for: a log reader
    # pre-aggregates identical shapes (records = calls); an extra sample has calls = records = 0.
    records: int = 1


class Outcome(StrEnum):
    """What happened to a query; every query in a report has exactly one."""

    IMPROVED = "improved"
    ALREADY_OPTIMAL = "already_optimal"
    NO_CANDIDATE = "no_candidate"
    BELOW_THRESHOLD = "below_threshold"
    OVER_BUDGET = "over_budget"
    WRITE_COST = "write_cost_too_high"
    NOT_COSTABLE = "not_costable"
    UNKNOWN_TABLE = "unknown_table"
    UNPARSEABLE = "unparseable"
    NOT_ADVISED = "not_advised"


@dataclass(frozen=True)
class Skipped:
    """A statement (or record) that could not be used, with where it came from and why."""

    source: str
    reason: str
    text: str  # the statement, or "" for a whole file or record
    outcome: Outcome = Outcome.UNPARSEABLE


@dataclass(frozen=True)
class Sample:
    """A real occurrence of a query: its text, its bind values, where it was seen."""

    text: str
    source: str
    params: tuple[str | None, ...] = ()
    plan: str | None = None


@dataclass(frozen=True)
class Query:
    """Statements grouped by fingerprint and relation set, weighted by calls."""

    fingerprint: str
    text: str
    relations: tuple[str, ...]
    calls: int
    total_time_ms: float | None
    samples: tuple[Sample, ...]
    is_select: bool = True
    max_time_ms: float | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    queryids: tuple[int, ...] = ()
    rows: int | None = None

    @property
    def mean_time_ms(self) -> float | None:
        if self.total_time_ms is None or self.calls <= 0:
            return None
        return self.total_time_ms / self.calls

    @property
    def source(self) -> str:
        return self.samples[0].source if self.samples else ""


@dataclass(frozen=True)
class Workload:
    """The input of the advisor: grouped queries plus what was skipped on the way."""

    queries: tuple[Query, ...]
    statements: int
    skipped: tuple[Skipped, ...] = ()  # examples, capped per reason (see skipped_counts)
    # every skip counted, by reason category (the reason up to its first ':'), sorted
    skipped_counts: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Candidate:
    """A (hypothetical) index: key columns in order, INCLUDE columns, predicate, method.

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


@dataclass(frozen=True)
class QueryResult:
    """The verdict on one query of the workload."""

    query: Query
    outcome: Outcome
    reason: str
    cost_before: float | None = None
    cost_after: float | None = None
    indexes_used: tuple[str, ...] = ()


@dataclass(frozen=True)
class WriteOverhead:
    """What keeping one index up to date costs, calls-weighted planner units, by cause
    (see writes.py): its own entries for INSERT and UPDATE rows, the other indexes' entries
    and heap pages of UPDATEs it stops being HOT, VACUUM work for DELETEd rows."""

    inserts: float = 0.0
    updates: float = 0.0
    lost_hot: float = 0.0
    deletes: float = 0.0

    @property
    def total(self) -> float:
        return self.inserts + self.updates + self.lost_hot + self.deletes


@dataclass(frozen=True)
class Recommendation:
    """An index to create, with what it costs and what it buys."""

    candidate: Candidate
    ddl: str
    size_bytes: int
    benefit: float  # reduction in calls-weighted workload cost, planner units
    write_overhead: float
    queries: tuple[str, ...] = field(default=())  # fingerprints of queries whose plan uses it
    write_detail: WriteOverhead | None = None  # write_overhead by cause
