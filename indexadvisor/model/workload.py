"""The workload: statements as sources deliver them, grouped into weighted queries.

>>> Skipped("a.sql:3", "unparseable", "SELEC 1", detail='syntax error at or near "SELEC"').reason
'unparseable: syntax error at or near "SELEC"'
"""

from __future__ import annotations

from dataclasses import dataclass

from .outcome import Outcome


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


@dataclass(frozen=True)
class Skipped:
    """A statement (or record, or file) that could not be used: where it came from and why.

    Skips are counted by `category` (a short fixed phrase: "unparseable", "invalid UTF-8");
    `detail` says what exactly, e.g. the parser's message.
    """

    source: str
    category: str
    text: str = ""  # the statement, or "" for a whole file or record
    outcome: Outcome = Outcome.UNPARSEABLE
    detail: str = ""

    @property
    def reason(self) -> str:
        return f"{self.category}: {self.detail}" if self.detail else self.category


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
    skipped: tuple[Skipped, ...] = ()  # examples, capped per category (see skipped_counts)
    # every skip counted, by category, sorted
    skipped_counts: tuple[tuple[str, int], ...] = ()
