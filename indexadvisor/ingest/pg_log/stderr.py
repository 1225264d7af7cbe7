"""stderr logs (any `log_line_prefix`), read in large chunks and framed by one regex.

The speed comes from doing per-byte work in C: a chunk of a few MB is decoded at once, one
compiled regex (`re.findall`) frames every record of it, and the common records are recognised
by the regex itself: `LOG:  duration: X ms  statement: ...` on a single line goes to the
aggregator in bulk; `execute` (with the DETAIL line of its bind values when it directly
follows with the same prefix), `parse` and `bind` records are paired per process here, with
the rules of `records` (see `_chunk`). Everything else (continuation lines, other DETAILs,
plans, errors, garbage) takes the general path through `records.Assembler`, one record at a
time.

A record whose TAB-continued lines are interrupted by lines that are not the log's (another
program writing to the same file, a corrupted block) is *damaged*: its first part is text the
server wrote, but not all of it, and often still valid SQL (``select o.id, o.note from ord o``
without its ``where``), a different statement. Such a record is never read as a statement:
it is counted as skipped ("damaged record", with its file:line), and the continuation lines
after the foreign ones are counted too. So that the damage is seen when the foreign lines
start a new chunk, the last record of a chunk (and any line after it) is read with the next
chunk (`_tail`).
"""
from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import compress
from operator import itemgetter
from typing import Any, BinaryIO, NamedTuple

from ...model import Skipped, Statement
from .aggregate import Aggregator, Batch, ExecBatch, parse_parameters
from .boundary import Leads, Span, classify
from .chunks import chunks, stderr_boundary
from .prefix import CLOUDWATCH, LEVELS, Prefix, fast_pattern
from .records import MAX_STATEMENT_CHARS, Assembler, Filters, Record

_FIELDS = ("ts", "pid", "user", "db", "queryid", "dur", "s", "k", "text", "detail", "level",
           "msg", "bad")
_HOLDING = ("DETAIL", "HINT", "CONTEXT", "STATEMENT", "QUERY", "LOCATION")  # keep a held record
_KINDS = {"e": "execute", "p": "parse", "b": "bind"}


class Framing(NamedTuple):
    """The chunk regexes of a prefix (without and with the CloudWatch timestamp), the getter
    that orders their groups as `_FIELDS`, the getter of the `bad` group, and the groups that
    end with an extra character (`prefix.fast_pattern`)."""

    regex: re.Pattern[str]
    cloudwatch: re.Pattern[str]
    fields: Callable[[Any], tuple[str, ...]]
    bad: Callable[[Any], str]
    trimmed: frozenset[str]

    def findall(self, text: str) -> list[Any]:
        """The rows of a chunk. The regex without the CloudWatch timestamp is faster; a line
        with that timestamp is a bad line to it (the prefix starts with the time or the
        process, which cannot match a CloudWatch timestamp), so a chunk with a bad line is
        framed again with the CloudWatch regex (the result is the same for other lines)."""
        rows = self.regex.findall(text)
        if self.regex is not self.cloudwatch and any(map(self.bad, rows)):
            rows = self.cloudwatch.findall(text)
        return rows


def record_regex(prefix: Prefix) -> Framing:
    """The chunk regexes for `prefix`.

    Besides the general record (`level`, `msg`) they recognise a timed statement (`s`),
    execute, parse or bind (`k`: e, p or b) on a single line (`dur`, `text`); the latter three
    with the single-line DETAIL that follows them with the very same prefix text (so from
    the same process: `detail`). ASCII digits only, which is all PostgreSQL writes in a
    prefix."""
    pattern, trimmed = fast_pattern(prefix.text)
    regexes = [re.compile(
        r"^(?:(?P<head>" + head + pattern
        + r")(?:LOG:  duration: (?P<dur>\d+\.\d\d\d) ms  (?:(?P<s>s)tatement"
        + r"|(?P<k>[epb])(?:xecute|arse|ind)[^:\n]*): (?P<text>.*)$(?!\n\t)"
        + r"(?(k)(?:\n(?P=head)DETAIL:  (?P<detail>.+)$(?!\n\t)|))"
        + rf"|(?P<level>{LEVELS}):  (?P<msg>.*(?:\n\t.*)*))|(?P<bad>.*))",
        re.M | re.ASCII,
    ) for head in ("", f"(?:{CLOUDWATCH}|)")]
    index = regexes[0].groupindex
    ts = index.get("ts", index.get("epoch"))
    pid = index.get("pid", index.get("session"))
    # A field the prefix lacks reads the `bad` group: empty in every record, and a bad line
    # is only looked at for `bad`.
    order = [ts, pid, *(index.get(name, index["bad"]) for name in _FIELDS[2:])]
    fields = itemgetter(*(i - 1 for i in order))  # type: ignore[operator]
    plain = regexes[0] if re.match(r"%-?\d*[mtnpc]", prefix.text) else regexes[1]
    return Framing(plain, regexes[1], fields, itemgetter(index["bad"] - 1), trimmed)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off: framing a chunk allocates hundreds of thousands of
    short-lived tuples and no reference cycles, and the collections it would trigger cost
    about a tenth of the time."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _epoch_iso(value: str) -> str:
    return datetime.fromtimestamp(float(value), UTC).isoformat(sep=" ", timespec="milliseconds")


