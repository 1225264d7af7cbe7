"""Where an advice goes: each format is a renderer registered by name; the terminal table is
printed, every other format written to stdout or to the file named."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from ..model import Advice
from ..report import render_json, render_table
from .console import err, write_file

#: format name -> renderer of a whole document
DOCUMENTS: dict[str, Callable[[Advice], str]] = {"json": render_json}


def emit(advice: Advice, fmt: str, output: Path | None) -> None:
    """Write the report: a table to the terminal (and JSON to `output`), or a document."""
    if fmt in DOCUMENTS:
        text = DOCUMENTS[fmt](advice)
        if output is None:
            sys.stdout.write(text)
        else:
            write_file(output, text)
            err.print(f"{fmt.upper()} report written to {output}")
        return
    render_table(advice, Console())
    if output is not None:
        write_file(output, render_json(advice))
        err.print(f"JSON report written to {output}")
