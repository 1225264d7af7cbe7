"""Reading workload sources for a command: files, logs, exports, with a progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ..ingest import SourceOptions
from ..ingest.open import expand, total_bytes
from ..ingest.summarize import default_jobs, plan, run, worker_pool
from ..ingest.summary import Summary
from ..model import Workload
from ..model.errors import WorkloadError
from .console import err

PROGRESS_MIN_BYTES = 20 << 20  # show a progress bar for inputs larger than this
PARALLEL_MIN_BYTES = 24 << 20  # smaller inputs are read in this process (worker start-up)


@dataclass(frozen=True)
class GroupFilters:
    """Which grouped statements `collect` keeps: --min-calls, --min-time, --top."""

    min_calls: int = 0
    min_time_ms: float = 0.0
    top: int | None = None


def read_summary(sources: Sequence[str], options: SourceOptions | None = None) -> Summary:
    """Every statement of the given sources, grouped: .sql files, PostgreSQL logs (stderr,
    csvlog, jsonlog; plain or compressed), pg_stat_statements exports, earlier ingest
    summaries, directories of them, '-' for stdin. Logs are read by `options.jobs` processes
    (None: one per core) when there is enough to read."""
    options = options or SourceOptions()
    files = expand(sources)
    jobs = options.jobs or default_jobs()
    if (total_bytes([name for name in files if name != "-"]) or 0) < PARALLEL_MIN_BYTES:
        jobs = 1  # (a pool costs more than it saves)
    todo = plan(files, options, jobs)
    if len(todo.tasks) < 2:
        jobs = 1
    with worker_pool(jobs) as pool, source_progress(files) as advance:
        summary = run(todo, pool, advance)
    for note in summary.notes:
        err.print(f"[yellow]note:[/yellow] {note}")
    return summary


def workload_of(summary: Summary, sources: Sequence[str], keep: GroupFilters | None = None,
                ) -> Workload:
    """The summary's queries after --min-calls/--min-time/--top; an error when nothing at
    all was found."""
    keep = keep or GroupFilters()
    workload = summary.workload(min_calls=keep.min_calls, min_time_ms=keep.min_time_ms,
                                top=keep.top)
    if workload.statements == 0 and not workload.skipped_counts:
        raise WorkloadError("no SQL statements found in " + ", ".join(sources),
                            hint="give .sql files, PostgreSQL logs or directories holding them")
    return workload


def read_workload(sources: Sequence[str], options: SourceOptions | None = None,
                  keep: GroupFilters | None = None) -> Workload:
    """Collect every statement of the given sources (see `read_summary`)."""
    return workload_of(read_summary(sources, options), sources, keep)


@contextlib.contextmanager
def source_progress(files: Sequence[str]) -> Iterator[Callable[[int], None] | None]:
    """A bytes-read / total bar on stderr for long inputs, only when stderr is a terminal."""
    total = total_bytes(files) if err.is_terminal else None
    if total is None or total < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("read", total=total)
        yield lambda n: progress.advance(task, n)
