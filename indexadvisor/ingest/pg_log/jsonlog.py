"""jsonlog (PostgreSQL 15+): one JSON object per line; any key may be missing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ...model import Skipped, Statement
from .aggregate import Aggregator, Batch
from .boundary import Span
from .chunks import chunks, line_boundary
from .records import Assembler, Filters, Record, end_chunk, route


def read_jsonlog(stream: BinaryIO, path: str, aggregator: Aggregator, filters: Filters,
                 progress: Callable[[], None] | None = None, span: Span | None = None,
                 ) -> Iterator[Statement | Skipped]:
    """Statements and Skipped records of one jsonlog file."""
    skipped: list[Skipped] = []
    assembler = Assembler(path, aggregator, filters, skipped.append)
    leads = None
    if span is not None:
        span.start(assembler)
        leads = span.leads
    loads = json.loads
    for text, first in chunks(stream, path, line_boundary, skipped, progress, span):
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
            if leads is not None and rec.pid not in leads.done:
                leads.see_record(rec)
            route(rec, line, assembler, batch, filters)
        yield from end_chunk(batch, assembler, aggregator, path, skipped)
    if span is None:
        assembler.finish()
    else:
        span.end(assembler)
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
