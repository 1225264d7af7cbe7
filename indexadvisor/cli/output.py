"""Where an advice goes: each format is a renderer registered by name; the terminal table is
printed, every other format written to stdout or to the files named.

HTML and Markdown are documents people share: literals in statements and plans are masked
(`sql.mask`) unless --show-literals. JSON (the machine contract) and the .sql file keep them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from ..model import Advice
from ..model.errors import ConfigError
from ..report import (
    ReportOptions,
    render_ddl,
    render_html,
    render_json,
    render_markdown,
    render_table,
)
from .console import err, write_file

#: format name -> renderer of a whole document
DOCUMENTS: dict[str, Callable[[Advice, ReportOptions], str]] = {
    "json": lambda advice, _options: render_json(advice),
    "html": render_html,
    "md": render_markdown,
    "sql": lambda advice, _options: render_ddl(advice),
}
#: formats whose workload text is masked unless --show-literals
SHARED = frozenset({"html", "md"})
SUFFIXES = {".json": "json", ".html": "html", ".htm": "html", ".md": "md",
            ".markdown": "md", ".sql": "sql"}
NAMES = {"json": "JSON", "html": "HTML", "md": "Markdown", "sql": "SQL"}
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def format_of(path: Path, fallback: str) -> str:
    """The document format a file name asks for, by its suffix; else `fallback`.

    >>> format_of(Path("r/advice.html"), "json"), format_of(Path("out.txt"), "json")
    ('html', 'json')
    """
    return SUFFIXES.get(path.suffix.lower(), fallback)


def emit(advice: Advice, fmt: str, outputs: Sequence[tuple[str, Path]] = (), *,
         options: ReportOptions | None = None, show_literals: bool = False,
         step_summary: bool = False, to: Path | None = None) -> None:
    """Write every file in `outputs` ((format, path) pairs), then the `fmt` report to stdout
    (or to the file `to`): the table to the terminal (naming the files), or a document."""
    options = options or ReportOptions()
    masked: Advice | None = None

    def render(kind: str) -> str:
        nonlocal masked
        if kind in SHARED and not show_literals:
            if masked is None:
                from ..sql.mask import mask_advice

                masked = mask_advice(advice)
            return DOCUMENTS[kind](masked, replace(options, literals_masked=True))
        return DOCUMENTS[kind](advice, options)

    written = []
    for kind, path in outputs:
        write_file(path, render(kind))
        written.append((NAMES[kind], str(path)))
    if step_summary:
        target = os.environ.get(STEP_SUMMARY_ENV)
        if not target:
            raise ConfigError(f"--step-summary appends to ${STEP_SUMMARY_ENV}, which is not set",
                              hint="it is set inside a GitHub Actions job")
        try:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(render("md"))
        except OSError as exc:
            raise ConfigError(f"cannot append to ${STEP_SUMMARY_ENV}: {exc.strerror}") from None
    if fmt in DOCUMENTS and to is not None:
        write_file(to, render(fmt))
        err.print(f"{NAMES[fmt]} report written to {to}", highlight=False)
        return
    if fmt in DOCUMENTS:
        sys.stdout.write(render(fmt))
        for name, where in written:
            err.print(f"{name} report written to {where}", highlight=False)
        return
    render_table(advice, Console(), replace(options, files=tuple(written)))
