"""Renderers of the CI gate's report, each a pure function of a `CheckReport`, registered by
name (`RENDERERS`): the JSON document, GitHub annotations, Markdown for the step summary and
for a pull-request comment, JUnit XML and SARIF 2.1.0. The terminal verdict is
`render_terminal`."""

from __future__ import annotations

from collections.abc import Callable

from ...model.gate import CheckReport
from .github import render_github
from .json_out import check_to_dict, render_check_json
from .junit import render_junit
from .markdown import render_comment, render_markdown
from .records import Record, as_records
from .sarif import render_sarif, sarif_document
from .terminal import render_terminal

#: format name -> renderer of a whole document
RENDERERS: dict[str, Callable[[CheckReport], str]] = {
    "json": render_check_json,
    "github": render_github,
    "markdown": render_markdown,
    "comment": render_comment,
    "junit": render_junit,
    "sarif": render_sarif,
}

__all__ = ["RENDERERS", "Record", "as_records", "check_to_dict", "render_check_json",
           "render_comment", "render_github", "render_junit", "render_markdown",
           "render_sarif", "render_terminal", "sarif_document"]
