"""One entry point for every workload source: `read_sources(paths, options)`.

Each file is sniffed (after decompression): a `.sql` file, a PostgreSQL log (stderr with a
known or given `log_line_prefix`, csvlog, jsonlog), or a pg_stat_statements export (a CSV
header or JSON objects with `query` and `calls`). What is none of these is reported, not read.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pglast.parser import ParseError, parse_sql

from ..model import Skipped, Statement
from ..model.errors import ConfigError, SourceError
from .open import HEAD_BYTES, Source, expand
from .pg_log.aggregate import Aggregator
from .pg_log.csvlog import ROW as CSV_ROW
from .pg_log.csvlog import read_csvlog
from .pg_log.jsonlog import read_jsonlog
from .pg_log.prefix import Prefix, compile_prefix, detect_prefix
from .pg_log.records import Filters
from .pg_log.stderr import read_stderr
from .sql_files import read_sql_paths, split_sql

LOG_FORMATS = ("stderr", "csvlog", "jsonlog")
_CSV_ROW = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? [^,\n]*,")
_HEADER_SPLIT = re.compile(r"[,;\t|]")
# the JSON `indexadvisor ingest --format json` writes (see summary_json; version 1 had no kind)
_SUMMARY = re.compile(r'^\s*\{\s*"schema_version"\s*:\s*\d+\s*,\s*(?:"kind"\s*:\s*'
                      r'"ingest-summary"|"tool"\s*:\s*\{[^}]*\}\s*,\s*"sources")')


@dataclass(frozen=True)
class SourceOptions:
    """How to read sources: format overrides, filters, samples kept per statement shape."""

    log_format: str | None = None  # stderr / csvlog / jsonlog; None: sniff each file
    log_prefix: str | None = None  # log_line_prefix of stderr logs; None: detect
    filters: Filters = field(default_factory=Filters)
    max_samples: int = 3
    pgss_dsn: str | None = None  # also read pg_stat_statements live from this server
    progress: Callable[[int], None] | None = field(default=None, compare=False)
    jobs: int | None = 1  # processes reading logs (None: one per core); see `summarize`

    def __post_init__(self) -> None:
        if self.log_format is not None and self.log_format not in LOG_FORMATS:
            raise ConfigError(f"unknown log format {self.log_format!r}",
                              hint="choose one of: " + ", ".join(LOG_FORMATS))
        if self.log_prefix is not None:
            compile_prefix(self.log_prefix)  # a bad prefix is a ConfigError now, not later


def read_sources(paths: Iterable[str], options: SourceOptions | None = None,
                 ) -> Iterator[Statement | Skipped]:
    """Statements and Skipped records of every source, in order ('-' is stdin).

    Log statements are pre-aggregated by shape across all files (see `pg_log.aggregate`),
    so they arrive after the files are read, or whenever too many shapes are held.
    """
    options = options or SourceOptions()
    aggregator = Aggregator(options.max_samples)
    for name in expand(paths):
        with Source(name, options.progress) as source:
            aggregator.begin(source.display)
            yield from _read_one(source, options, aggregator)
            if source.error is not None:
                yield Skipped(source.display, source.error[0], detail=source.error[1])
        if aggregator.full:
            yield from aggregator.drain()
    yield from aggregator.drain()
    if options.pgss_dsn is not None:
        # --- pg_stat_statements, live (indexadvisor/ingest/pg_stat_statements.py) ---
        yield from _pgss().read_pgss_live(options.pgss_dsn)


def _pgss() -> Any:
    """The pg_stat_statements reader, imported lazily (it is a separate module)."""
    try:
        return importlib.import_module(".pg_stat_statements", __package__)
    except ModuleNotFoundError:
        raise SourceError("reading pg_stat_statements is not available in this build",
                          hint="give PostgreSQL logs or .sql files instead") from None


def sniff(source: Source, options: SourceOptions) -> tuple[str, Prefix | None]:
    """What a source holds: ('sql' | 'stderr' | 'csvlog' | 'jsonlog' | 'pgss' | 'summary' |
    'binary' | 'unknown', the stderr prefix)."""
    head = source.head
    plain = source.display.lower().removesuffix(".gz").removesuffix(".bz2").removesuffix(".xz")
    if options.log_format is None and plain.endswith(".sql"):
        return "sql", None
    text = head.decode("utf-8", errors="replace")
    if len(head) >= HEAD_BYTES and "\n" in text:
        text = text.rsplit("\n", 1)[0]  # the last line may be cut
    lines = [line for line in text.split("\n")[:200] if line.strip()]
    if _SUMMARY.match(text):  # unambiguous, whatever --log-format says about logs
        return "summary", None
    if options.log_format == "stderr":
        prefix = _prefix(lines, options)
        if prefix is None:
            raise ConfigError(f"{source.display}: "
                              + ("--log-prefix matches no line of this log" if options.log_prefix
                                 else "no known log_line_prefix matches this log"),
                              hint="give the server's log_line_prefix with --log-prefix")
        return "stderr", prefix
    if options.log_format is not None:
        return options.log_format, None
    if not lines:
        return "sql", None  # an empty file: nothing to read either way
    first = lines[0].lstrip()
    if first.startswith(("{", "[")):
        if '"timestamp"' in first and '"message"' in first:
            return "jsonlog", None
        if re.search(r'"query"\s*:', text) and re.search(r'"calls"\s*:', text):
            return "pgss", None
    if _CSV_ROW.match(first) and (m := CSV_ROW.match(text.lstrip())) and m.group(1):
        return "csvlog", None
    header = {h.strip().strip('"').lower() for h in _HEADER_SPLIT.split(first)}
    if {"query", "calls"} <= header:
        return "pgss", None
    prefix = _prefix(lines, options)
    if prefix is not None:
        return "stderr", prefix
    if b"\x00" in head[:4096]:
        return "binary", None
    if source.name == "-" or _looks_like_sql(text):
        return "sql", None
    return "unknown", None


def _prefix(lines: list[str], options: SourceOptions) -> Prefix | None:
    """The given --log-prefix if it frames any of `lines`, else a detected known one."""
    if options.log_prefix is None:
        return detect_prefix(lines)
    prefix = compile_prefix(options.log_prefix)
    return prefix if any(prefix.header.match(line) for line in lines) else None


def _looks_like_sql(text: str) -> bool:
    """True when the first statement of `text` is SQL PostgreSQL's grammar accepts."""
    first = text.split(";", 1)[0]
    try:
        return bool(first.strip()) and bool(parse_sql(first))
    except ParseError:
        return False


