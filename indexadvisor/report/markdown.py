"""The Markdown report: for a pull-request comment (at most 65,536 characters) and GitHub's
`$GITHUB_STEP_SUMMARY`. The summary, the recommended indexes and the top queries are visible;
DDL, plan changes and the long lists sit in collapsed <details>. When the whole would not fit,
fewer query rows are listed (and the report says how many more the HTML report has).

Workload text is escaped: HTML-special characters as entities, Markdown punctuation with a
backslash, and code blocks fenced with more backticks than the text holds.

>>> md_text("a|b <img src=x onerror=alert(1)> *x*")
'a\\\\|b &lt;img src=x onerror=alert\\\\(1\\\\)&gt; \\\\*x\\\\*'
>>> fence("select '```'")
'````'
"""

from __future__ import annotations

import re

from ..model import Advice, Measurement, QueryResult, Verdict, format_size, short
from .facts import (
    ReportOptions,
    by_impact,
    money,
    monthly_cost,
    percent,
    short_number,
    step_text,
)
from .plandiff import access_changes, diff_nodes

LIMIT = 65_536  # a GitHub pull-request comment
ROW_STEPS = (None, 200, 100, 50, 25, 10, 5, 0)  # query rows listed, tried in this order
_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_text(text: str) -> str:
    """Plain text that renders as itself in a Markdown table cell or paragraph."""
    flat = " ".join(str(text).split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _PUNCT.sub(r"\\\1", flat)


def fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _code(text: str, lang: str = "") -> str:
    mark = fence(text)
    return f"{mark}{lang}\n{text}\n{mark}"


def _cost(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def _ms(m: Measurement) -> str:
    return "timeout" if m.timed_out else _cost(m.best_ms)


def render_markdown(advice: Advice, options: ReportOptions | None = None,
                    limit: int = LIMIT) -> str:
    """The Markdown document, at most `limit` characters."""
    options = options or ReportOptions()
    for rows in ROW_STEPS:
        text = _document(advice, options, rows)
        if len(text) <= limit:
            return text
    return text[: limit - 80] + "\n\n… (cut to fit; the HTML report has everything)\n"


def _document(advice: Advice, options: ReportOptions, rows: int | None) -> str:
    parts = [_summary(advice, options), _recommendations(advice)]
    if advice.validation is not None:
        parts.append(_validation(advice, rows))
    parts += [_drops(advice), _queries(advice, rows)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _summary(advice: Advice, options: ReportOptions) -> str:
    w = advice.workload
    skipped = sum(n for _, n in w.skipped_counts) or len(w.skipped)
    price = options.price_per_gb_month
    drops = [d for d in advice.drops if d.verdict is Verdict.DROP]
    writes = sum(r.write_overhead for r in advice.recommendations)
    lines = [
        f"## Index advice: {len(advice.recommendations)} new indexes, workload cost "
        f"-{percent(advice.improvement_pct)}%",
        "",
        "| | |",
        "|---|---|",
        f"| workload | {w.statements:,} statements, {len(w.queries):,} distinct, "
        f"{skipped:,} skipped |",
        f"| workload cost | {_cost(advice.cost_before)} → {_cost(advice.cost_after)} planner "
        f"units, calls-weighted (all {advice.bounds.candidates} candidates: "
        f"{_cost(advice.bounds.all_candidates)}) |",
        f"| new indexes | {len(advice.recommendations)}, {format_size(advice.index_bytes)}, "
        f"about {money(monthly_cost(advice.index_bytes, price))} a month at ${price:g} per "
        "GB-month |",
        f"| write overhead | {_cost(writes)} planner units to keep them up to date |",
        f"| drops | {len(drops)}, frees {format_size(advice.freed_bytes)} |",
    ]
    v = advice.validation
    if v is not None:
        final = v.final
        lines.append(f"| validation | {'passed' if v.passed else 'regressions left'}: "
                     f"{len(final.checks) if final else 0} statements measured, "
                     f"{len(v.withdrawn)} indexes withdrawn, {len(v.rounds)} round(s) |")
    else:
        lines.append("| validation | estimates only (`advise --validate` times them) |")
    budget = format_size(advice.config.budget_bytes) if advice.config.budget_bytes else "none"
    lines += ["", f"indexadvisor {md_text(advice.tool_version)} · PostgreSQL "
              f"{md_text(advice.server_version.split()[0] if advice.server_version else '?')}"
              f" · budget {budget} · selection stopped: {md_text(advice.selection_stop)}. "
              f"Storage price: {md_text(options.price_source)}."]
    return "\n".join(lines)


def _recommendations(advice: Advice) -> str:
    if not advice.recommendations:
        return "### Recommended indexes\n\nNo new index pays for itself on this workload."
    lines = ["### Recommended indexes", "", "| # | index | size | benefit | write cost | "
             "queries |", "|---:|---|---:|---:|---:|---:|"]
    for n, r in enumerate(advice.recommendations, 1):
        lines.append(f"| {n} | {md_text(r.candidate.label)} | {format_size(r.size_bytes)} | "
                     f"{short_number(r.benefit)} | {_cost(r.write_overhead)} | "
                     f"{len(r.queries)} |")
    ddl = "\n\n".join(r.ddl for r in advice.recommendations)
    lines += ["", f"<details><summary>DDL for all {len(advice.recommendations)}, in order"
              "</summary>", "", _code(ddl, "sql"), "", "</details>"]
    if advice.steps:
        steps = "\n".join(f"{n}. {md_text(step_text(s))}: cost {short_number(s.cost_after)}, "
                          f"{format_size(s.bytes_after)}" for n, s in enumerate(advice.steps, 1))
        lines += ["", "<details><summary>How the selection got there (cost against bytes)"
                  "</summary>", "", steps, "", "</details>"]
    return "\n".join(lines)


def _validation(advice: Advice, rows: int | None) -> str:
    v = advice.validation
    assert v is not None
    s = v.settings
    texts = {r.query.fingerprint: r.query.text for r in advice.results}
    lines = ["### Validation by real execution", "",
             f"Built in {md_text(s.where)}; {s.warmup} warm-up + {s.runs} measured runs per "
             f"statement under EXPLAIN (ANALYZE, BUFFERS), best run compared, "
             f"{s.statement_timeout_ms / 1000:g} s limit; slower = more than "
             f"{100 * s.tolerance:g}% and {s.min_ms:g} ms."]
    for w in v.withdrawn:
        lines.append(f"- withdrawn in round {w.round}: {md_text(w.candidate.label)}: "
                     f"{md_text(w.reason)}")
    checks = [c for r in v.rounds for c in r.checks if c.regressed]
    checks += [c for c in (v.final.checks if v.final else ()) if not c.regressed]
    shown = checks if rows is None else checks[:rows]
    if shown:
        lines += ["", "| statement | estimated cost | measured best ms | flags |",
                  "|---|---:|---:|---|"]
        for c in shown:
            lines.append(f"| {md_text(short(texts.get(c.fingerprint, ''), 70))} | "
                         f"{_cost(c.estimated_before)} → {_cost(c.estimated_after)} | "
                         f"{_ms(c.before)} → {_ms(c.after)} | {md_text(', '.join(c.flags))} |")
        if len(shown) < len(checks):
            lines.append(f"\n… {len(checks) - len(shown)} more in the HTML report.")
    return "\n".join(lines)


def _drops(advice: Advice) -> str:
    drops = [d for d in advice.drops if d.verdict is Verdict.DROP]
    if not drops:
        return ""
    lines = ["### Existing indexes to drop", "", "| index | reason | size |", "|---|---|---:|"]
    lines += [f"| {md_text(d.candidate.index)} | {md_text(d.candidate.reason.value)}: "
              f"{md_text(d.candidate.detail)} | {format_size(d.candidate.size_bytes)} |"
              for d in drops]
    ddl = "\n".join(d.candidate.ddl for d in drops)
    lines += ["", "<details><summary>DDL</summary>", "", _code(ddl, "sql"), "", "</details>"]
    return "\n".join(lines)


def _row(r: QueryResult) -> str:
    change = ""
    if r.plan_before is not None and r.plan_after is not None:
        change = "; ".join(access_changes(diff_nodes(r.plan_before.root, r.plan_after.root)))
    return (f"| {r.outcome.value} | {r.query.calls:,} | {_cost(r.cost_before)} → "
            f"{_cost(r.cost_after)} | {md_text(short(change, 80))} | "
            f"{md_text(short(r.query.text, 90))} |")


def _queries(advice: Advice, rows: int | None) -> str:
    ranked = by_impact(advice)
    top = ranked if rows is None else ranked[:rows]
    head = ["| outcome | calls | cost before → after | plan change | statement |",
            "|---|---:|---:|---|---|"]
    lines = [f"### Queries by impact ({len(ranked)})", ""]
    first, rest = top[:10], top[10:]
    lines += head + [_row(r) for r in first]
    if rest:
        lines += ["", f"<details><summary>{len(rest)} more queries</summary>", "", *head,
                  *[_row(r) for r in rest], "", "</details>"]
    diffs = []
    for r in top:
        if r.plan_before is None or r.plan_after is None:
            continue
        changes = access_changes(diff_nodes(r.plan_before.root, r.plan_after.root))
        head_line = "-- " + short(r.query.text, 100)
        body = "\n".join(f"- {c.split(' → ')[0]}\n+ {c.split(' → ')[-1]}" if " → " in c
                         else c for c in changes)
        diffs.append(f"{head_line}\n{body}" if body else head_line)
    if diffs:
        text = "\n\n".join(diffs)
        lines += ["", "<details><summary>Plan changes, before → after</summary>", "",
                  _code(text, "diff"), "", "</details>"]
    missing = len(ranked) - len(top)
    skipped = [s for s in advice.workload.skipped if s.text]
    if skipped and (rows is None or rows > 0):
        items = "\n".join(f"- {md_text(s.source)}: {md_text(s.reason)}" for s in skipped)
        lines += ["", f"<details><summary>Skipped ({len(skipped)})</summary>", "", items, "",
                  "</details>"]
    if missing:
        lines.append(f"\n… {missing} more queries in the HTML report.")
    return "\n".join(lines)
