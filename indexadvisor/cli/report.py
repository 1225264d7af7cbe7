"""`indexadvisor report`: render a saved advice JSON again, without a database."""

from __future__ import annotations

from pathlib import Path

import click

from ..report import load_advice
from .app import cli, output_options, outputs
from .output import emit


@cli.command("report")
@click.argument("advice", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@output_options
def report_cmd(advice: Path, fmt: str, output: Path | None, html_file: Path | None,
               md_file: Path | None, sql_file: Path | None, json_file: Path | None,
               price: float | None, show_literals: bool, step_summary: bool) -> None:
    """Render ADVICE, a JSON report `advise -o` or `demo` wrote, without a database: as a
    table, or as HTML, Markdown, the DDL file or JSON (--format, or -o FILE by its suffix)."""
    out = outputs(fmt, output, html_file, md_file, sql_file, json_file, price, show_literals,
                  step_summary)
    fmt, files, to = out.fmt, out.files, out.to
    if fmt == "table" and output is not None and len(files) == 1:
        # `report saved.json -o x.html` renders that file only, nothing to the terminal
        fmt, files, to = files[0][0], (), output
    emit(load_advice(advice), fmt, files, options=out.options,
         show_literals=out.show_literals, step_summary=out.step_summary, to=to)
