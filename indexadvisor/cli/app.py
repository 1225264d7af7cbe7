"""The click group every command registers on, and the options commands share."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from .._version import __version__
from ..ingest import Filters, SourceOptions
from ..model import parse_duration, parse_size
from ..report.facts import ReportOptions
from .workload import GroupFilters


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="indexadvisor")
def cli() -> None:
    """Index advice for PostgreSQL, costed by the real planner through HypoPG."""


def _size(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_size(value)


_FILE = click.Path(dir_okay=False, path_type=Path)
_output_options = [
    click.option("--format", "fmt", type=click.Choice(["table", "json", "html", "md", "sql"]),
                 default="table", show_default=True,
                 help="What goes to stdout: table for people, json for machines, html, md "
                 "(Markdown), sql (the DDL)."),
    click.option("-o", "--output", type=_FILE,
                 help="Write the --format document to FILE instead of stdout; with the table, "
                 "also write FILE in the format its suffix names (.html, .md, .sql; JSON "
                 "otherwise)."),
    click.option("--html", "html_file", type=_FILE, help="Also write the HTML report here."),
    click.option("--md", "md_file", type=_FILE, help="Also write the Markdown report here."),
    click.option("--sql", "sql_file", type=_FILE, help="Also write the DDL as a .sql file here."),
    click.option("--json", "json_file", type=_FILE, help="Also write the JSON report here."),
    click.option("--price-per-gb-month", "price", type=click.FloatRange(min=0), metavar="USD",
                 help="Storage price for the monthly cost in reports (default 0.115: Amazon "
                 "RDS gp3, us-east-1 list price; Aurora standard is 0.10)."),
    click.option("--show-literals", is_flag=True,
                 help="Keep literals in statements and plans in HTML and Markdown (masked as "
                 "? by default)."),
    click.option("--step-summary", is_flag=True,
                 help="Append the Markdown report to $GITHUB_STEP_SUMMARY."),
]
_advice_options = [
    click.option("--budget", callback=_size, metavar="SIZE",
                 help="Storage budget for new indexes, e.g. 500MB, 2GB."),
    click.option("--max-indexes", type=click.IntRange(min=0), help="At most this many indexes."),
    click.option("--max-width", type=click.IntRange(min=1, max=32),
                 help="Most key columns per index (default 3)."),
    click.option("--fill-budget", is_flag=True, default=None,
                 help="Spend the budget on anything that gains, instead of stopping at the "
                 "knee of the cost curve (where an index no longer earns its bytes)."),
    click.option("--knee", type=click.FloatRange(min=0), metavar="FACTOR",
                 help="The knee rule: an index must cut the workload's remaining cost by at "
                 "least FACTOR times its share of the data's bytes (default 0.05)."),
    *_output_options,
]
DEFAULT_TIME_LIMIT = "120s"


def default_jobs() -> int:
    """HypoPG sessions costing in parallel by default: this machine's cores, at most 4."""
    return max(1, min(os.cpu_count() or 1, 4))


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    return None if value is None else parse_duration(value)


_JOBS_HELP = ("Cores to use: processes reading logs (default: one per core) and, when "
              "advising, what-if sessions costing in parallel, each its own connection and "
              "HypoPG state (default: the cores, at most 4). The result is the same for any N.")
jobs_option = click.option("-j", "--jobs", type=click.IntRange(min=1, max=64), metavar="N",
                           help=_JOBS_HELP)
_speed_options = [
    click.option("--time-limit", callback=_duration, metavar="DURATION",
                 default=DEFAULT_TIME_LIMIT, show_default=True,
                 help="Stop searching in time to report within this, returning the best set "
                 "found so far (e.g. 60s, 5m; 0 for no limit)."),
]
_validate_options = [
    click.option("--runs", type=click.IntRange(min=1, max=50), default=3, show_default=True,
                 help="Validation: measured runs per statement, after one warm-up."),
    click.option("--tolerance", type=click.FloatRange(min=0), default=10.0, show_default=True,
                 metavar="PCT", help="Validation: a statement more than PCT percent (and 1 ms) "
                 "slower with the indexes is a regression; its index is withdrawn."),
    click.option("--validate-timeout", type=click.IntRange(min=1), default=30_000,
                 show_default=True, metavar="MS",
                 help="Validation: time limit of one run of one statement."),
]


def _apply(options: list[Any], func: Any) -> Any:
    for option in reversed(options):
        func = option(func)
    return func


def advice_options(func: Any) -> Any:
    """The options every command that runs the advisor accepts."""
    return _apply(_advice_options, func)


def speed_options(func: Any) -> Any:
    """--time-limit (--jobs comes with the source options, or `jobs_option`)."""
    return _apply(_speed_options, func)


def output_options(func: Any) -> Any:
    """The options of every command that writes an advice report."""
    return _apply(_output_options, func)


def validate_options(func: Any) -> Any:
    """How validation measures (with --validate or --validate-dsn)."""
    return _apply(_validate_options, func)


@dataclass(frozen=True)
class Outputs:
    """Where and how the reports go."""

    fmt: str
    files: tuple[tuple[str, Path], ...]
    options: ReportOptions
    show_literals: bool
    step_summary: bool
    to: Path | None = None  # the --format document goes to this file instead of stdout


def outputs(fmt: str, output: Path | None, html_file: Path | None, md_file: Path | None,
            sql_file: Path | None, json_file: Path | None, price: float | None,
            show_literals: bool, step_summary: bool) -> Outputs:
    """The files to write, from what `output_options` collected."""
    from .output import format_of

    files = []
    to = None
    if output is not None and fmt != "table":  # -o takes what stdout would have had
        fmt, to = format_of(output, fmt), output
    elif output is not None:
        files.append((format_of(output, "json"), output))
    files += [(kind, path) for kind, path in (("html", html_file), ("md", md_file),
                                              ("sql", sql_file), ("json", json_file)) if path]
    options = ReportOptions() if price is None else ReportOptions(price_per_gb_month=price)
    return Outputs(fmt, tuple(files), options, show_literals, step_summary, to)


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
    jobs_option,
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