def read_stderr(stream: BinaryIO, path: str, prefix: Prefix, aggregator: Aggregator,
                filters: Filters, progress: Callable[[], None] | None = None,
                span: Span | None = None) -> Iterator[Statement | Skipped]:
    """Statements (pre-aggregated, see `aggregate`) and Skipped records of one stderr log, or
    of the piece of it `span` says (see `boundary`)."""
    skipped: list[Skipped] = []
    assembler = Assembler(path, aggregator, filters, skipped.append)
    framing = record_regex(prefix)
    epoch = "epoch" in framing.regex.groupindex
    leads = None
    if span is not None:
        span.start(assembler)
        leads = span.leads
    carry, carry_line = "", 0
    for text, line in chunks(stream, path, stderr_boundary, skipped, progress, span):
        if carry and line != carry_line + carry.count("\n"):
            # bytes were dropped between them (a record too long): the held record was
            # followed by a record, so it is whole
            with paused_gc():
                _chunk(carry, carry_line, framing, path, assembler, filters, epoch, skipped,
                       leads)
            carry = ""
        if carry:
            text, line = carry + text, carry_line
        with paused_gc():
            carry, carry_line = _chunk(text, line, framing, path, assembler, filters, epoch,
                                       skipped, leads, hold_tail=True)
        yield from skipped
        skipped.clear()
        if aggregator.full:
            yield from aggregator.drain()
    if carry:
        cut = (span is not None and span.stop is not None and span.name is not None
               and carry_line + carry.count("\n") == span.first_line + span.lines  # no gap
               and _damaged_past(span.name, span.stop, framing))
        with paused_gc():
            _chunk(carry, carry_line, framing, path, assembler, filters, epoch, skipped, leads,
                   damaged_tail=cut)
    if span is None:
        assembler.finish()
    else:
        span.end(assembler)
    yield from skipped


_BAD = 12  # index of the `bad` group in a row ordered as _FIELDS
LOOKAHEAD_LINES = 10_000  # past a piece's end, for the damage of its last record


def _damaged_past(name: str, stop: int, framing: Framing) -> bool:
    """Whether the lines of file `name` from offset `stop` (where the next piece starts) show
    the last record before it damaged (`_damaged`): lines that are no record, then a
    TAB-continued one. Those lines are the next piece's to count; only the verdict is read
    here."""
    foreign = False
    with open(name, "rb") as f:
        f.seek(stop)
        for _, raw in zip(range(LOOKAHEAD_LINES), f, strict=False):
            text = raw.decode("utf-8", errors="replace")
            if text.startswith("\t"):
                return foreign
            rows = [framing.fields(r) for r in framing.findall(text)]
            if any(not _is_bad(r) for r in rows):
                return False
            foreign = True
    return False


def _damaged(rows: list[tuple[str, ...]]) -> set[int]:
    """Rows of records whose continuation lines were interrupted: before a TAB line that
    belongs to no record, past lines that are no record (foreign), the nearest record.

    >>> rec, foreign = ("", "", "", "", "", "1", "s") + ("",) * 6, ("",) * 12 + ("junk",)
    >>> orphan = ("",) * 12 + ("\\twhere o.id = 1",)
    >>> sorted(_damaged([rec, foreign, orphan, rec])), sorted(_damaged([rec, foreign, rec]))
    ([0], [])
    """
    out: set[int] = set()
    for i, row in enumerate(rows):
        if not row[_BAD].startswith("\t"):
            continue
        j = i - 1
        while j >= 0 and _is_bad(rows[j]):
            j -= 1
        if j >= 0 and any(not rows[k][_BAD].startswith("\t") for k in range(j + 1, i)):
            out.add(j)
    return out


