"""Command line: `indexadvisor advise`, `ingest`, `demo`. Catches AdvisorError only.

Exit codes: 0 done, 2 a user-facing error (bad option, unreachable database, ...), 3 `--strict`
and some input could not be read, 130 Ctrl-C.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from . import __version__
from .collect import collect
from .config import AdvisorConfig, load_config, parse_size
from .errors import AdvisorError, ConfigError, ExtensionMissing, WorkloadError
from .ingest import Filters, SourceOptions, read_sources
from .ingest.open import expand, total_bytes
from .model import Workload

if TYPE_CHECKING:
    import psycopg

    from .advise import Advice
    from .db import Guards

# The advisor side (psycopg, SQLAlchemy, the planner code) is imported by the commands that
# use it: `ingest` starts about a third of a second sooner without it.

_err = Console(stderr=True)
PROGRESS_MIN_BYTES = 20 << 20  # show a progress bar for inputs larger than this
STRICT_EXIT = 3


@dataclass(frozen=True)
class Selection:
    """What `collect` keeps: --min-calls, --min-time, --top."""

    min_calls: int = 0
    min_time_ms: float = 0.0
    top: int | None = None


def read_workload(sources: Sequence[str], options: SourceOptions | None = None,
                  selection: Selection | None = None) -> Workload:
    """Collect every statement of the given sources: .sql files, PostgreSQL logs (stderr,
    csvlog, jsonlog; plain or compressed), directories of them, '-' for stdin."""
    options = options or SourceOptions()
    selection = selection or Selection()
    files = expand(sources)
    with source_progress(files) as advance:
        if advance is not None:
            options = replace(options, progress=advance)
        workload = collect(read_sources(files, options), options.max_samples,
                           min_calls=selection.min_calls, min_time_ms=selection.min_time_ms,
                           top=selection.top)
    if workload.statements == 0 and not workload.skipped_counts:
        raise WorkloadError("no SQL statements found in " + ", ".join(sources),
                            hint="give .sql files, PostgreSQL logs or directories holding them")
    return workload


@contextlib.contextmanager
def source_progress(files: Sequence[str]) -> Iterator[Callable[[int], None] | None]:
    """A bytes-read / total bar on stderr for long inputs, only when stderr is a terminal."""
    total = total_bytes(files) if _err.is_terminal else None
    if total is None or total < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = (TextColumn("reading"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=_err, transient=True) as progress:
        task = progress.add_task("read", total=total)
        yield lambda n: progress.advance(task, n)


@contextlib.contextmanager
def target_connection(dsn: str | None, schema_files: Sequence[Path], backend: str,
                      guards: Guards, create_extension: bool) -> Iterator[psycopg.Connection]:
    """A guarded connection to the user's database, or to a sandbox loaded with the schema."""
    from .db import connect
    from .loader import run_files

    if dsn:
        if schema_files:
            raise ConfigError("--schema loads a sandbox; it cannot be combined with --dsn",
                              hint="the database behind --dsn already has its schema")
        if create_extension:
            _create_extension(dsn)
        conn = connect(dsn, guards=guards)
        try:
            yield conn
        finally:
            conn.close()
        return
    if not schema_files:
        raise ConfigError(
            "no database to advise against",
            hint="pass --dsn (or set INDEXADVISOR_DSN), or --schema FILE to load a sandbox, "
            "or try `indexadvisor demo`")
    from .sandbox import open_sandbox

    with open_sandbox(backend) as sandbox:
        _err.print(f"[dim]sandbox PostgreSQL started ({sandbox.dsn})[/dim]")
        run_files(sandbox.dsn, list(schema_files))
        conn = connect(sandbox.dsn, guards=guards)
        try:
            yield conn
        finally:
            conn.close()


def _create_extension(dsn: str) -> None:
    """CREATE EXTENSION hypopg, only because the user asked for it (--create-extension)."""
    import psycopg

    from .db import redact_dsn

    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    except psycopg.Error as exc:
        raise ExtensionMissing(
            f"CREATE EXTENSION hypopg failed on {redact_dsn(dsn)}: "
            f"{redact_dsn(str(exc).strip())}",
            hint="HypoPG must be installed on the server (postgresql-NN-hypopg)") from None


@contextlib.contextmanager
def progress_display() -> Iterator[Callable[[str], None] | None]:
    """A spinner with the current stage on stderr, only when stderr is a terminal."""
    if not _err.is_terminal:
        yield None
        return
    with _err.status("starting…") as status:
        yield lambda message: status.update(message + "…")


