"""`indexadvisor demo`: the whole advisor on the bundled demo, in a throwaway sandbox."""

from __future__ import annotations

from pathlib import Path

import click

from .. import demo
from ..model import AdvisorConfig
from .app import advice_options, cli
from .console import err, progress_display
from .output import emit
from .workload import read_workload

# A budget, as a DBA would set one: it makes the trade-off show (small partial and expression
# indexes win places that wide composite ones would take without one). --budget overrides it.
DEMO_BUDGET = 64_000_000


@cli.command("demo")
@click.option("--sandbox", "backend", type=click.Choice(["auto", "local", "docker"]),
              default="auto", show_default=True)
@advice_options
def demo_cmd(backend: str, budget: int | None, max_indexes: int | None, max_width: int | None,
             fill_budget: bool | None, knee: float | None, fmt: str,
             output: Path | None) -> None:
    """Run the advisor end to end on the bundled demo, in a throwaway sandbox."""
    from ..db.connect import Guards
    from ..db.target import Script, open_target
    from ..pipeline.advise import advise

    config = AdvisorConfig(budget_bytes=DEMO_BUDGET).with_options(
        budget_bytes=budget, max_indexes=max_indexes, max_width=max_width,
        fill_budget=fill_budget, knee=knee)
    workload = read_workload([str(demo.workload_dir())])
    output = output or Path("reports") / "demo.json"
    scripts = [Script(demo.schema_sql(), "demo/schema.sql"),
               Script(demo.data_sql(), "demo/data.sql")]
    guards = Guards(config.statement_timeout_ms, config.lock_timeout_ms)

    def say(_message: str) -> None:
        err.print("[dim]sandbox started; loading the demo schema and data (~20 s)…[/dim]")

    with open_target(None, scripts, guards=guards, backend=backend, say=say) as db, \
            progress_display() as progress:
        advice = advise(workload, db.conn, config, progress, sandbox=True)
    emit(advice, fmt, output)
