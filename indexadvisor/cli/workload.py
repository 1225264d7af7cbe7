"""Reading workload sources for a command: files, logs, exports, with a progress bar."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ..ingest import SourceOptions, read_sources
from ..ingest.collect import collect
from ..ingest.open import expand, total_bytes
from ..model import Workload
from ..model.errors import WorkloadError
from .console import err

PROGRESS_MIN_BYTES = 20 << 20  # show a progress bar for inputs larger than this


@dataclass(frozen=True)
class GroupFilters:
    """Which grouped statements `collect` keeps: --min-calls, --min-time, --top."""

    min_calls: int = 0
    min_time_ms: float = 0.0
    top: int | None = None


def read_workload(sources: Sequence[str], options: SourceOptions | None = None,
                  keep: GroupFilters | None = None) -> Workload:
    """Collect every statement of the given sources: .sql files, PostgreSQL logs (stderr,
    csvlog, jsonlog; plain or compressed), directories of them, '-' for stdin."""
    options = options or SourceOptions()
    keep = keep or GroupFilters()
    files = expand(sources)
    with source_progress(files) as advance:
        if advance is not None:
            options = replace(options, progress=advance)
        workload = collect(read_sources(files, options), options.max_samples,
                           min_calls=keep.min_calls, min_time_ms=keep.min_time_ms,
                           top=keep.top)
    if workload.statements == 0 and not workload.skipped_counts:
        raise WorkloadError("no SQL statements found in " + ", ".join(sources),
                            hint="give .sql files, PostgreSQL logs or directories holding them")
    return workload


@contextlib.contextmanager
def source_progress(files: Sequence[str]) -> Iterator[Callable[[int], None] | None]:
    """A bytes-read / total bar on stderr for long inputs, only when stderr is a terminal."""
    total = total_bytes(files) if err.is_terminal else None
    if total is None or total < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("read", total=total)
        yield lambda n: progress.advance(task, n)
