"""The verdict in a terminal: the findings most severe first, each with its fix, then what
the migration did, the time it took, and how to accept a finding."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from ...model.gate import CheckReport
from .markdown import headline
from .records import as_records

_STYLE = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def render_terminal(report: CheckReport, console: Console) -> None:
    """Print the verdict to a rich console."""
    counts = report.counts()
    console.print(Text.assemble(
        ("indexadvisor check ", "bold"), report.tool_version,
        f"  ·  PostgreSQL {report.server_version.split()[0]}  ·  HypoPG {report.hypopg_version}"
        f"  ·  {report.mode}",
        f"\n{len(report.statements)} statements watched, {len(report.steps)} migration "
        f"statements" + (f", baseline {report.baseline}" if report.baseline else
                         ", compared with the plans before the migration")))
    records = as_records(report)
    if records:
        console.print()
    for rec in records:
        state = "accepted" if rec.accepted else rec.severity.value
        style = "green" if rec.accepted else _STYLE[rec.severity.value]
        line = Text.assemble((f"{state:>8} ", style), (f"{rec.rule} {rec.name}", "bold"),
                             f"  {rec.where}")
        console.print(line)
        console.print(Text("         " + rec.message))
        if rec.fix:
            console.print(Text("         " + rec.fix_text, style="green"))
        if rec.accepted:
            until = f" until {rec.expires}" if rec.expires else ""
            console.print(Text(f"         accepted{until}: {rec.accepted}", style="dim"))
    if report.steps:
        console.print()
        console.print(Text("migration:", style="bold"))
        for step in report.steps:
            console.print(Text(f"  {step.location}  {step.text[:70]}  -> {step.action}",
                               style="dim"))
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    if report.timings:
        console.print(Text("time: " + " · ".join(f"{n} {s:.1f} s" for n, s in report.timings),
                           style="dim"))
    console.print()
    verdict = headline(report).replace("**", "")
    console.print(Text(verdict, style="bold green" if report.passed else "bold red"))
    if not report.passed:
        console.print(Text(
            f"exit 1: {len(report.failing)} finding(s) at or above {report.fail_on}. To accept "
            "one, add it to the baseline's \"accepted\" list: {\"statement\": KEY, \"rule\": "
            "\"IA101\", \"reason\": \"...\", \"expires\": \"YYYY-MM-DD\"}", style="dim"))
    del counts
