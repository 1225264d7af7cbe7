"""The click group every command registers on, and the options commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .._version import __version__
from ..ingest import Filters, SourceOptions
from ..model import parse_size
from .workload import GroupFilters


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="indexadvisor")
def cli() -> None:
    """Index advice for PostgreSQL, costed by the real planner through HypoPG."""


def _size(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_size(value)


_advice_options = [
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


def advice_options(func: Any) -> Any:
    """The options every command that runs the advisor accepts."""
    for option in reversed(_advice_options):
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
    click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
                 help="Processes reading logs (default: one per core). The result is the "
                 "same for any N."),
]


def source_options(func: Any) -> Any:
    """The options every command that reads workload sources accepts."""
    for option in reversed(_sources):
        func = option(func)
    return func


def reading(log_format: str | None, log_prefix: str | None, since: str | None,
            until: str | None, database: str | None, user: str | None, min_calls: int,
            min_time: float, top: int | None, jobs: int | None = None,
            ) -> tuple[SourceOptions, GroupFilters]:
    """The source options and group filters `source_options` collected (`jobs` None: one
    process per core)."""
    filters = Filters(since=since, until=until, database=database, user=user)
    return (SourceOptions(log_format=log_format, log_prefix=log_prefix, filters=filters,
                          jobs=jobs),
            GroupFilters(min_calls=min_calls, min_time_ms=min_time, top=top))
