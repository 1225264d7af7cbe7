"""csvlog: one CSV row per record (23 columns on PostgreSQL 12, 24 on 13, 26 on 14-17).

Rows are framed with a regex that knows CSV quoting (a quoted field may hold raw newlines and
doubled quotes), so a garbage line never swallows the rows after it; the framed rows are then
split by the csv module.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ...model import Skipped, Statement
from .aggregate import Aggregator, Batch
from .boundary import Span
from .chunks import chunks, csv_boundary
from .records import Assembler, Filters, Record, end_chunk, route

COLUMNS = frozenset({23, 24, 26})
_FIELD = r'(?:"[^"]*(?:""[^"]*)*"|[^,"\n]*)'
ROW = re.compile(
    r"^(?:(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [^,\n]*)?(?:," + _FIELD + r"){20,27})$"
    r"|(.*))",
    re.M,
)


def read_csvlog(stream: BinaryIO, path: str, aggregator: Aggregator, filters: Filters,
                progress: Callable[[], None] | None = None, span: Span | None = None,
                ) -> Iterator[Statement | Skipped]:
    """Statements and Skipped records of one csvlog file."""
    skipped: list[Skipped] = []
    assembler = Assembler(path, aggregator, filters, skipped.append)
    leads = None
    if span is not None:
        span.start(assembler)
        leads = span.leads
    for text, first in chunks(stream, path, csv_boundary, skipped, progress, span):
        batch = Batch()
        line = first
        framed = ROW.findall(text)
        rows = csv.reader([row for row, _bad in framed if row])
        for row_text, bad in framed:
            if not row_text:
                if bad.strip():
                    skipped.append(Skipped(f"{path}:{line}", "no log format matches this "
                                           "line (not a csvlog row)", bad[:200]))
                line += 1
                continue
            row = next(rows)
            here, line = line, line + row_text.count("\n") + 1
            if len(row) not in COLUMNS:
                skipped.append(Skipped(f"{path}:{here}", f"csvlog row with {len(row)} columns "
                                       "(PostgreSQL writes 23, 24 or 26)", row_text[:200]))
                continue
            queryid = int(row[25]) if len(row) == 26 and row[25] not in ("", "0") else None
            rec = Record(here, row[0], row[3], row[1] or None, row[2] or None, row[11] or "LOG",
                         row[13], row[14] or None, queryid)
            if leads is not None and rec.pid not in leads.done:
                leads.see_record(rec)
            route(rec, here, assembler, batch, filters)
        yield from end_chunk(batch, assembler, aggregator, path, skipped)
    if span is None:
        assembler.finish()
    else:
        span.end(assembler)
    yield from skipped
