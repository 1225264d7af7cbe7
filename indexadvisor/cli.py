"""Command line: `indexadvisor advise`, `indexadvisor demo`. Catches AdvisorError only.

Exit codes: 0 done, 2 a user-facing error (bad option, unreachable database, ...), 130 Ctrl-C.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
import psycopg
from rich.console import Console

from . import __version__
from .advise import Advice, advise
from .collect import collect
from .config import AdvisorConfig, load_config, parse_size
from .db import Guards, connect, redact_dsn, resolve_dsn
from .errors import AdvisorError, ConfigError, ExtensionMissing, WorkloadError
from .ingest.sql_files import read_sql_paths, split_sql
from .loader import run_files, run_script
from .model import Skipped, Statement, Workload
from .report import render_json, render_table

_err = Console(stderr=True)


def read_workload(sources: Sequence[str]) -> Workload:
    """Collect every statement of the given sources ('-' reads SQL from stdin)."""
    def items() -> Iterator[Statement | Skipped]:
        for source in sources:
            if source == "-":
                yield from split_sql(sys.stdin.read(), "<stdin>")
            else:
                yield from read_sql_paths([source])

    workload = collect(items())
    if workload.statements == 0 and not workload.skipped:
        raise WorkloadError("no SQL statements found in " + ", ".join(sources),
                            hint="give .sql files or directories holding them")
    return workload


@contextlib.contextmanager
def target_connection(dsn: str | None, schema_files: Sequence[Path], backend: str,
                      guards: Guards, create_extension: bool) -> Iterator[psycopg.Connection]:
    """A guarded connection to the user's database, or to a sandbox loaded with the schema."""
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="indexadvisor")
def cli() -> None:
    """Index advice for PostgreSQL, costed by the real planner through HypoPG."""


@cli.command("advise")
@click.argument("sources", nargs=-1, required=True)
@click.option("--dsn", help="Target database (libpq string or URL); also INDEXADVISOR_DSN. "
              "Only EXPLAIN runs there, in read-only transactions.")
@click.option("--schema", "schema_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Without --dsn: SQL files (schema, data) to load into a sandbox first.")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True, help="Sandbox backend when there is no DSN.")
@click.option("--create-extension", is_flag=True,
              help="Run CREATE EXTENSION hypopg on the target if it is missing (a write).")
@click.option("--statement-timeout", type=click.IntRange(min=1), help="Milliseconds per EXPLAIN.")
@common_options
def advise_cmd(sources: tuple[str, ...], dsn: str | None, schema_files: tuple[Path, ...],
               backend: str, create_extension: bool, statement_timeout: int | None,
               budget: int | None, max_indexes: int | None, max_width: int | None, fmt: str,
               output: Path | None) -> None:
    """Recommend indexes for the statements in SOURCES (.sql files, directories, '-')."""
    config = load_config().with_options(budget_bytes=budget, max_indexes=max_indexes,
                                        max_width=max_width,
                                        statement_timeout_ms=statement_timeout)
    workload = read_workload(sources)
    guards = Guards(config.statement_timeout_ms, config.lock_timeout_ms)
    target = resolve_dsn(dsn)
    with target_connection(target, schema_files, backend, guards,
                           create_extension) as conn, progress_display() as progress:
        advice = advise(workload, conn, config, progress, sandbox=target is None)
    emit(advice, fmt, output)


@cli.command("demo")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True)
@common_options
def demo_cmd(backend: str, budget: int | None, max_indexes: int | None, max_width: int | None,
             fmt: str, output: Path | None) -> None:
    """Run the advisor end to end on the bundled demo, in a throwaway sandbox."""
    from . import demo
    from .sandbox import open_sandbox

    config = AdvisorConfig().with_options(budget_bytes=budget, max_indexes=max_indexes,
                                          max_width=max_width)
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
