"""`indexadvisor demo`: the whole advisor on the bundled demo, in a throwaway sandbox, validated
by real execution there, with every report written into reports/."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from .. import demo
from ..model import AdvisorConfig
from .app import (
    advice_options,
    cli,
    default_jobs,
    jobs_option,
    outputs,
    speed_options,
    validate_options,
)
from .console import err, progress_display
from .output import emit
from .run import run_advisor, validation_settings
from .workload import read_workload

# A budget, as a DBA would set one: it makes the trade-off show (small partial and expression
# indexes win places that wide composite ones would take without one). --budget overrides it.
DEMO_BUDGET = 64_000_000
REPORTS = Path("reports")


@cli.command("demo")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True)
@click.option("--validate/--no-validate", default=True, show_default=True,
              help="Build the recommended indexes in the sandbox and time the statements.")
@click.option("--reports", "reports_dir", type=click.Path(file_okay=False, path_type=Path),
              default=REPORTS, show_default=True,
              help="Write demo.json, demo.html, demo.md and demo.sql here.")
@validate_options
@jobs_option
@speed_options
@advice_options
def demo_cmd(backend: str, validate: bool, reports_dir: Path, runs: int, tolerance: float,
             validate_timeout: int, budget: int | None, max_indexes: int | None,
             max_width: int | None, fill_budget: bool | None, knee: float | None, fmt: str,
             output: Path | None, html_file: Path | None,
             md_file: Path | None, sql_file: Path | None, json_file: Path | None,
             price: float | None, show_literals: bool, step_summary: bool, jobs: int | None,
             time_limit: float | None) -> None:
    """Run the advisor end to end on the bundled demo, in a throwaway sandbox."""
    from ..db.connect import Guards
    from ..db.target import Script, open_target

    config = AdvisorConfig(budget_bytes=DEMO_BUDGET).with_options(
        budget_bytes=budget, max_indexes=max_indexes, max_width=max_width,
        fill_budget=fill_budget, knee=knee, jobs=jobs or default_jobs())
    config = replace(config, time_limit_s=time_limit)
    out = outputs(fmt, output, html_file, md_file, sql_file, json_file, price, show_literals,
                  step_summary)
    given = {kind for kind, _ in out.files}
    files = [*out.files, *((kind, reports_dir / f"demo.{kind}")
                           for kind in ("html", "md", "sql", "json") if kind not in given)]
    workload = read_workload([str(demo.workload_dir())])
    scripts = [Script(demo.schema_sql(), "demo/schema.sql"),
               Script(demo.data_sql(), "demo/data.sql")]
    guards = Guards(config.statement_timeout_ms, config.lock_timeout_ms)
    settings = validation_settings(runs, tolerance, validate_timeout, None) if validate else None

    def say(_message: str) -> None:
        err.print("[dim]sandbox started; loading the demo schema and data (~20 s)…[/dim]")

    with open_target(None, scripts, guards=guards, backend=backend, say=say) as db, \
            progress_display() as progress:
        advice = run_advisor(workload, db, config, progress, settings, None)
    emit(advice, out.fmt, files, options=out.options, show_literals=out.show_literals,
         step_summary=out.step_summary, to=out.to)