def emit(advice: Advice, fmt: str, output: Path | None) -> None:
    """Write the report: a table to the terminal, JSON to stdout or a file."""
    from .report import render_json, render_table

    if fmt == "json":
        text = render_json(advice)
        if output is None:
            sys.stdout.write(text)
        else:
            _write(output, text)
            _err.print(f"JSON report written to {output}")
        return
    render_table(advice, Console())
    if output is not None:
        _write(output, render_json(advice))
        _err.print(f"JSON report written to {output}")


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def _size(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_size(value)


_common = [
    click.option("--budget", callback=_size, metavar="SIZE",
                 help="Storage budget for new indexes, e.g. 500MB, 2GB."),
    click.option("--max-indexes", type=click.IntRange(min=0), help="At most this many indexes."),
    click.option("--max-width", type=click.IntRange(min=1, max=32),
                 help="Most key columns per index (default 3)."),
    click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
                 show_default=True, help="table for people, json for machines."),
    click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                 help="Write the JSON report to this file."),
]


def common_options(func: Any) -> Any:
    for option in reversed(_common):
        func = option(func)
    return func


_sources = [
    click.option("--log-format", type=click.Choice(["stderr", "csvlog", "jsonlog"]),
                 help="Read every source as this log format (default: sniff each file)."),
    click.option("--log-prefix", metavar="PREFIX",
                 help="The server's log_line_prefix for stderr logs (default: detect the "
                 "Debian, vanilla and RDS ones and a few more)."),
    click.option("--since", metavar="TIME", help="Only statements logged at or after TIME "
                 "(e.g. 2024-05-01 or '2024-05-01 10:00'), in the log's own time zone."),
    click.option("--until", metavar="TIME", help="Only statements logged up to TIME "
                 "(inclusive at the precision given)."),
    click.option("--db", "database", metavar="NAME", help="Only statements of this database."),
    click.option("--user", metavar="NAME", help="Only statements of this user."),
    click.option("--min-calls", type=click.IntRange(min=0), default=0,
                 help="Drop statements called fewer times."),
    click.option("--min-time", "min_time", type=click.FloatRange(min=0), default=0.0,
                 metavar="MS", help="Drop statements whose total time is below MS."),
    click.option("--top", type=click.IntRange(min=1), metavar="N",
                 help="Keep the N statements with the most total time."),
]


def source_options(func: Any) -> Any:
    """The options every command that reads workload sources accepts."""
    for option in reversed(_sources):
        func = option(func)
    return func


def _reading(log_format: str | None, log_prefix: str | None, since: str | None,
             until: str | None, database: str | None, user: str | None, min_calls: int,
             min_time: float, top: int | None) -> tuple[SourceOptions, Selection]:
    filters = Filters(since=since, until=until, database=database, user=user)
    return (SourceOptions(log_format=log_format, log_prefix=log_prefix, filters=filters),
            Selection(min_calls=min_calls, min_time_ms=min_time, top=top))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="indexadvisor")
def cli() -> None:
    """Index advice for PostgreSQL, costed by the real planner through HypoPG."""


@cli.command("advise")
@click.argument("sources", nargs=-1)
@click.option("--dsn", help="Target database (libpq string or URL); also INDEXADVISOR_DSN. "
              "Only EXPLAIN runs there, in read-only transactions.")
@click.option("--pg-stat-statements", "pgss", is_flag=True,
              help="Also take the workload from the target's pg_stat_statements (needs --dsn).")
@click.option("--schema", "schema_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Without --dsn: SQL files (schema, data) to load into a sandbox first.")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True, help="Sandbox backend when there is no DSN.")
@click.option("--create-extension", is_flag=True,
              help="Run CREATE EXTENSION hypopg on the target if it is missing (a write).")
