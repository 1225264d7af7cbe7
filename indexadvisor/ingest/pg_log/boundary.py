"""Reading a log in pieces: what a piece needs at its edges so that the pieces, read apart
(by other processes) and put together in order, give exactly what one reading gives.

Pairing is per process (see `records`): a piece ends with some processes holding a statement
(an `execute` waiting for its `DETAIL:  parameters`, a statement waiting for its bare
duration or plan) and some with a plan waiting for its statement. The next piece is read as if
every process started idle, and notes, per process, its *lead*: what its first records there
would have done to such a state (`Leads`):

* the `DETAIL` messages before the process's first record that is neither a DETAIL nor one of
  the other lines that keep a statement held (HINT, CONTEXT, ...);
* that first record (`first`): it ends the held statement; a bare duration gives it its time;
* the first statement, execute or plan record (`stmt`): it ends a waiting plan.

`settle` then applies a piece's leads to the state the pieces before it left. Two cases would
need the piece read differently (a plan the next piece logs for a held statement of the same
text, a waiting plan whose statement comes in the next piece); `settle` says so and the caller
reads that piece again with the state given (`Span.held`, `Span.plans`). Both need
auto_explain and a piece edge between a statement and its plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .aggregate import parse_parameters
from .records import MESSAGE, Assembler, Event, Record, plan_query_text

HOLDING = frozenset({"HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION"})


@dataclass
class Span:
    """Which part of a file a reader reads (from `offset` to `stop`, both record starts; the
    stream is positioned at `offset` and may be read past `stop`), and what it leaves for the
    next piece (filled in by the reader; see `chunks.chunks`)."""

    offset: int = 0
    stop: int | None = None  # where the piece ends (a record start); None: the file's end
    first_line: int = 1
    last: bool = True  # the file ends here: whatever is still held is complete
    held: dict[str, Event] = field(default_factory=dict)  # the state it starts with
    plans: dict[str, Event] = field(default_factory=dict)
    leads: Leads | None = None  # note what each process's first records say
    name: str | None = None  # the file, to look past `stop` (a plain file cut in pieces)
    # what it leaves
    lines: int = 0  # lines read (its last line ends with a newline unless it is the last)
    end_held: dict[str, Event] = field(default_factory=dict)
    end_plans: dict[str, Event] = field(default_factory=dict)

    def start(self, assembler: Assembler) -> None:
        """Seed the assembler with the state this span starts with."""
        assembler.held.update(self.held)
        assembler.plans.update(self.plans)
        if self.plans:
            assembler.plans_seen = True

    def end(self, assembler: Assembler) -> None:
        """At the end of the span: finish the file, or keep its state for the next piece."""
        if self.last:
            assembler.finish()
        else:
            self.end_held, self.end_plans = dict(assembler.held), dict(assembler.plans)


@dataclass
class Lead:
    """What a process's first records in a piece say to the state before it."""

    details: list[str] = field(default_factory=list)
    first: tuple[str, Any] | None = None  # ("duration", ms) / ("plan", text) / ("stmt", text)
    stmt: tuple[str, str] | None = None  # ("plan" | "stmt", text)


class Leads:
    """Leads of the processes of one piece, noted until each process's `stmt` is known."""

    def __init__(self) -> None:
        self.leads: dict[str, Lead] = {}
        self.done: set[str] = set()

    def see(self, pid: str, kind: str, value: Any) -> None:
        """One record of `pid`: kind "detail" (value: the message), "hold", "other",
        "duration" (ms), "plan" (its query text) or "stmt" (the statement text)."""
        if pid in self.done:
            return
        lead = self.leads.get(pid)
        if lead is None:
            lead = self.leads[pid] = Lead()
        if kind == "detail":
            if lead.first is None:
                lead.details.append(value)
            return
        if kind == "hold":
            return
        if lead.first is None:
            lead.first = (kind, value)
        if kind in ("plan", "stmt"):
            lead.stmt = (kind, value)
            self.done.add(pid)

    def see_record(self, rec: Record) -> None:
        """A structured record (csvlog, jsonlog) or a general stderr record."""
        if rec.pid not in self.done:
            self.see(rec.pid, *classify(rec.level, rec.message))


def classify(level: str, message: str) -> tuple[str, Any]:
    """A record's kind for `Leads.see`.

    >>> classify("LOG", "duration: 0.5 ms"), classify("DETAIL", "parameters: $1 = '1'")
    (('duration', 0.5), ('detail', "parameters: $1 = '1'"))
    >>> classify("LOG", "duration: 1.0 ms  execute S_1: SELECT $1 "), classify("HINT", "x")
    (('stmt', 'SELECT $1'), ('hold', None))
    """
    if level == "DETAIL":
        return "detail", message
    if level in HOLDING:
        return "hold", None
    if level != "LOG":
        return "other", None
    m = MESSAGE.match(message)
    if m is None:
        return "other", None
    kind = m.group("kind") or m.group("kind2")
    if kind is None:
        return "duration", float(m.group("dur"))
    if kind in ("parse", "bind"):
        return "other", None
    text = (m.group("text") if m.group("text") is not None else m.group("text2")).rstrip()
    if kind == "plan":
        return "plan", plan_query_text(text).rstrip()
    return "stmt", text


def settle(assembler: Assembler, leads: dict[str, Lead]) -> bool:
    """Apply a piece's leads to the state in `assembler` (left by the pieces before it):
    held statements get their bind values and time and are emitted, waiting plans are
    emitted. False (and nothing changed) when the piece must be read again with that state."""
    held, plans = assembler.held, assembler.plans
    for pid, lead in leads.items():
        h, q = held.get(pid), plans.get(pid)
        if h is not None and lead.first is not None and lead.first[0] == "plan" \
                and h.plan is None and h.text == lead.first[1]:
            return False  # the plan belongs to the held statement
        if q is not None and lead.stmt is not None and lead.stmt[0] == "stmt" \
                and q.text == lead.stmt[1]:
            return False  # the waiting plan belongs to the piece's statement
    for pid, lead in leads.items():
        h = held.get(pid)
        if h is not None:
            if h.kind == "execute":
                for message in lead.details:
                    if not h.params:
                        h.params = parse_parameters(message) or ()
            if lead.first is not None:
                if lead.first[0] == "duration" and h.duration is None:
                    h.duration = lead.first[1]
                assembler.release(pid)
        if pid in plans and lead.stmt is not None:
            assembler.emit(plans.pop(pid))
    return True
