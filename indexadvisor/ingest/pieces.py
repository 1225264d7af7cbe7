"""One piece of a log, read on its own (in a worker process or in this one) into a `Summary`.

A large plain log is cut at record starts (`cut_points`) into pieces that worker processes read
at the same time; a compressed log, a csvlog or a small log is one piece. Each piece's summary
counts lines from the piece's own start; `relocate` moves them to their place in the file,
and `boundary.settle` pairs what the piece's first records say with what the pieces before it
left (see `summarize`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from ..model import Skipped
from .open import Source
from .pg_log.aggregate import Aggregator
from .pg_log.boundary import Leads, Span
from .pg_log.csvlog import read_csvlog
from .pg_log.jsonlog import read_jsonlog
from .pg_log.prefix import Prefix, compile_prefix
from .pg_log.records import Event, Filters
from .pg_log.stderr import read_stderr
from .summary import Summary, position

SPLITTABLE = frozenset({"stderr", "jsonlog"})  # a record start can be found anywhere
_STDERR_START = re.compile(rb"\n(?=[^\t])")
_LINE_START = re.compile(rb"\n(?=.)", re.S)
SCAN_BYTES = 1 << 20


@dataclass
class Piece:
    """What a worker needs to read one piece of one log (sent to it, so plain values)."""

    name: str  # the file to open
    display: str  # its name in sources
    kind: str  # stderr / csvlog / jsonlog
    prefix: str | None  # log_line_prefix (stderr)
    filters: Filters
    max_samples: int
    start: int = 0
    stop: int | None = None  # None: to the end of the file
    first_line: int = 1
    leads: bool = False  # a piece after the first: note its processes' leads
    held: dict[str, Event] = field(default_factory=dict)  # state to start with (re-reads)
    plans: dict[str, Event] = field(default_factory=dict)

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.stop is None


@dataclass
class PieceResult:
    """A piece's summary (lines counted from `Piece.first_line`) and what it leaves."""

    summary: Summary
    lines: int
    end_held: dict[str, Event]
    end_plans: dict[str, Event]
    leads: Leads | None
    bytes: int
    cpu_s: float = 0.0  # CPU time the piece took
    worker: int = 0  # the process that read it


@lru_cache(maxsize=16)
def _prefix(text: str) -> Prefix:
    return compile_prefix(text)


def read_piece(piece: Piece, source: Source | None = None,
               progress: Callable[[int], None] | None = None) -> PieceResult:
    """Read one piece (from `source` when it is already open: stdin, a sniffed file), with
    bytes read going to `progress` (a whole file read in this process)."""
    started = time.process_time()
    summary = Summary(piece.max_samples)
    aggregator = Aggregator(piece.max_samples, sink=summary)
    aggregator.begin(piece.display)
    span = Span(offset=piece.start, stop=piece.stop, first_line=piece.first_line,
                last=piece.stop is None, held=piece.held, plans=piece.plans,
                leads=Leads() if piece.leads else None,
                name=None if piece.whole else piece.name)
    stream: Any = source
    if stream is None:
        stream = Source(piece.name, progress) if piece.whole \
            else _seek(piece.name, piece.start)
    try:
        for item in _reader(piece, stream, aggregator, span):
            if isinstance(item, Skipped):
                summary.add_skip(item, position(0, _line(item.source, piece.display)))
        error = getattr(stream, "error", None)
        if error is not None:
            summary.add_skip(Skipped(piece.display, error[0], detail=error[1]), 0)
    finally:
        if source is None:
            stream.close()
    list(aggregator.drain())
    size = (piece.stop if piece.stop is not None else _size(piece.name)) - piece.start
    return PieceResult(summary, span.lines, span.end_held, span.end_plans, span.leads, size,
                       time.process_time() - started, os.getpid())


def _reader(piece: Piece, stream: BinaryIO, aggregator: Aggregator, span: Span,
            ) -> Any:
    if piece.kind == "stderr":
        assert piece.prefix is not None
        return read_stderr(stream, piece.display, _prefix(piece.prefix), aggregator,
                           piece.filters, span=span)
    if piece.kind == "csvlog":
        return read_csvlog(stream, piece.display, aggregator, piece.filters, span=span)
    return read_jsonlog(stream, piece.display, aggregator, piece.filters, span=span)


def _seek(name: str, offset: int) -> BinaryIO:
    stream = open(name, "rb")  # noqa: SIM115 (closed by read_piece)
    stream.seek(offset)
    return stream


def _size(name: str) -> int:
    try:
        return Path(name).stat().st_size
    except OSError:
        return 0


def _line(source: str, display: str) -> int:
    """The line of a `display:line` source (0 for the whole file)."""
    tail = source[len(display) + 1:] if source.startswith(display + ":") else ""
    return int(tail) if tail.isdigit() else 0


def relocate(summary: Summary, display: str, lines_before: int) -> None:
    """Skip examples of a piece read with lines counted from its start: their sources get the
    file's line numbers (positions move when the summary is merged)."""
    if not lines_before:
        return
    for kept in summary.skips.examples.values():
        for i, (pos, key, item) in enumerate(kept):
            line = _line(item.source, display)
            if line:
                kept[i] = (pos, key, Skipped(f"{display}:{line + lines_before}", item.category,
                                             item.text, item.outcome, item.detail))


def shift_events(events: dict[str, Event], lines_before: int) -> dict[str, Event]:
    """Held statements of a piece, with the file's line numbers."""
    for event in events.values():
        event.line += lines_before
    return events


def cut_points(name: str, kind: str, size: int, smallest: int, parts: int) -> list[int]:
    """Offsets where pieces start: record starts (stderr: after a newline not followed by a
    TAB; jsonlog: after any newline), increasing, the first 0. Each piece is 1/`parts` of
    what is left, at least `smallest` bytes: big pieces first, small ones at the end, so the
    processes finish together ("guided" scheduling)."""
    pattern = _STDERR_START if kind == "stderr" else _LINE_START
    points = [0]
    with open(name, "rb") as f:
        while True:
            at = points[-1]
            step = max(smallest, (size - at) // parts)
            if at + step + smallest // 2 >= size:
                break
            found = _next_start(f, at + step - 1, pattern)
            if found is None:
                break
            points.append(found)
    return points


def _next_start(f: BinaryIO, at: int, pattern: re.Pattern[bytes]) -> int | None:
    """The first record start after offset `at` (None: none before the end)."""
    while True:
        f.seek(at)
        block = f.read(SCAN_BYTES + 1)
        if len(block) < 2:
            return None
        m = pattern.search(block)
        if m is not None:
            return at + m.start() + 1
        at += len(block) - 1  # the last byte may be a newline that starts a record
