"""GitHub Actions workflow commands: one annotation per finding, on the file and line.

Escaped as the runner unescapes them (message: ``%``, CR, LF; properties also ``:`` and
``,``). Most severe first; GitHub shows at most 10 annotations of each type per step, so
past that the findings are only counted here and listed in the step summary (Markdown).

>>> escape_data("50% more\\nrows")
'50%25 more%0Arows'
>>> escape_property("a.sql: line 1, col 2")
'a.sql%3A line 1%2C col 2'
"""

from __future__ import annotations

from ...model.gate import CheckReport, Severity
from .records import as_records

LIMIT_PER_TYPE = 10
_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: CheckReport) -> str:
    """The annotations, one per line, then a count of those left to the summary."""
    lines: list[str] = []
    shown = {kind: 0 for kind in _COMMAND.values()}
    left = {kind: 0 for kind in _COMMAND.values()}
    for rec in as_records(report):
        if rec.accepted is not None:
            continue
        kind = _COMMAND[rec.severity]
        if shown[kind] >= LIMIT_PER_TYPE:
            left[kind] += 1
            continue
        shown[kind] += 1
        props = []
        if rec.file is not None:
            props.append(f"file={escape_property(rec.file)}")
            if rec.line is not None:
                props.append(f"line={rec.line}")
        props.append(f"title={escape_property(f'{rec.rule} {rec.name}')}")
        message = rec.message + (f"\n{rec.fix_text}" if rec.fix else "")
        lines.append(f"::{kind} {','.join(props)}::{escape_data(message)}")
    rest = [f"{n} more {kind}{'s' if n > 1 else ''}" for kind, n in left.items() if n]
    if rest:
        lines.append(f"indexadvisor: {', '.join(rest)} not annotated (GitHub shows "
                     f"{LIMIT_PER_TYPE} per type); all are in the step summary")
    return "\n".join(lines) + ("\n" if lines else "")
