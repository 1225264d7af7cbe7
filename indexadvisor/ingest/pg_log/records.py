"""From log records to statement executions: the pairing rules, shared by every log format.

A *record* is one log message (stderr: a prefixed line plus its TAB-continued lines; csvlog:
one row; jsonlog: one object). How records pair up, per process (pid):

* `duration: X ms  statement: TEXT` is one call taking X ms (simple protocol).
* `duration: X ms  execute NAME: TEXT` is one call taking X ms (extended protocol); the
  `DETAIL:  parameters: $1 = ...` that follows it *from the same process* (csvlog/jsonlog: the
  same record's detail) gives its bind values.
* `duration: X ms  parse NAME: ...` and `... bind NAME: ...` are not calls (their time is
  planning and binding, which pg_stat_statements does not count as execution either), and a
  DETAIL after them is dropped, so nothing is counted twice.
* `statement: TEXT` / `execute NAME: TEXT` without a duration (`log_statement = all`) is one
  call; PostgreSQL then logs a bare `duration: X ms` (no text) for it if it logs a duration at
  all, and that time is added to it. A bare duration with no such statement is ignored.
* `duration: X ms  plan: ...` (auto_explain, text or JSON) is the plan of the statement of the
  same process with the same query text, logged just before it (simple protocol) or just after
  it (extended protocol). When no statement record of that process claims it (auto_explain
  without `log_min_duration_statement`), the plan record itself counts as the call.
* Anything else (connections, checkpoints, errors, their CONTEXT/STATEMENT lines) is not a call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ...model import Skipped, Statement
from .aggregate import Aggregator, Batch, parse_parameters

MAX_STATEMENT_CHARS = 1 << 20  # longer statements are skipped (counted, with file:line)
MAX_PROCESSES = 10_000  # processes with a held record; beyond that the oldest are flushed

MESSAGE = re.compile(
    r"(?:duration: (?P<dur>\d+(?:\.\d+)?) ms(?:  (?P<kind>statement|execute|parse|bind|plan)"
    r"(?P<name>[^:\n]*):[ \n](?P<text>.*))?"
    r"|(?P<kind2>statement|execute)(?P<name2>[^:\n]*): (?P<text2>.*))\Z",
    re.S,
)
_PLAN_NODE = re.compile(r"\n(?=[^\n]*\((?:cost|actual)[= ])")


class Record(NamedTuple):
    """One log message, whatever the format it came in."""

    line: int
    ts: str
    pid: str
    user: str | None
    db: str | None
    level: str
    message: str
    detail: str | None = None  # csvlog/jsonlog carry the DETAIL in the same record
    queryid: int | None = None


@dataclass(frozen=True)
class Filters:
    """`--since/--until` (compared with the log's own timestamps, as written), `--db`, `--user`.

    >>> Filters(since="2024-05-01T10:00").accepts("2024-05-01 09:59:59.999 UTC", None, None)
    False
    >>> Filters(until="2024-05-01 10:00").accepts("2024-05-01 10:00:59.999 UTC", None, None)
    True
    """

    since: str | None = None
    until: str | None = None
    database: str | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, value.replace("T", " ").rstrip("Z"))

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.since, self.until, self.database, self.user))

    def accepts(self, ts: str, user: str | None, db: str | None) -> bool:
        if self.since is not None and ts[: len(self.since)] < self.since:
            return False
        if self.until is not None and ts[: len(self.until)] > self.until:
            return False
        if self.database is not None and db != self.database:
            return False
        return self.user is None or user == self.user


def plan_query_text(plan: str) -> str:
    """The query text auto_explain logged with a plan (JSON or text format)."""
    if plan.startswith("{"):
        try:
            return str(json.loads(plan).get("Query Text", ""))
        except (ValueError, AttributeError):
            return ""
    if plan.startswith("Query Text: "):
        m = _PLAN_NODE.search(plan)
        end = m.start() if m else plan.find("\n")
        return plan[12:] if end < 0 else plan[12:end]
    return ""


class Event:
    """A statement execution being assembled (held until its process logs something else)."""

    __slots__ = ("db", "duration", "kind", "line", "params", "plan", "queryid", "text", "ts",
                 "user")

    def __init__(self, rec: Record, text: str, duration: float | None, kind: str) -> None:
        self.text = text
        self.duration = duration
        self.kind = kind  # statement / execute / plan
        self.ts = rec.ts
        self.user = rec.user
        self.db = rec.db
        self.line = rec.line
        self.params: tuple[str | None, ...] = ()
        self.plan: str | None = None
        self.queryid = rec.queryid


class Assembler:
    """Feeds records in log order; completed executions go to the aggregator."""

    def __init__(self, path: str, aggregator: Aggregator, filters: Filters,
                 skip: Callable[[Skipped], None]) -> None:
        self.path = path
        self.aggregator = aggregator
        self.filters = filters
        self.skip = skip
        self.held: dict[str, Event] = {}  # pid -> statement waiting for DETAIL/duration/plan
        self.plans: dict[str, Event] = {}  # pid -> plan waiting for its statement
        self.statements = 0
        self.plans_seen = False  # auto_explain output met: execute records must be held

    def busy(self, pid: str) -> bool:
        return pid in self.held or pid in self.plans

    def feed(self, rec: Record) -> None:
        pid = rec.pid
        if rec.level == "DETAIL":
            held = self.held.get(pid)
            if held is not None and held.kind == "execute" and not held.params:
                held.params = parse_parameters(rec.message) or ()
            return
        if rec.level != "LOG":
            if rec.level not in ("HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"):
                self._release(pid)
            return
        m = MESSAGE.match(rec.message)
        if m is None:
            self._release(pid)
            return
        kind = m.group("kind") or m.group("kind2")
        duration = float(m.group("dur")) if m.group("dur") else None
        if kind is None:  # a bare duration: the time of a statement logged without one
            held = self.held.get(pid)
            if held is not None and held.duration is None:
                held.duration = duration
            self._release(pid)
            return
        if kind in ("parse", "bind"):
            self._release(pid)
            return
        text = (m.group("text") if m.group("text") is not None else m.group("text2")).rstrip()
        if kind == "plan":
            self._plan(rec, text, duration)
            return
        self._release(pid)
        event = Event(rec, text, duration, kind)
        if rec.detail is not None and kind == "execute":
            event.params = parse_parameters(rec.detail) or ()
        pending = self.plans.pop(pid, None)
        if pending is not None:
            if pending.text == text:
                event.plan = pending.plan
            else:
                self._emit(pending)
        if kind == "statement" and duration is not None:
            self._emit(event)  # nothing can follow it (simple protocol: its plan came first)
        else:
            self._hold(pid, event)

    def _plan(self, rec: Record, plan: str, duration: float | None) -> None:
        self.plans_seen = True
        text = plan_query_text(plan).rstrip()
        held = self.held.get(rec.pid)
        if held is not None and held.plan is None and held.text == text:
            held.plan = plan
            return
        self._release(rec.pid)
        pending = self.plans.pop(rec.pid, None)
        if pending is not None:
            self._emit(pending)
        event = Event(rec, text, duration, "plan")
        event.plan = plan
        if text:
            self.plans[rec.pid] = event
            self._bound(self.plans)

    def hold_execute(self, rec: Record, text: str, duration: float, detail: str) -> None:
        """An execute record the fast path took that is its process's last record so far:
        held as the general path would hold it (a plan or DETAIL may still follow)."""
        event = Event(rec, text, duration, "execute")
        event.params = parse_parameters(detail) or ()
        self._hold(rec.pid, event)

    def release(self, pid: str) -> None:
        """The process logged something that completes its held statement (parse/bind)."""
        self._release(pid)

    def _hold(self, pid: str, event: Event) -> None:
        self.held[pid] = event
        self._bound(self.held)

    def _bound(self, table: dict[str, Event]) -> None:
        while len(table) > MAX_PROCESSES:
            self._emit(table.pop(next(iter(table))))

    def _release(self, pid: str) -> None:
        held = self.held.pop(pid, None)
        if held is not None:
            self._emit(held)

    def emit(self, event: Event) -> None:
        """Count a completed statement (filters and the length limit apply)."""
        self._emit(event)

    def _emit(self, event: Event) -> None:
        if not self.filters.accepts(event.ts, event.user, event.db):
            return
        source = f"{self.path}:{event.line}"
        if len(event.text) > MAX_STATEMENT_CHARS:
            limit = f"{len(event.text):,} characters (limit {MAX_STATEMENT_CHARS:,})"
            self.skip(Skipped(source, "statement too long", event.text[:200] + "…",
                              detail=limit))
            return
        self.statements += 1
        self.aggregator.add(event.text, event.duration, event.ts, event.user, event.db,
                            event.params, event.plan, event.queryid, event.line)

    def finish(self) -> None:
        """End of input: whatever is still held is complete."""
        for pid in list(self.held):
            self._release(pid)
        for pid in list(self.plans):
            self._emit(self.plans.pop(pid))


# A structured record (csvlog, jsonlog) whose message is one complete timed statement.
FAST_MESSAGE = re.compile(r"duration: (\d+\.\d\d\d) ms  statement: ([^\n]*)\Z")


def route(rec: Record, line: int, assembler: Assembler, batch: Batch, filters: Filters) -> None:
    """A structured record: a plain timed statement of an idle process goes to the fast batch;
    everything else (execute, DETAIL, plans, query ids) to the per-process assembler."""
    fast = (FAST_MESSAGE.match(rec.message) if rec.level == "LOG" and rec.queryid is None
            and not assembler.busy(rec.pid) else None)
    if fast is None:
        assembler.feed(rec)
    elif filters.accepts(rec.ts, rec.user, rec.db):
        batch.texts.append(fast.group(2))
        batch.durations.append(fast.group(1))
        batch.tss.append(rec.ts)
        batch.users.append(rec.user)
        batch.dbs.append(rec.db)
        batch.lines.append(line)


def end_chunk(batch: Batch, assembler: Assembler, aggregator: Aggregator, path: str,
              skipped: list[Skipped]) -> Iterator[Statement | Skipped]:
    """After a chunk: aggregate its batch, hand on what was skipped, drain a full aggregator."""
    assembler.statements += batch.flush(aggregator, path, MAX_STATEMENT_CHARS, skipped.append)
    yield from skipped
    skipped.clear()
    if aggregator.full:
        yield from aggregator.drain()
