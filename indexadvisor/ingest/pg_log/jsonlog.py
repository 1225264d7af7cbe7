"""jsonlog (PostgreSQL 15+): one JSON object per line; any key may be missing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ...model import Skipped, Statement
from .aggregate import Aggregator, Batch
from .chunks import chunks, line_boundary
from .records import MAX_STATEMENT_CHARS, Assembler, Filters, Record

_FAST = re.compile(r"duration: (\d+\.\d+) ms  statement: ([^\n]*)\Z")


def read_jsonlog(stream: BinaryIO, path: str, aggregator: Aggregator, filters: Filters,
                 progress: Callable[[], None] | None = None) -> Iterator[Statement | Skipped]:
    """Statements and Skipped records of one jsonlog file."""
    skipped: list[Skipped] = []
    assembler = Assembler(path, aggregator, filters, skipped.append)
    loads = json.loads
    for text, first in chunks(stream, path, line_boundary, skipped, progress):
        batch = Batch()
        for n, raw in enumerate(text.split("\n")):
            if not raw.strip():
                continue
            line = first + n
            try:
                obj = loads(raw)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except ValueError:
                skipped.append(Skipped(f"{path}:{line}", "no log format matches this line "
                                       "(not a jsonlog object)", raw[:200]))
                continue
            rec = record(obj, line)
            if rec is None:
                skipped.append(Skipped(f"{path}:{line}", "jsonlog object without timestamp, "
                                       "pid or message", raw[:200]))
                continue
            fast = (_FAST.match(rec.message) if rec.level == "LOG" and rec.queryid is None
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
        assembler.statements += batch.flush(aggregator, path, MAX_STATEMENT_CHARS,
                                            skipped.append)
        yield from skipped
        skipped.clear()
        if aggregator.full:
            yield from aggregator.drain()
    assembler.finish()
    yield from skipped


def record(obj: dict[str, object], line: int) -> Record | None:
    """A Record from one jsonlog object (None without timestamp, pid or message).

    >>> r = record({"timestamp": "2024-05-01 10:00:00.000 UTC", "pid": 7, "message": "x"}, 3)
    >>> r.pid, r.level, r.user, r.detail
    ('7', 'LOG', None, None)
    """
    ts, pid, message = obj.get("timestamp"), obj.get("pid"), obj.get("message")
    if not isinstance(ts, str) or pid is None or not isinstance(message, str):
        return None
    queryid = obj.get("query_id")
    detail = obj.get("detail")
    user, db = obj.get("user"), obj.get("dbname")
    return Record(line, ts, str(pid), user if isinstance(user, str) else None,
                  db if isinstance(db, str) else None, str(obj.get("error_severity") or "LOG"),
                  message, detail if isinstance(detail, str) else None,
                  queryid if isinstance(queryid, int) and queryid != 0 else None)