def _is_bad(row: tuple[str, ...]) -> bool:
    """A row of the `bad` alternative: no record (a foreign line, an orphan TAB line, a
    blank line)."""
    return not (row[6] or row[7] or row[10])  # s, k, level


def _span(row: tuple[str, ...]) -> int:
    """Lines a row takes in the text."""
    if _is_bad(row):
        return 1
    return 1 + row[11].count("\n") + (1 if row[9] else 0)  # msg lines, the execute's DETAIL


def _tail(text: str, rows: list[tuple[str, ...]]) -> tuple[int, int] | None:
    """(row index, text offset) of the chunk's last record and what follows it, when nothing
    after it shows yet whether it was interrupted: read with the next chunk instead."""
    last = next((i for i in range(len(rows) - 1, -1, -1) if not _is_bad(rows[i])), None)
    if last is None or any(r[_BAD].startswith("\t") for r in rows[last + 1:]):
        return None
    lines = sum(_span(r) for r in rows[last:])
    if text.endswith("\n"):
        lines -= 1  # the empty match after the final newline is no line
    pos = len(text) - 1
    for _ in range(lines):
        pos = text.rfind("\n", 0, pos)
    return last, pos + 1


def _leads(leads: Leads, rows: list[tuple[str, ...]]) -> None:
    """Note the leads (see `boundary`) of the processes of a chunk not settled yet (`rows`
    ordered as _FIELDS; damaged records left out, as they are not read)."""
    new = {row[1] for row in rows} - leads.done
    new.discard("")
    if not new:
        return
    for row in rows:
        pid = row[1]
        if pid not in new:
            continue
        _, _, _, _, _, _, s, k, text, _, level, msg, _ = row
        if s or k == "e":
            leads.see(pid, "stmt", text.rstrip())
        elif k:
            leads.see(pid, "other", None)
        elif level:
            leads.see(pid, *classify(level, msg.replace("\n\t", "\n")))
        if pid in leads.done:
            new.discard(pid)
            if not new:
                return


