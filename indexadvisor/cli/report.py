"""`indexadvisor report`: render a saved advice JSON again, without a database."""

from __future__ import annotations

from pathlib import Path

import click

from ..report import load_advice
from .app import cli
from .output import DOCUMENTS, emit


@cli.command("report")
@click.argument("advice", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", *sorted(DOCUMENTS)]),
              default="table", show_default=True, help="How to render it.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the rendered report to this file (table: its JSON).")
def report_cmd(advice: Path, fmt: str, output: Path | None) -> None:
    """Render ADVICE, a JSON report `advise -o` or `demo` wrote, without a database."""
    emit(load_advice(advice), fmt, output)
