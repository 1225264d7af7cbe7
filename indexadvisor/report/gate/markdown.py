"""Markdown for `$GITHUB_STEP_SUMMARY` (at most 1 MiB per step) and for a pull-request comment
(at most 65,536 characters). Both hold the verdict, every finding in a table (as many as fit;
the rest are counted), fixes as SQL, how to accept a finding, and the plans that changed.

>>> cell("a | b\\nc")
'a &#124; b c'
"""

from __future__ import annotations

import html

from ...model.gate import CheckReport, StatementCheck
from .records import Record, as_records

SUMMARY_LIMIT = 1 << 20  # bytes, GitHub's step summary limit
COMMENT_LIMIT = 65_536  # characters, GitHub's comment body limit
_ICON = {"error": "❌", "warning": "⚠️", "note": "💬"}


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "&#124;")


def headline(report: CheckReport) -> str:
    counts = report.counts()
    verdict = "passed" if report.passed else "failed"
    parts = [f"{counts['error']} errors", f"{counts['warning']} warnings"]
    if counts["accepted"]:
        parts.append(f"{counts['accepted']} accepted")
    icon = "✅" if report.passed else "❌"
    return (f"{icon} **indexadvisor check {verdict}**: {len(report.statements)} statements "
            f"watched, {', '.join(parts)}")


def _row(rec: Record) -> str:
    state = "accepted" if rec.accepted else rec.severity.value
    icon = "✔️" if rec.accepted else _ICON[rec.severity.value]
    fix = f"<code>{cell(rec.fix)}</code>" if rec.fix else ""
    return (f"| {icon} {state} | `{rec.rule}` {rec.name} | {cell(rec.where)} | "
            f"{cell(rec.message)} | {fix} |")


def _plans(statement: StatementCheck) -> str:
    before = statement.before.render() if statement.before else "(not planned)"
    after = statement.after.render() if statement.after else (statement.error or "-")
    return (f"<details><summary><code>{cell(statement.location.__str__())}</code> "
            f"{cell(statement.text[:80])}</summary>\n\n```\nbefore:\n{before}\n\nafter:\n"
            f"{after}\n```\n\n</details>")


def render_markdown(report: CheckReport, limit: int = SUMMARY_LIMIT,
                    measure: str = "bytes") -> str:
    """The whole report in Markdown, cut to `limit` (counted in UTF-8 bytes or characters)."""

    def size(text: str) -> int:
        return len(text.encode()) if measure == "bytes" else len(text)

    records = as_records(report)
    head = [f"### {headline(report)}", ""]
    if report.baseline:
        head.append(f"Compared with `{report.baseline}` on PostgreSQL "
                    f"{report.server_version.split()[0]} ({report.mode}).")
    else:
        head.append(f"Plans before and after the migration on PostgreSQL "
                    f"{report.server_version.split()[0]} ({report.mode}).")
    head.append("")
    tail = ["", "<sub>Accept a known regression in the baseline's `accepted` list: "
            '`{"statement": "KEY", "rule": "IA101", "reason": "...", "expires": '
            '"2025-12-31"}`.</sub>', ""]
    if report.notes:
        tail += ["**Notes**", ""] + [f"- {cell(n)}" for n in report.notes] + [""]
    if report.timings:
        tail.append("Time: " + " · ".join(f"{name} {seconds:.1f} s"
                                          for name, seconds in report.timings))
    budget = limit - size("\n".join(head + tail)) - 400
    body: list[str] = []
    if records:
        body += ["| | rule | where | finding | fix |", "|---|---|---|---|---|"]
    shown = 0
    for rec in records:
        row = _row(rec)
        if size(row) + 1 > budget:
            break
        body.append(row)
        budget -= size(row) + 1
        shown += 1
    if shown < len(records):
        body.append("")
        body.append(f"… and {len(records) - shown} more findings, not shown here (size "
                    "limit): see the JSON or SARIF output.")
    changed = [s for s in report.statements if report.for_statement(s.key)]
    plan_parts: list[str] = []
    for statement in changed:
        part = _plans(statement)
        if size(part) + 1 > budget:
            plan_parts.append(f"… plans of {len(changed) - len(plan_parts)} more statements "
                              "left out (size limit).")
            break
        plan_parts.append(part)
        budget -= size(part) + 1
    if plan_parts:
        body += ["", "**Plans that changed**", "", *plan_parts]
    return "\n".join(head + body + tail) + "\n"


def render_comment(report: CheckReport) -> str:
    """A pull-request comment: the same, within GitHub's 65,536 characters."""
    return render_markdown(report, COMMENT_LIMIT - 1, measure="chars")
