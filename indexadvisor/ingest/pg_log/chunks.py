"""Large decoded chunks of a log, cut only between records; the bad-input bookkeeping.

Every log reader works on chunks of a few MB: whole records only (the format says where one
ends), decoded once. Invalid UTF-8 is decoded with U+FFFD and reported per line; a record
longer than `MAX_RECORD_BYTES` is skipped without ever being held whole; a final record
without its newline is reported as truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, BinaryIO

from ...model import Outcome, Skipped

if TYPE_CHECKING:
    from .boundary import Span

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
           progress: Callable[[], None] | None = None, span: Span | None = None,
           ) -> Iterator[tuple[str, int]]:
    """(text, number of its first line) for each run of whole records in `stream`.

    Problems (invalid UTF-8, oversized or truncated records) are appended to `skipped`.

    A piece of a file (`span`: the stream starts at `span.offset` of the file, a record start,
    and the piece ends at `span.stop`, another one) is cut exactly where the whole file is:
    reads end at multiples of CHUNK_BYTES from the file's start, and the read that crosses
    `span.stop` is looked at as a reader of the whole file would, then cut there. So which
    records are read, and which are too long, does not depend on where pieces start. The
    number of lines read goes to `span.lines`.
    """
    following = _NEXT["stderr" if boundary is stderr_boundary
                      else "csv" if boundary is csv_boundary else "line"]
    first_line = line = span.first_line if span is not None else 1
    at = span.offset if span is not None else 0  # where buf starts in the file
    stop = span.stop if span is not None else None
    buf = b""
    discarding = False  # inside an oversized record: drop bytes up to the next record
    while stop is None or at < stop:
        data = stream.read(CHUNK_BYTES - (at + len(buf)) % CHUNK_BYTES)
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
                buf, at = buf[keep:], at + keep
                continue
            line += buf.count(b"\n", 0, m.start() + 1)
            buf, at = buf[m.start() + 1 :], at + m.start() + 1
            discarding = False
            cut = boundary(buf)
            if cut < 0:
                continue
        if cut < 0:
            continue
        if stop is not None and at + cut > stop:
            cut = stop - at  # the piece ends at a record start inside this run
        piece, buf, at = buf[:cut], buf[cut:], at + cut
        if piece:
            text, notes = decode(piece, path, line)
            skipped.extend(notes)
            yield text, line
            line += text.count("\n")
    if stop is None:
        if discarding:  # the end of the file: the next record, if any, starts in what is left
            m = following.search(buf)
            end = len(buf) if m is None else m.start() + 1
            line += buf.count(b"\n", 0, end)
            buf = buf[end:]
        if buf and not buf.endswith(b"\n"):
            last = max(boundary(buf), 0)  # where the final, unfinished record starts
            tail_line = line + buf.count(b"\n", 0, last)
            tail = buf[last:].decode("utf-8", errors="replace")
            skipped.append(Skipped(f"{path}:{tail_line}", "truncated final record (no "
                                   "newline at the end of the file)", tail[:200]))
            buf = buf[:last]
        if buf:
            text, notes = decode(buf, path, line)
            skipped.extend(notes)
            yield text, line
            line += text.count("\n")
    if span is not None:
        span.lines = line - first_line
