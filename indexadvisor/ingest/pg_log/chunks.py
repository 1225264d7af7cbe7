"""Large decoded chunks of a log, cut only between records; the bad-input bookkeeping.

Every log reader works on chunks of a few MB: whole records only (the format says where one
ends), decoded once. Invalid UTF-8 is decoded with U+FFFD and reported per line; a record
longer than `MAX_RECORD_BYTES` is skipped without ever being held whole; a final record
without its newline is reported as truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ...model import Outcome, Skipped

CHUNK_BYTES = 4 << 20
MAX_RECORD_BYTES = 4 << 20  # a record longer than this is skipped without being held whole

Boundary = Callable[[bytes], int]
_CSV_START = re.compile(rb"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
# where the next record may start, for skipping the rest of an oversized one
_NEXT = {"line": re.compile(rb"\n(?=.)", re.S), "stderr": re.compile(rb"\n(?=[^\t])"),
         "csv": _CSV_START}


def line_boundary(buf: bytes) -> int:
    """After the last newline whose next byte is known (jsonlog: one record per line)."""
    i = buf.rfind(b"\n", 0, len(buf) - 1)
    return -1 if i < 0 else i + 1


def stderr_boundary(buf: bytes) -> int:
    """After the last newline that starts a new record (not a TAB continuation line).

    >>> stderr_boundary(b"a\\n\\tb\\nc\\n\\td")
    5
    """
    i = buf.rfind(b"\n", 0, len(buf) - 1)
    while i >= 0 and buf[i + 1] == 9:
        i = buf.rfind(b"\n", 0, i)
    return -1 if i < 0 else i + 1


def csv_boundary(buf: bytes) -> int:
    """After the last newline that starts a row: a timestamp follows and quotes are balanced.

    >>> row = b'2024-01-01 00:00:00.000 UTC,"a\\n2024-01-01 00:00:00 x"\\n'
    >>> csv_boundary(row + b'2024-01-01 00:00:01') == len(row)
    True
    """
    total = buf.count(b'"')
    for m in reversed(list(_CSV_START.finditer(buf, max(0, len(buf) - (1 << 20))))):
        if (total - buf.count(b'"', m.start())) % 2 == 0:
            return m.start() + 1
    return -1


def decode(piece: bytes, path: str, first_line: int) -> tuple[str, list[Skipped]]:
    """UTF-8 text of `piece`; invalid lines are decoded with U+FFFD and reported."""
    try:
        return piece.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    notes = []
    for n, raw in enumerate(piece.split(b"\n")):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            notes.append(Skipped(f"{path}:{first_line + n}", "invalid UTF-8", "",
                                 Outcome.NOT_ADVISED,
                                 "replaced with U+FFFD, the record is still read"))
    return piece.decode("utf-8", errors="replace"), notes


def chunks(stream: BinaryIO, path: str, boundary: Boundary, skipped: list[Skipped],
           progress: Callable[[], None] | None = None) -> Iterator[tuple[str, int]]:
    """(text, number of its first line) for each run of whole records in `stream`.

    Problems (invalid UTF-8, oversized or truncated records) are appended to `skipped`.
    """
    following = _NEXT["stderr" if boundary is stderr_boundary
                      else "csv" if boundary is csv_boundary else "line"]
    line = 1
    buf = b""
    discarding = False  # inside an oversized record: drop bytes up to the next record
    while True:
        data = stream.read(CHUNK_BYTES)
        if progress is not None:
            progress()
        if not data:
            break
        buf += data
        cut = boundary(buf)
        if not discarding and cut < 0 and len(buf) > MAX_RECORD_BYTES:
            skipped.append(Skipped(f"{path}:{line}", "record too long",
                                   detail=f"more than {MAX_RECORD_BYTES:,} bytes, not read"))
            discarding = True
        if discarding:
            m = following.search(buf, 0, max(0, len(buf) - 40)) if cut >= 0 else None
            if m is None:  # the oversized record goes on: drop what we have of it
                keep = max(0, len(buf) - 40)
                line += buf.count(b"\n", 0, keep)
                buf = buf[keep:]
                continue
            line += buf.count(b"\n", 0, m.start() + 1)
            buf = buf[m.start() + 1 :]
            discarding = False
            cut = boundary(buf)
            if cut < 0:
                continue
        if cut < 0:
            continue
        piece, buf = buf[:cut], buf[cut:]
        text, notes = decode(piece, path, line)
        skipped.extend(notes)
        yield text, line
        line += text.count("\n")
    if discarding or not buf:
        return
    if not buf.endswith(b"\n"):
        last = max(boundary(buf), 0)  # where the final, unfinished record starts
        tail_line = line + buf.count(b"\n", 0, last)
        tail = buf[last:].decode("utf-8", errors="replace")
        skipped.append(Skipped(f"{path}:{tail_line}", "truncated final record (no newline "
                               "at the end of the file)", tail[:200]))
        buf = buf[:last]
        if not buf:
            return
    text, notes = decode(buf, path, line)
    skipped.extend(notes)
    yield text, line
