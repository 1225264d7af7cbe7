"""`indexadvisor check`: fail the build when a migration makes the workload's plans worse;
`indexadvisor stats export`: production's planner statistics for a sandbox without data.

Exit codes: 0 pass, 1 a regression (a finding at or above fail-on that is not accepted),
2 an error (a migration that does not parse or run, a bad option, no database).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from ..model.errors import ConfigError
from .app import cli, reading, source_options
from .console import err, write_file
from .workload import read_workload

FORMATS = ("text", "json", "github", "markdown", "comment", "junit", "sarif")


def _gate_settings() -> tuple[Any, dict[str, Any]]:
    from ..gate.config import check_config_from_mapping
    from .settings import load_section

    found = load_section()
    if found is None:
        return check_config_from_mapping({})
    section, where = found
    table = section.get("check", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [tool.indexadvisor] check must be a table")
    return check_config_from_mapping(table, f"{where} [tool.indexadvisor.check]")


def _outputs(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    out = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or fmt not in FORMATS or fmt == "text" or not path:
            raise ConfigError(f"--output {value!r}: expected FORMAT=FILE",
                              hint="FORMAT is one of " + ", ".join(FORMATS[1:]))
        out.append((fmt, Path(path)))
    return out


@cli.command("check")
@click.argument("sources", nargs=-1)
@click.option("--migrations", "migrations", multiple=True, metavar="PATH",
              help="SQL migration files, or folders of them (run in name order).")
@click.option("--alembic", "alembic_ini", type=click.Path(dir_okay=False, path_type=Path),
              help="An alembic.ini: its revisions' offline SQL is the migration.")
@click.option("--alembic-from", metavar="REV",
              help="With --alembic: revisions up to REV are the schema; later ones are checked.")
@click.option("--schema", "schema_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Without --dsn: SQL that builds the schema before the migrations (sandbox).")
@click.option("--dsn", help="A staging database: the migration runs in a transaction that is "
              "always rolled back. Also INDEXADVISOR_DSN.")
@click.option("--stats", "stats_file", type=click.Path(exists=True, dir_okay=False,
                                                       path_type=Path),
              help="Production statistics (`stats export`): the sandbox plans with them.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="The committed baseline to compare with (default: plans before the "
              "migration, in the same run).")
@click.option("--update-baseline", is_flag=True,
              help="Write the plans after the migration to --baseline and exit 0.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="What to print on stdout.")
@click.option("-o", "--output", "outputs", multiple=True, metavar="FORMAT=FILE",
              help="Also write a format to a file (repeatable): json, junit, sarif, markdown, "
              "comment, github.")
@click.option("--github", is_flag=True, help="GitHub Actions: print annotations and append the "
              "Markdown summary to $GITHUB_STEP_SUMMARY.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "note", "never"]),
              help="Lowest severity that fails the build (default: error).")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True)
@click.option("--statement-timeout", type=click.IntRange(min=1), default=30_000,
              show_default=True, help="Milliseconds per statement.")
@click.option("--lock-timeout", type=click.IntRange(min=1), default=1_000, show_default=True,
              help="Milliseconds a staging migration waits for a lock.")
@source_options
def check_cmd(sources: tuple[str, ...], migrations: tuple[str, ...], alembic_ini: Path | None,
              alembic_from: str | None, schema_files: tuple[Path, ...], dsn: str | None,
              stats_file: Path | None, baseline_file: Path | None, update_baseline: bool,
              fmt: str, outputs: tuple[str, ...], github: bool, fail_on: str | None,
              backend: str, statement_timeout: int, lock_timeout: int, **options: Any) -> None:
    """Check migrations against the plans of the workload in SOURCES (.sql files, logs,
    pg_stat_statements exports, captured workloads)."""
    from dataclasses import replace

    from ..db.connect import Guards, resolve_dsn
    from ..db.target import Script
    from ..gate.baseline import load_baseline, write_baseline
    from ..gate.check import CheckRequest, run_check
    from ..gate.migration import read_migrations
    from ..gate.stats_import import load_stats
    from ..gate.target import open_gate_target
    from ..model.gate import Severity

    config, paths = _gate_settings()
    if fail_on is not None:
        config = replace(config, fail_on=None if fail_on == "never" else Severity(fail_on))
    sources = sources or tuple(paths.get("workload", ()))
    migrations = migrations or tuple(paths.get("migrations", ()))
    schema_files = schema_files or tuple(Path(p) for p in paths.get("schema", ()))
    baseline_file = baseline_file or (Path(paths["baseline"]) if "baseline" in paths else None)
    stats_file = stats_file or (Path(paths["stats"]) if "stats" in paths else None)
    alembic_ini = alembic_ini or (Path(paths["alembic"]) if "alembic" in paths else None)
    if not sources:
        raise ConfigError("no workload to check", hint="give .sql files, logs or exports "
                          "(or workload = [...] in [tool.indexadvisor.check])")
    if update_baseline and baseline_file is None:
        raise ConfigError("--update-baseline needs --baseline FILE")
    out_files = _outputs(outputs)
    source_opts, keep = reading(**options)
    source_opts = replace(source_opts, max_samples=max(config.variants, 1))
    workload = read_workload(sources, source_opts, keep)
    statements = list(read_migrations(migrations)) if migrations else []
    schema = [Script(_read(p), str(p)) for p in schema_files]
    if alembic_ini is not None:
        from ..gate.alembic import alembic_migrations

        before, checked = alembic_migrations(alembic_ini, alembic_from)
        if not resolve_dsn(dsn):  # a staging database is at --alembic-from already
            schema += before
        statements += checked
    baseline = None
    if baseline_file is not None and not update_baseline:
        baseline = load_baseline(baseline_file)
    stats = load_stats(stats_file) if stats_file is not None else None
    guards = Guards(statement_timeout, lock_timeout)
    started = time.perf_counter()
    say = (lambda m: err.print(f"[dim]{m}[/dim]")) if err.is_terminal else None
    with open_gate_target(resolve_dsn(dsn), schema, guards=guards, stats=stats,
                          backend=backend, say=say) as target:
        ready = time.perf_counter() - started
        outcome = run_check(target, CheckRequest(
            workload, tuple(statements), baseline,
            str(baseline_file) if baseline_file and baseline else None, config),
            say=say, timings=(("sandbox" if not target.staging else "connect", ready),))
    report = outcome.report
    if update_baseline:
        assert baseline_file is not None
        previous = load_baseline(baseline_file) if baseline_file.exists() else None
        new = outcome.baseline
        if previous is not None:
            new = replace(new, accepted=previous.accepted)
        write_baseline(baseline_file, new)
        err.print(f"baseline of {len(new.entries)} statements written to {baseline_file}")
        return
    _emit(report, fmt, out_files, github)
    if report.exit_code:
        sys.exit(report.exit_code)


def _emit(report: Any, fmt: str, out_files: list[tuple[str, Path]], github: bool) -> None:
    from ..report.gate import RENDERERS, render_markdown, render_terminal

    if fmt == "text":
        render_terminal(report, Console())
    else:
        sys.stdout.write(RENDERERS[fmt](report))
    for name, path in out_files:
        write_file(path, RENDERERS[name](report))
        err.print(f"{name} written to {path}")
    if github:
        if fmt != "github":
            sys.stdout.write(RENDERERS["github"](report))
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                with open(summary, "a", encoding="utf-8") as handle:
                    handle.write(render_markdown(report))
            except OSError as exc:
                raise ConfigError(f"cannot append to $GITHUB_STEP_SUMMARY ({summary}): "
                                  f"{exc.strerror}") from None


def _read(path: Path) -> str:
    from ..model.errors import SourceError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None


@cli.group("stats")
def stats_group() -> None:
    """Planner statistics of a production database, for a sandbox without its data."""


@stats_group.command("export")
@click.option("--dsn", help="The database to read (read-only); also INDEXADVISOR_DSN.")
@click.option("--mask", multiple=True, metavar="GLOB",
              help="Leave out the values of matching columns (schema.table.column or "
              "table.column, globs; '*' for all): no most common values or histograms.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of stdout.")
def stats_export_cmd(dsn: str | None, mask: tuple[str, ...], output: Path | None) -> None:
    """Write table and index sizes, pg_stats and planner settings as JSON (read only)."""
    from ..db.connect import connect, resolve_dsn
    from ..gate.stats_export import read_stats, render_stats

    target = resolve_dsn(dsn)
    if target is None:
        raise ConfigError("stats export reads a database", hint="give --dsn (or INDEXADVISOR_DSN)")
    with connect(target, application_name="indexadvisor stats export") as conn:
        text = render_stats(read_stats(conn, mask))
    if output is None:
        sys.stdout.write(text)
    else:
        write_file(output, text)
        err.print(f"statistics written to {output}")