def _chunk(text: str, line: int, framing: Framing, path: str, assembler: Assembler,
           filters: Filters, epoch: bool, skipped: list[Skipped], leads: Leads | None = None,
           *, hold_tail: bool = False, damaged_tail: bool = False) -> tuple[str, int]:
    """Frame one chunk: fast records in bulk, the rest through the assembler.

    A fast execute is held like the assembler holds one (`pending`, by process) until its
    process logs its next record; then it is released (`order`) and reaches the aggregator
    before anything the assembler emits later, so statements arrive in the same order as
    through the general path. An execute still pending at the end of the chunk goes to the
    assembler. Plans (auto_explain) attach to held statements, so once a plan shows up the
    execute fast path is off.

    Damaged records (`_damaged`) are counted, not read. With `hold_tail`, the last record
    and what follows it are not read but returned, (text, number of its first line), to be
    read with the next chunk (`_tail`). `damaged_tail`: the last record is damaged, as the
    lines after the text show (`_damaged_past`)."""
    rows = list(map(framing.fields, framing.findall(text)))
    damaged = _damaged(rows) if any(r[_BAD][:1] == "\t" for r in rows) else set()
    if damaged_tail:
        damaged.add(max(i for i, r in enumerate(rows) if not _is_bad(r)))
    carry = ("", 0)
    if hold_tail:
        found = _tail(text, rows)
        if found is not None:
            last, offset = found
            carry = (text[offset:], line + sum(_span(r) for r in rows[:last]))
            rows = rows[:last]
    if leads is not None:
        _leads(leads, [r for n, r in enumerate(rows) if n not in damaged])
    batch = Batch()
    texts, durations, tss = batch.texts, batch.durations, batch.tss
    users, dbs, lines = batch.users, batch.dbs, batch.lines
    xb = ExecBatch(path, MAX_STATEMENT_CHARS, skipped.append)
    xtexts, xdurations, xtss, xusers = xb.texts, xb.durations, xb.tss, xb.users
    xdbs, xlines, xdetails = xb.dbs, xb.lines, xb.details
    pending: dict[str, int] = {}  # pid -> its fast execute (index in xb) not yet released
    order = xb.order  # released fast executes, in release order
    held, plans = assembler.held, assembler.plans
    check = filters.active
    fast_execute = not assembler.plans_seen and " ms  plan" not in text
    aggregator = assembler.aggregator
    ue = -1 if "user" in framing.trimmed else None  # user[:ue]: without its extra character
    de = -1 if "db" in framing.trimmed else None
    batch.user_end = xb.user_end = ue
    batch.db_end = xb.db_end = de
    idle = not held and not plans
    line -= 1
    for n, (ts, pid, user, db, queryid, dur, s, k, xtext, detail, level, msg, bad) in enumerate(
            rows):
        line += 1
        if n in damaged:
            message = xtext if s or k else msg
            skipped.append(Skipped(f"{path}:{line}", "damaged record", message[:200],
                                   detail="its TAB-continued lines are interrupted by lines "
                                   "that are not part of the log; not read as a statement"))
            line += _span(rows[n]) - 1
            continue
        if s and not queryid and pid not in pending and (
                idle or (pid not in held and pid not in plans)):
            texts.append(xtext)  # user and db as matched; --since etc. in _simple_filters
            durations.append(dur)
            tss.append(ts)
            users.append(user)
            dbs.append(db)
            lines.append(line)
        elif level == "DETAIL" and pid not in held:
            if "\n" in msg:
                line += msg.count("\n")
                msg = msg.replace("\n\t", "\n")
            i = pending.get(pid)
            if i is not None and (not xdetails[i] or not parse_parameters(xdetails[i])):
                xdetails[i] = msg  # the bind values of the execute (see Assembler.feed)
        elif k == "e" and fast_execute and not queryid and (
                idle or (pid not in held and pid not in plans)):
            if pid in pending:
                order.append(pending.pop(pid))
            if epoch:
                ts = _epoch_iso(ts)
            if check and not filters.accepts(ts, user[:ue] or None, db[:de] or None):
                xb.filtered.add(len(xtexts))
            pending[pid] = len(xtexts)
            xtexts.append(xtext.rstrip())
            xdurations.append(dur)
            xtss.append(ts)
            xusers.append(user)
            xdbs.append(db)
            xlines.append(line)
            xdetails.append(detail)
            if detail:
                line += 1
        elif k == "p" or k == "b":  # its DETAIL (if any) is dropped: nothing waits for it
            if pid in pending:
                order.append(pending.pop(pid))
            elif pid in held:
                if order:
                    assembler.statements += xb.release(aggregator)
                assembler.release(pid)
                idle = not held and not plans
            if detail:
                line += 1
        elif s or k or level:
            if s or k:
                level, msg = "LOG", f"duration: {dur} ms  {_KINDS.get(k, 'statement')}: {xtext}"
            elif "\n" in msg:
                msg = msg.replace("\n\t", "\n")
            if pid in pending and level not in _HOLDING:
                order.append(pending.pop(pid))
            if order:
                assembler.statements += xb.release(aggregator)
            rec = Record(line, _epoch_iso(ts) if epoch else ts, pid, user[:ue] or None,
                         db[:de] or None, level, msg, None,
                         int(queryid) if queryid and queryid != "0" else None)
            assembler.feed(rec)
            if detail:
                line += 1
                assembler.feed(rec._replace(line=line, level="DETAIL", message=detail))
            idle = not held and not plans
            line += msg.count("\n")
        elif bad.strip():
            why = ("continuation line without a record" if bad.startswith("\t")
                   else "no log format matches this line")
            skipped.append(Skipped(f"{path}:{line}", why, bad[:200]))
    if xtexts:
        assembler.statements += xb.release(aggregator)
        for pid, i in pending.items():
            rec = Record(xlines[i], xtss[i], pid, (xusers[i] or "")[:ue] or None,
                         (xdbs[i] or "")[:de] or None, "LOG", "")
            assembler.hold_execute(rec, xtexts[i], float(xdurations[i]), xdetails[i])
    if texts and (epoch or check):
        _simple_filters(batch, filters, epoch)
    assembler.statements += batch.flush(aggregator, path, MAX_STATEMENT_CHARS, skipped.append)
    return carry


def _simple_filters(batch: Batch, filters: Filters, epoch: bool) -> None:
    """Epoch timestamps as ISO text, and --since/--until/--db/--user, on a chunk's simple
    statements at once."""
    if epoch:
        batch.tss = list(map(_epoch_iso, batch.tss))
    if filters.active:
        users = [(u or "")[: batch.user_end] or None for u in batch.users]
        dbs = [(d or "")[: batch.db_end] or None for d in batch.dbs]
        keep = list(map(filters.accepts, batch.tss, users, dbs))
        for name in ("texts", "durations", "tss", "users", "dbs", "lines"):
            setattr(batch, name, list(compress(getattr(batch, name), keep)))