def _read_one(source: Source, options: SourceOptions, aggregator: Aggregator,
              ) -> Iterator[Statement | Skipped]:
    kind, prefix = sniff(source, options)
    name, filters = source.display, options.filters
    if kind == "stderr":
        assert prefix is not None
        yield from read_stderr(source, name, prefix, aggregator, filters)  # type: ignore[arg-type]
    elif kind == "csvlog":
        yield from read_csvlog(source, name, aggregator, filters)  # type: ignore[arg-type]
    elif kind == "jsonlog":
        yield from read_jsonlog(source, name, aggregator, filters)  # type: ignore[arg-type]
    elif kind == "summary":
        raise SourceError(f"{name}: an ingest summary (JSON) is read by indexadvisor ingest "
                          "and advise, not as a statement stream",
                          hint="load it with indexadvisor.ingest.summary_json.load_summary")
    else:
        yield from read_other(source, kind, options)


def read_other(source: Source, kind: str, options: SourceOptions,
               ) -> Iterator[Statement | Skipped]:
    """A source that is not a log: SQL, a pg_stat_statements export, or not a source."""
    name = source.display
    if kind == "sql":
        if source.name != "-" and source.compression is None:
            yield from read_sql_paths([source.name])
            return
        raw = source.read()
        text = raw.decode("utf-8", errors="replace")
        if "\ufffd" in text and b"\xef\xbf\xbd" not in raw:
            yield Skipped(name, "invalid UTF-8",
                          detail="replaced with U+FFFD, statements still read")
        yield from split_sql(text, name)
    elif kind == "pgss":
        # --- pg_stat_statements export (indexadvisor/ingest/pg_stat_statements.py) ---
        if source.name == "-" or source.compression is not None:
            raise SourceError(f"{name}: read pg_stat_statements exports from a plain file")
        yield from _pgss().read_pgss_export(Path(source.name))
    elif kind == "binary":
        yield Skipped(name, "binary file (NUL bytes), not a log or SQL")
    else:
        snippet = source.head[:80].decode("utf-8", errors="replace").split("\n")[0]
        yield Skipped(name, "not a PostgreSQL log, SQL file or pg_stat_statements export "
                      "(give --log-format/--log-prefix if it is a log)", snippet)


def read_logs_text(text: str, name: str = "<text>", options: SourceOptions | None = None,
                   ) -> list[Statement | Skipped]:
    """Read log text given as a string (tests, doctests): sniffed like a file."""
    import io

    class _Text(Source):
        def __init__(self) -> None:  # no file: a buffer
            self.name, self.error, self.compression = name, None, None
            self._progress, self._reported = None, 0
            self._raw = self._stream = io.BytesIO(text.encode())
            self.head = self._read(1 << 16)
            self._pending = self.head

        def close(self) -> None:
            pass

    options = options or SourceOptions()
    aggregator = Aggregator(options.max_samples)
    aggregator.begin(name)
    out = list(_read_one(_Text(), options, aggregator))
    out.extend(aggregator.drain())
    return out

