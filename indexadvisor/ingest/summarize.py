"""Every source into one `Summary`, on as many cores as asked (`SourceOptions.jobs`).

Logs are read by worker processes (`multiprocessing`, forked: parsing is CPU-bound Python and
libpg_query, so threads would not help): many files at once, and a large plain stderr or
jsonlog file in pieces cut at record starts, each a quarter of what is left of the file for
two processes (big ones first, so that the processes finish together). A compressed log or a
csvlog (whose record starts cannot be told from the middle of the file) is one piece; stdin
is read here. SQL files, pg_stat_statements exports and earlier summaries (`summary_json`)
are read here too, while the workers run.

The result does not depend on the number of processes: pieces of a file are put together in
order, each one's lines moved after the lines before it (`pieces.relocate`) and what its
first records say to the state the pieces before it left applied with `boundary.settle`;
everything else a summary holds merges exactly, in any order (see `summary`).
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..model import Skipped, Statement
from ..model.errors import SourceError
from .open import Source
from .pg_log.aggregate import Aggregator
from .pg_log.boundary import settle
from .pg_log.records import Assembler
from .pieces import (
    SPLITTABLE,
    Piece,
    PieceResult,
    cut_points,
    read_piece,
    relocate,
    shift_events,
)
from .sources import SourceOptions, read_other, sniff
from .summary import Summary, position

MIN_PIECE = 16 << 20  # smaller logs are read whole; the smallest piece
PARTS_PER_JOB = 2  # a piece is what is left of the file / (jobs * PARTS_PER_JOB)
LOG_KINDS = frozenset({"stderr", "csvlog", "jsonlog"})


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def worker_pool(jobs: int) -> Iterator[Any]:
    """`jobs` worker processes (None for one job), started now: make it before any thread
    starts (a progress bar), since the workers are forked. A worker that dies (killed for
    memory, say) is an error of the run, not a hang (`concurrent.futures` notices)."""
    if jobs <= 1:
        yield None
        return
    import multiprocessing  # (not at start-up: one process needs none of it)
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context)
    try:
        gc.freeze()  # the collector leaves what exists now alone: fewer pages copied
        try:
            pool.submit(int).result()  # forks every worker (the fork context starts all)
        finally:
            gc.unfreeze()
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Log:
    """A log file being put together from its pieces, in order."""

    number: int
    pieces: list[Piece]
    merged: Summary  # the statements held across pieces, emitted here
    assembler: Assembler
    lines: int = 0  # lines of the pieces merged so far


@dataclass
class Plan:
    """What `summarize` will read: files sniffed and numbered, logs cut into pieces."""

    options: SourceOptions
    summary: Summary  # files numbered; earlier summaries to merge in `loaded`
    logs: list[_Log] = field(default_factory=list)
    later: list[tuple[int, str, str, str | None]] = field(default_factory=list)
    loaded: list[tuple[int, Summary]] = field(default_factory=list)
    stdin: Source | None = None  # sniffed, so it stays open
    sizes: dict[str, int] = field(default_factory=dict)
    done: list[tuple[int, float, int]] = field(default_factory=list)  # (process, CPU s, bytes)

    @property
    def tasks(self) -> list[Piece]:
        """The pieces to read, in order."""
        return [piece for log in self.logs for piece in log.pieces]


def plan(paths: Sequence[str], options: SourceOptions | None = None, jobs: int = 1,
         piece_bytes: int | None = None) -> Plan:
    """Sniff every file of `paths` (already expanded, '-' is stdin); cut large plain logs
    into pieces for `jobs` processes (when more than one, or when `piece_bytes` is given:
    the smallest piece, which tests use)."""
    options = options or SourceOptions()
    out = Plan(options, Summary(options.max_samples))
    out.sizes = {name: _size(name) for name in paths}
    try:
        for name in paths:
            _plan_one(out, name, jobs, piece_bytes)
    except BaseException:
        if out.stdin is not None:
            out.stdin.close()
        raise
    return out


def _plan_one(out: Plan, name: str, jobs: int, piece_bytes: int | None) -> None:
    options, summary = out.options, out.summary
    source = Source(name)
    try:
        kind, prefix = sniff(source, options)
    finally:
        if name != "-":
            source.close()
    if kind == "summary":
        from .summary_json import load_summary

        other = load_summary(Path(name), options.max_samples)
        out.loaded.append((len(summary.files), other))
        summary.files.extend(other.files)
        return
    number = summary.file(source.display)
    text = prefix.text if prefix is not None else None
    if name == "-":
        out.stdin = source
    if kind not in LOG_KINDS or name == "-":  # read by this process
        out.later.append((number, name, kind, text))
        return
    piece = Piece(name, source.display, kind, text, options.filters, options.max_samples)
    smallest = piece_bytes or MIN_PIECE
    if kind not in SPLITTABLE or source.compression is not None \
            or out.sizes[name] < 2 * smallest or (jobs <= 1 and piece_bytes is None):
        pieces = [piece]
    else:
        points = cut_points(name, kind, out.sizes[name], smallest, jobs * PARTS_PER_JOB)
        ends: list[int | None] = [*points[1:], None]
        pieces = [replace(piece, start=a, stop=b, leads=a > 0)
                  for a, b in zip(points, ends, strict=True)]
    out.logs.append(_start(number, pieces, options))


def summarize(paths: Sequence[str], options: SourceOptions | None = None, pool: Any = None,
              progress: Callable[[int], None] | None = None, piece_bytes: int | None = None,
              ) -> Summary:
    """Read every file of `paths` (already expanded, '-' is stdin) into one summary; then
    pg_stat_statements live when `options.pgss_dsn` says so. Logs are read by `pool`'s
    worker processes when there is one, large ones in pieces (of at least `piece_bytes`,
    if given: then even without a pool, which tests use)."""
    options = options or SourceOptions()
    jobs = 1 if pool is None else max(1, options.jobs or default_jobs())
    return run(plan(paths, options, jobs, piece_bytes), pool, progress)


def run(todo: Plan, pool: Any = None, progress: Callable[[int], None] | None = None,
        ) -> Summary:
    """Read what `plan` found: pieces by `pool`'s workers (or here, in order), the rest
    here while they run; put everything together (see the module docstring)."""
    summary, options = todo.summary, todo.options
    tasks = todo.tasks
    results: Iterator[PieceResult] = (
        _in_workers(pool, tasks) if pool is not None
        else (read_piece(task, None, progress) for task in tasks))
    for base, other in todo.loaded:
        summary.merge(other, position(base, 0))
    for number, name, kind, text in todo.later:
        source = todo.stdin if name == "-" and todo.stdin is not None else Source(name)
        with source:
            _read_here(summary, number, source, kind, text, options)
        if progress is not None:
            progress(todo.sizes[name])
    for log in todo.logs:
        for piece in log.pieces:
            result = next(results)
            todo.done.append((result.worker, result.cpu_s, result.bytes))
            _merge_piece(summary, log, piece, result)
            if progress is not None and pool is not None:
                progress(result.bytes)
        log.assembler.finish()
        list(log.assembler.aggregator.drain())
        summary.merge(log.merged, position(log.number, 0))
    if options.pgss_dsn is not None:
        from .sources import _pgss

        number = summary.file("pg_stat_statements")
        for n, item in enumerate(_pgss().read_pgss_live(options.pgss_dsn), 1):
            _add(summary, item, position(number, n))
    return summary


def _in_workers(pool: Any, tasks: list[Piece]) -> Iterator[PieceResult]:
    """The pieces, all handed to the pool's processes now; their results in order. A worker
    that died (out of memory, say) is a SourceError."""
    from concurrent.futures.process import BrokenProcessPool

    broken = SourceError("a process reading logs stopped (out of memory?)",
                         hint="read with fewer processes: -j 1")
    try:
        futures = deque(pool.submit(read_piece, task) for task in tasks)
    except BrokenProcessPool:
        raise broken from None

    def results() -> Iterator[PieceResult]:
        try:
            while futures:
                yield futures.popleft().result()
        except BrokenProcessPool:
            raise broken from None

    return results()


def _start(number: int, pieces: list[Piece], options: SourceOptions) -> _Log:
    merged = Summary(options.max_samples)
    aggregator = Aggregator(options.max_samples, sink=merged)
    aggregator.begin(pieces[0].display)

    def skip(item: Skipped) -> None:
        merged.add_skip(item, position(0, int(item.source.rsplit(":", 1)[1])))

    return _Log(number, pieces, merged, Assembler(pieces[0].display, aggregator,
                                                    options.filters, skip))


def _merge_piece(summary: Summary, log: _Log, piece: Piece, result: PieceResult) -> None:
    """Put a piece's result in its place (see the module docstring)."""
    asm = log.assembler
    if result.leads is not None and not settle(asm, result.leads.leads):
        # read it again here, starting with the state the pieces before it left
        result = read_piece(replace(piece, first_line=log.lines + 1, leads=False,
                                    held=dict(asm.held), plans=dict(asm.plans)))
        asm.held.clear()
        asm.plans.clear()
        summary.merge(result.summary, position(log.number, 0))
        asm.held.update(result.end_held)
        asm.plans.update(result.end_plans)
    else:
        relocate(result.summary, piece.display, log.lines)
        summary.merge(result.summary, position(log.number, log.lines))
        asm.held.update(shift_events(result.end_held, log.lines))
        asm.plans.update(shift_events(result.end_plans, log.lines))
    log.lines += result.lines


def _read_here(summary: Summary, number: int, source: Source, kind: str,
               prefix: str | None, options: SourceOptions) -> None:
    """A source read in this process: a log on stdin, SQL, exports, what is not a source."""
    if kind in LOG_KINDS:
        piece = Piece(source.name, source.display, kind, prefix, options.filters,
                      options.max_samples)
        result = read_piece(piece, source)
        summary.merge(result.summary, position(number, 0))
        return
    for n, item in enumerate(read_other(source, kind, options), 1):
        _add(summary, item, position(number, n))


def _add(summary: Summary, item: Statement | Skipped, pos: int) -> None:
    if isinstance(item, Skipped):
        summary.add_skip(item, pos)
    else:
        summary.add_statement(item, pos)


def _size(name: str) -> int:
    if name == "-":
        return 0
    try:
        return Path(name).stat().st_size
    except OSError:
        return 0