@click.option("--statement-timeout", type=click.IntRange(min=1), help="Milliseconds per EXPLAIN.")
@common_options
@source_options
def advise_cmd(sources: tuple[str, ...], dsn: str | None, pgss: bool,
               schema_files: tuple[Path, ...], backend: str, create_extension: bool,
               statement_timeout: int | None, budget: int | None, max_indexes: int | None,
               max_width: int | None, fmt: str, output: Path | None, **reading: Any) -> None:
    """Recommend indexes for the statements in SOURCES (.sql files, PostgreSQL logs,
    pg_stat_statements exports, directories of them, compressed or not, '-' for stdin)."""
    from .advise import advise
    from .db import Guards, resolve_dsn

    config = load_config().with_options(budget_bytes=budget, max_indexes=max_indexes,
                                        max_width=max_width,
                                        statement_timeout_ms=statement_timeout)
    target = resolve_dsn(dsn)
    if pgss and target is None:
        raise ConfigError("--pg-stat-statements reads the target database's statistics",
                          hint="give --dsn (or INDEXADVISOR_DSN)")
    if not sources and not pgss:
        raise ConfigError("nothing to advise on",
                          hint="give .sql files, logs or exports, or --pg-stat-statements")
    options, selection = _reading(**reading)
    if pgss:
        options = replace(options, pgss_dsn=target)
    workload = read_workload(sources, options, selection)
    guards = Guards(config.statement_timeout_ms, config.lock_timeout_ms)
    with target_connection(target, schema_files, backend, guards,
                           create_extension) as conn, progress_display() as progress:
        advice = advise(workload, conn, config, progress, sandbox=target is None)
    emit(advice, fmt, output)


@cli.command("ingest")
@click.argument("sources", nargs=-1)
@click.option("--dsn", help="Also read pg_stat_statements live from this server.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for machines.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the JSON summary to this file.")
@click.option("--strict", is_flag=True,
              help="Exit with code 3 when any input could not be read (bad lines, truncated "
              "records, unparseable statements; utility statements do not count).")
@source_options
def ingest_cmd(sources: tuple[str, ...], dsn: str | None, fmt: str, output: Path | None,
               strict: bool, **reading: Any) -> None:
    """Summarize the workload in SOURCES (logs, .sql files, directories, '-'): statements by
    total time, calls, mean and max, with real samples and what could not be read."""
    from .report.ingest import render_ingest_json, render_ingest_table

    if not sources and not dsn:
        raise ConfigError("nothing to read", hint="give log or .sql files, or --dsn")
    options, selection = _reading(**reading)
    if dsn:
        from .db import resolve_dsn

        options = replace(options, pgss_dsn=resolve_dsn(dsn))
    workload = read_workload(sources, options, selection)
    if fmt == "json" and output is None:
        sys.stdout.write(render_ingest_json(workload, sources))
    else:
        if fmt == "json":
            _write(output, render_ingest_json(workload, sources))  # type: ignore[arg-type]
        else:
            render_ingest_table(workload, Console())
            if output is not None:
                _write(output, render_ingest_json(workload, sources))
        if output is not None:
            _err.print(f"JSON summary written to {output}")
    if strict and any(reason != "utility statement" for reason, _ in workload.skipped_counts):
        _err.print("[bold red]strict:[/bold red] some input could not be read (see skipped)")
        sys.exit(STRICT_EXIT)


# A budget, as a DBA would set one: it makes the trade-off show (small partial and expression
# indexes win places that wide composite ones would take without one). --budget overrides it.
DEMO_BUDGET = 64_000_000


@cli.command("demo")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True)
@common_options
def demo_cmd(backend: str, budget: int | None, max_indexes: int | None, max_width: int | None,
             fmt: str, output: Path | None) -> None:
    """Run the advisor end to end on the bundled demo, in a throwaway sandbox."""
    from . import demo
    from .advise import advise
    from .db import Guards, connect
    from .loader import run_script
    from .sandbox import open_sandbox

    config = AdvisorConfig(budget_bytes=DEMO_BUDGET).with_options(
        budget_bytes=budget, max_indexes=max_indexes, max_width=max_width)
    workload = read_workload([str(demo.workload_dir())])
    output = output or Path("reports") / "demo.json"
    with open_sandbox(backend) as sandbox:
        _err.print("[dim]sandbox started; loading the demo schema and data (~20 s)…[/dim]")
        run_script(sandbox.dsn, demo.schema_sql(), "demo/schema.sql")
        run_script(sandbox.dsn, demo.data_sql(), "demo/data.sql")
        conn = connect(sandbox.dsn, guards=Guards(config.statement_timeout_ms,
                                                  config.lock_timeout_ms))
        try:
            with progress_display() as progress:
                advice = advise(workload, conn, config, progress, sandbox=True)
        finally:
            conn.close()
    emit(advice, fmt, output)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="indexadvisor",
                 standalone_mode=False)
    except AdvisorError as exc:
        _err.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
        if exc.hint:
            _err.print(f"[dim]hint: {exc.hint}[/dim]", highlight=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _err.print("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except KeyboardInterrupt:
        _err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
