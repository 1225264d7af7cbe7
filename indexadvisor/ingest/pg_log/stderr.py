"""stderr logs (any `log_line_prefix`), read in large chunks and framed by one regex.

The speed comes from doing per-byte work in C: a chunk of a few MB is decoded at once, one
compiled regex (`re.findall`) frames every record of it, and the common record,
`LOG:  duration: X ms  statement: ...` on a single line, is recognised by the regex itself and
goes to the aggregator in bulk. Everything else (continuation lines, DETAIL, execute, plans,
garbage) takes the general path through `records.Assembler`, one record at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, BinaryIO

from ...model import Skipped, Statement
from .aggregate import Aggregator, Batch
from .chunks import chunks, stderr_boundary
from .prefix import LEVELS, Prefix
from .records import MAX_STATEMENT_CHARS, Assembler, Filters, Record

_FIELDS = ("ts", "pid", "user", "db", "queryid", "fdur", "ftext", "level", "msg", "bad")


def record_regex(prefix: Prefix) -> tuple[re.Pattern[str], Callable[[Any], tuple[str, ...]]]:
    """The chunk regex for `prefix` and a getter that orders its groups as `_FIELDS`."""
    regex = re.compile(
        r"^(?P<nil>)(?:" + prefix.pattern
        + r"(?:LOG:  duration: (?P<fdur>\d+\.\d+) ms  statement: (?P<ftext>.*)$(?!\n\t)"
        + rf"|(?P<level>{LEVELS}):  (?P<msg>.*(?:\n\t.*)*))|(?P<bad>.*))",
        re.M,
    )
    index = regex.groupindex
    ts = index.get("ts", index.get("epoch"))
    pid = index.get("pid", index.get("session"))
    order = [ts, pid, *(index.get(name, index["nil"]) for name in _FIELDS[2:])]
    return regex, itemgetter(*(i - 1 for i in order))  # type: ignore[operator]


def _epoch_iso(value: str) -> str:
    return datetime.fromtimestamp(float(value), UTC).isoformat(sep=" ", timespec="milliseconds")


def read_stderr(stream: BinaryIO, path: str, prefix: Prefix, aggregator: Aggregator,
                filters: Filters, progress: Callable[[], None] | None = None,
                ) -> Iterator[Statement | Skipped]:
    """Statements (pre-aggregated, see `aggregate`) and Skipped records of one stderr log."""
    skipped: list[Skipped] = []
    assembler = Assembler(path, aggregator, filters, skipped.append)
    regex, fields = record_regex(prefix)
    epoch = "epoch" in regex.groupindex
    for text, line in chunks(stream, path, stderr_boundary, skipped, progress):
        _chunk(text, line, fields, regex, path, assembler, filters, epoch, skipped)
        yield from skipped
        skipped.clear()
        if aggregator.full:
            yield from aggregator.drain()
    assembler.finish()
    yield from skipped


def _chunk(text: str, line: int, fields: Callable[[Any], tuple[str, ...]],
           regex: re.Pattern[str], path: str, assembler: Assembler, filters: Filters,
           epoch: bool, skipped: list[Skipped]) -> None:
    """Frame one chunk: fast records in bulk, the rest through the assembler."""
    batch = Batch()
    texts, durations, tss = batch.texts, batch.durations, batch.tss
    users, dbs, lines = batch.users, batch.dbs, batch.lines
    held, plans = assembler.held, assembler.plans
    check = filters.active
    line -= 1
    for ts, pid, user, db, queryid, fdur, ftext, level, msg, bad in map(fields,
                                                                       regex.findall(text)):
        line += 1
        if fdur and pid not in held and pid not in plans and not queryid:
            if epoch:
                ts = _epoch_iso(ts)
            if check and not filters.accepts(ts, user or None, db or None):
                continue
            texts.append(ftext)
            durations.append(fdur)
            tss.append(ts)
            users.append(user or None)
            dbs.append(db or None)
            lines.append(line)
        elif fdur or level:
            if fdur:
                level, msg = "LOG", f"duration: {fdur} ms  statement: {ftext}"
            elif "\n" in msg:
                msg = msg.replace("\n\t", "\n")
            assembler.feed(Record(line, _epoch_iso(ts) if epoch else ts, pid, user or None,
                                  db or None, level, msg, None,
                                  int(queryid) if queryid and queryid != "0" else None))
            line += msg.count("\n")
        elif bad.strip():
            why = ("continuation line without a record" if bad.startswith("\t")
                   else "no log format matches this line")
            skipped.append(Skipped(f"{path}:{line}", why, bad[:200]))
    assembler.statements += batch.flush(assembler.aggregator, path, MAX_STATEMENT_CHARS,
                                        skipped.append)
