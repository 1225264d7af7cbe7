"""stderr logs (any `log_line_prefix`), read in large chunks and framed by one regex.

The speed comes from doing per-byte work in C: a chunk of a few MB is decoded at once, one
compiled regex (`re.findall`) frames every record of it, and the common records are recognised
by the regex itself: `LOG:  duration: X ms  statement: ...` on a single line goes to the
aggregator in bulk; `execute` (with the DETAIL line of its bind values when it directly
follows with the same prefix), `parse` and `bind` records are paired per process here, with
the rules of `records` (see `_chunk`). Everything else (continuation lines, other DETAILs,
plans, errors, garbage) takes the general path through `records.Assembler`, one record at a
time.
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
    pid: Callable[[Any], str]
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
    assert ts is not None and pid is not None  # compile_prefix insists on both
    # A field the prefix lacks reads the `bad` group: empty in every record, and a bad line
    # is only looked at for `bad`.
    order = [ts, pid, *(index.get(name, index["bad"]) for name in _FIELDS[2:])]
    fields = itemgetter(*(i - 1 for i in order))
    plain = regexes[0] if re.match(r"%-?\d*[mtnpc]", prefix.text) else regexes[1]
    return Framing(plain, regexes[1], fields, itemgetter(index["bad"] - 1),
                   itemgetter(pid - 1), trimmed)


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
    for text, line in chunks(stream, path, stderr_boundary, skipped, progress, span):
        with paused_gc():
            _chunk(text, line, framing, path, assembler, filters, epoch, skipped, leads)
        yield from skipped
        skipped.clear()
        if aggregator.full:
            yield from aggregator.drain()
    if span is None:
        assembler.finish()
    else:
        span.end(assembler)
    yield from skipped


def _leads(leads: Leads, rows: list[Any], framing: Framing) -> None:
    """Note the leads (see `boundary`) of the processes of a chunk not settled yet."""
    new = set(map(framing.pid, rows)) - leads.done
    new.discard("")
    if not new:
        return
    for row in rows:
        pid = framing.pid(row)
        if pid not in new:
            continue
        _, _, _, _, _, _, s, k, text, _, level, msg, _ = framing.fields(row)
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
           ) -> None:
    """Frame one chunk: fast records in bulk, the rest through the assembler.

    A fast execute is held like the assembler holds one (`pending`, by process) until its
    process logs its next record; then it is released (`order`) and reaches the aggregator
    before anything the assembler emits later, so statements arrive in the same order as
    through the general path. An execute still pending at the end of the chunk goes to the
    assembler. Plans (auto_explain) attach to held statements, so once a plan shows up the
    execute fast path is off."""
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
    rows = framing.findall(text)
    if leads is not None:
        _leads(leads, rows, framing)
    for ts, pid, user, db, queryid, dur, s, k, xtext, detail, level, msg, bad in map(
            framing.fields, rows):
        line += 1
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
