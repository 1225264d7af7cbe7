"""`indexadvisor ingest`: what a log analyser shows, statements by total time, and every line
that could not be read."""

from __future__ import annotations

import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from ..ingest.summary_json import merge_fields
from ..model.errors import ConfigError
from ..report.ingest import render_ingest_json, render_ingest_table
from .app import cli, reading, source_options
from .console import err, write_file
from .workload import read_summary, workload_of

STRICT_EXIT = 3


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
               strict: bool, **options: Any) -> None:
    """Summarize the workload in SOURCES (logs, .sql files, directories, earlier JSON
    summaries, '-'): statements by total time, calls, mean and max, with real samples and what
    could not be read. JSON summaries of several machines' logs merge into one."""
    if not sources and not dsn:
        raise ConfigError("nothing to read", hint="give log or .sql files, or --dsn")
    source_opts, keep = reading(**options)
    if dsn:
        from ..db.connect import resolve_dsn

        source_opts = replace(source_opts, pgss_dsn=resolve_dsn(dsn))
    summary = read_summary(sources, source_opts)
    workload = workload_of(summary, sources, keep)
    filters = {**asdict(source_opts.filters), "min_calls": keep.min_calls,
               "min_time_ms": keep.min_time_ms, "top": keep.top}
    merge = merge_fields(summary, workload, filters)
    if fmt == "json" and output is None:
        sys.stdout.write(render_ingest_json(workload, sources, merge))
    else:
        if fmt == "json":
            assert output is not None
            write_file(output, render_ingest_json(workload, sources, merge))
        else:
            render_ingest_table(workload, Console())
            if output is not None:
                write_file(output, render_ingest_json(workload, sources, merge))
        if output is not None:
            err.print(f"JSON summary written to {output}")
    if strict and any(category != "utility statement"
                      for category, _ in workload.skipped_counts):
        err.print("[bold red]strict:[/bold red] some input could not be read (see skipped)")
        sys.exit(STRICT_EXIT)
