"""`indexadvisor advise`: recommend indexes for a workload against a database or a sandbox."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..model.errors import ConfigError, SourceError
from .app import (
    advice_options,
    cli,
    default_jobs,
    outputs,
    reading,
    source_options,
    speed_options,
    validate_options,
)
from .console import err, progress_display
from .output import emit
from .run import run_advisor, validation_settings
from .settings import load_config
from .workload import read_workload


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
@click.option("--validate", is_flag=True,
              help="Build the recommended indexes in the sandbox and time the statements they "
              "change; withdraw any that makes a statement slower and choose again.")
@click.option("--validate-dsn", metavar="DSN",
              help="Validate on this database instead: indexes are built there, inside a "
              "transaction never committed, and SELECTs run there under EXPLAIN ANALYZE.")
@click.option("--replica-dsn", "replicas", multiple=True, metavar="DSN",
              help="A read replica of the target (repeatable; e.g. each instance behind an "
              "Aurora reader endpoint): --jobs sessions cost there in turn, read-only.")
@validate_options
@speed_options
@advice_options
@source_options
def advise_cmd(sources: tuple[str, ...], dsn: str | None, pgss: bool,
               schema_files: tuple[Path, ...], backend: str, create_extension: bool,
               statement_timeout: int | None, validate: bool, validate_dsn: str | None,
               runs: int, tolerance: float, validate_timeout: int, budget: int | None,
               max_indexes: int | None, max_width: int | None, fill_budget: bool | None,
               knee: float | None, fmt: str, output: Path | None,
               html_file: Path | None, md_file: Path | None, sql_file: Path | None,
               json_file: Path | None, price: float | None, show_literals: bool,
               step_summary: bool, jobs: int | None, time_limit: float | None,
               replicas: tuple[str, ...], **options: Any) -> None:
    """Recommend indexes for the statements in SOURCES (.sql files, PostgreSQL logs,
    pg_stat_statements exports, directories of them, compressed or not, '-' for stdin)."""
    from ..db.connect import Guards, resolve_dsn
    from ..db.target import Script, open_target

    started = time.perf_counter()  # a time limit counts from here (or from a sandbox's start)
    out = outputs(fmt, output, html_file, md_file, sql_file, json_file, price, show_literals,
                  step_summary)

    config = load_config().with_options(budget_bytes=budget, max_indexes=max_indexes,
                                        max_width=max_width, fill_budget=fill_budget,
                                        knee=knee, statement_timeout_ms=statement_timeout,
                                        jobs=jobs or default_jobs())
    config = replace(config, time_limit_s=time_limit)
    target = resolve_dsn(dsn)
    if validate_dsn and target is None and not schema_files:
        target = resolve_dsn(validate_dsn)  # advise there too (read-only), then validate
    if validate and target is not None and not validate_dsn:
        raise ConfigError("--validate builds indexes, which happens only in a sandbox",
                          hint="omit --dsn and load the schema with --schema, or name a "
                          "database where indexes may be built with --validate-dsn")
    if pgss and target is None:
        raise ConfigError("--pg-stat-statements reads the target database's statistics",
                          hint="give --dsn (or INDEXADVISOR_DSN)")
    if not sources and not pgss:
        raise ConfigError("nothing to advise on",
                          hint="give .sql files, logs or exports, or --pg-stat-statements")
    source_opts, keep = reading(jobs=jobs, **options)
    if pgss:
        source_opts = replace(source_opts, pgss_dsn=target)
    workload = read_workload(sources, source_opts, keep)
    scripts = [Script(_read(path), str(path)) for path in schema_files]
    guards = Guards(config.statement_timeout_ms, config.lock_timeout_ms)
    settings = None
    if validate or validate_dsn:
        settings = validation_settings(runs, tolerance, validate_timeout, validate_dsn)
    with open_target(target, scripts, guards=guards, backend=backend,
                     create_hypopg=create_extension,
                     say=lambda m: err.print(f"[dim]{m}[/dim]")) as db, \
            progress_display() as progress:
        if db.sandbox:  # building the sandbox is not the advisor's time
            started = time.perf_counter()
        advice = run_advisor(workload, db, config, progress, settings, validate_dsn,
                             [resolved for r in replicas if (resolved := resolve_dsn(r))],
                             started=started)
    emit(advice, out.fmt, out.files, options=out.options, show_literals=out.show_literals,
         step_summary=out.step_summary, to=out.to)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
