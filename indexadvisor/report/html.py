"""The HTML report: one self-contained file a DBA opens from disk, with no network at all.

Everything is rendered here, from values alone: the summary, the cost-vs-benefit curve (inline
SVG), the recommendations with their DDL, the validation, the drops, and every query with a
node-level diff of its plans. A few KB of inline CSS and script (html_assets) sort, filter and
copy; a hash-based Content-Security-Policy lets nothing else run or load. Every piece of
workload text goes through `html.escape`, in text and in attributes alike.

Rows are <details> elements: closed, a row costs the browser only its summary line, so 500
queries with their plans open in about a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from ..model import Advice, Outcome, Plan, QueryResult, Recommendation, Verdict, format_size, short
from .chart import render_chart
from .facts import (
    ReportOptions,
    by_impact,
    curve,
    impact,
    knee,
    money,
    monthly_cost,
    percent,
    saving_pct,
    short_number,
    step_text,
)
from .html_assets import CSS, JS, content_security_policy
from .html_plans import plan_diff, plan_json, plan_text
from .html_validation import measured_cell, validation_section
from .plandiff import access_changes, diff_nodes


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _cost(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"


def render_html(advice: Advice, options: ReportOptions | None = None) -> str:
    """The whole report as one HTML document."""
    options = options or ReportOptions()
    title = (f"Index advice: {len(advice.recommendations)} new indexes, workload cost "
             f"-{percent(advice.improvement_pct)}%")
    budget = format_size(advice.config.budget_bytes) if advice.config.budget_bytes else "none"
    meta = (f"indexadvisor {advice.tool_version} · PostgreSQL "
            f"{advice.server_version.split()[0] if advice.server_version else '?'} · HypoPG "
            f"{advice.hypopg_version or '?'} · budget {budget} · selection stopped: "
            f"{advice.selection_stop}")
    sections = [_summary(advice, options), _curve(advice), _recommendations(advice)]
    if advice.validation is not None:
        sections.append(validation_section(advice))
    sections += [_drops(advice), _not_costed(advice), _queries(advice, options)]
    nav = "".join(f'<a href="#{k}">{v}</a>' for k, v in (
        ("summary", "Summary"), ("curve", "Cost vs bytes"), ("recommendations", "Indexes"),
        ("validation", "Validation"), ("drops", "Drops"), ("queries", "Queries"))
        if k != "validation" or advice.validation is not None)
    return (
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head><body>\n"
        f'<header><h1>{_e(title)}</h1><p class="meta">{_e(meta)}</p><nav>{nav}</nav></header>\n'
        "<main>\n" + "\n".join(s for s in sections if s) + "\n</main>\n"
        f"<script>{JS}</script>\n</body></html>\n")


def _card(label: str, big: str, small: str = "") -> str:
    return (f'<div class="card"><div class="lbl">{_e(label)}</div><div class="big">{_e(big)}'
            f'</div><div class="muted">{_e(small)}</div></div>')


def _summary(advice: Advice, options: ReportOptions) -> str:
    w = advice.workload
    skipped = sum(n for _, n in w.skipped_counts) or len(w.skipped)
    counts: dict[str, int] = {}
    for r in advice.results:
        counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda t: -t[1]))
    price = options.price_per_gb_month
    monthly = monthly_cost(advice.index_bytes, price)
    writes = sum(r.write_overhead for r in advice.recommendations)
    benefit = sum(r.benefit for r in advice.recommendations)
    drops = [d for d in advice.drops if d.verdict is Verdict.DROP]
    cards = [
        _card("workload", f"{w.statements:,} statements",
              f"{len(w.queries):,} distinct, {skipped:,} skipped; {outcomes}"),
        _card("workload cost", f"-{percent(advice.improvement_pct)}%",
              f"{_cost(advice.cost_before)} → {_cost(advice.cost_after)} planner units, "
              f"calls-weighted; all candidates: {_cost(advice.bounds.all_candidates)}"),
        _card("new indexes", f"{len(advice.recommendations)} · "
              f"{format_size(advice.index_bytes)}",
              f"about {money(monthly)} a month at ${price:g} per GB-month"),
        _card("write overhead", _cost(writes),
              f"planner units a period to keep them up to date, against {_cost(benefit)} "
              "saved"),
        _card("drops", f"{len(drops)} · frees {format_size(advice.freed_bytes)}",
              f"about {money(monthly_cost(advice.freed_bytes, price))} a month"),
    ]
    v = advice.validation
    if v is None:
        cards.append(_card("validation", "estimates only",
                           "advise --validate builds the set in a sandbox and times it"))
    else:
        final = v.final
        measured = len(final.checks) if final else 0
        cards.append(_card("validation", "passed" if v.passed else "regressions left",
                           f"{measured} statements measured, {len(v.withdrawn)} indexes "
                           f"withdrawn in {len(v.rounds)} rounds"))
    masked = ("Literals in statements and plans are masked (?); --show-literals shows them."
              if options.literals_masked else "Literals are shown as captured.")
    return (f'<section id="summary"><h2>Summary</h2><div class="cards">{"".join(cards)}</div>'
            f'<p class="muted">Costs are PostgreSQL planner estimates (EXPLAIN with HypoPG '
            f'hypothetical indexes), weighted by calls. Storage price: '
            f'{_e(options.price_source)} (${price:g} per GB-month; --price-per-gb-month '
            f'changes it). {_e(masked)}</p></section>')


def _curve(advice: Advice) -> str:
    points = curve(advice)
    bend = knee(points)
    items = []
    for p in points[1:]:
        assert p.step is not None
        mark = " (knee)" if bend is p else ""
        items.append(f"<li>{_e(step_text(p.step))}: cost {_e(short_number(p.cost))}, "
                     f"{_e(format_size(p.size_bytes))}{_e(mark)}</li>")
    steps = f'<ol class="steps">{"".join(items)}</ol>' if items else ""
    return (f'<section id="curve"><h2>Cost against storage</h2><p class="muted">Each point is '
            f"one move of the selection (hover for the index). Where the curve flattens, more "
            f"bytes buy little.</p>{render_chart(advice)}{steps}</section>")


def _rows(list_id: str, kind: str, head: Iterable[tuple[str, str, str]], body: str,
          count: int) -> str:
    buttons = "".join(
        f'<span class="{cls}"><button type="button" data-sort="{key}" data-list="{list_id}">'
        f"{_e(label)}</button></span>" if key else f'<span class="{cls}">{_e(label)}</span>'
        for key, label, cls in head)
    return (f'<div class="controls"><button type="button" data-open="{list_id}">Open all'
            f'</button><span class="muted" data-count="{list_id}">{count} rows</span></div>'
            f'<div class="rows {kind}" id="{list_id}"><div class="row head">{buttons}</div>'
            f"{body}</div>")


def _recommendations(advice: Advice) -> str:
    if not advice.recommendations:
        return ('<section id="recommendations"><h2>Recommended indexes</h2><p>No new index '
                "pays for itself on this workload.</p></section>")
    results = {r.query.fingerprint: r for r in advice.results}
    total = sum(r.benefit for r in advice.recommendations) or 1.0
    body = "".join(_recommendation(n, rec, results, total)
                   for n, rec in enumerate(advice.recommendations, 1))
    head = [("n", "#", "num"), ("label", "index", ""), ("size", "size", "num"),
            ("benefit", "benefit", "num"), ("writes", "write cost", "num"),
            ("queries", "queries", "num")]
    return (f'<section id="recommendations"><h2>Recommended indexes</h2>'
            f"{_rows('recs', 'r', head, body, len(advice.recommendations))}</section>")


def _recommendation(n: int, rec: Recommendation, results: dict[str, QueryResult],
                    total: float) -> str:
    label = rec.candidate.label
    served = [results[k] for k in rec.queries if k in results]
    lines = "".join(
        f"<li>{_e(short(r.query.text, 110))} <span class=\"muted\">· {r.query.calls:,} calls · "
        f"cost {_cost(r.cost_before)} → {_cost(r.cost_after)}</span></li>"
        for r in sorted(served, key=lambda r: -impact(r)))
    rivals = ""
    if rec.rivals:
        per_byte = rec.benefit / max(rec.size_bytes, 1)
        parts = [f"{_e(x.candidate.label)} would save {_e(short_number(x.benefit))} in its "
                 f"place for {_e(format_size(x.size_bytes))} "
                 f"({_e(short_number(x.benefit / max(x.size_bytes, 1)))} per byte)"
                 for x in rec.rivals]
        rivals = (f"<p><b>Why this one:</b> it saves {_e(short_number(rec.benefit))} for "
                  f"{_e(format_size(rec.size_bytes))} ({_e(short_number(per_byte))} per byte), "
                  f"net of {_cost(rec.write_overhead)} write cost. Runners-up: "
                  f"{'; '.join(parts)}.</p>")
    detail = rec.write_detail
    writes = "" if detail is None else (
        f"<p class=\"muted\">Write cost by cause: inserts {_cost(detail.inserts)}, updates "
        f"{_cost(detail.updates)}, lost HOT updates {_cost(detail.lost_hot)}, deletes "
        f"{_cost(detail.deletes)}.</p>")
    share = 100 * rec.benefit / total
    return (
        f'<details class="row" data-n="{n}" data-label="{_e(label.lower())}" '
        f'data-size="{rec.size_bytes}" data-benefit="{rec.benefit:.2f}" '
        f'data-writes="{rec.write_overhead:.2f}" data-queries="{len(rec.queries)}" '
        f'data-text="{_e(label.lower())}"><summary><span class="num">{n}</span>'
        f'<span class="mono">{_e(label)}</span><span class="num">'
        f'{_e(format_size(rec.size_bytes))}</span><span class="num">'
        f'{_e(short_number(rec.benefit))} ({share:.0f}%)</span><span class="num">'
        f'{_cost(rec.write_overhead)}</span><span class="num">{len(rec.queries)}</span>'
        f'</summary><div class="body"><div class="controls"><b>DDL</b> <button type="button" '
        f'data-copy="ddl-{n}">Copy</button></div><pre id="ddl-{n}">{_e(rec.ddl)}</pre>'
        f"{rivals}{writes}<h3>Queries it serves ({len(served)})</h3><ul>{lines}</ul>"
        f"</div></details>")


def _drops(advice: Advice) -> str:
    if not advice.drops:
        return ""
    rows = []
    for n, d in enumerate(sorted(advice.drops, key=lambda d: (d.verdict is not Verdict.DROP,
                                                             d.candidate.table,
                                                             d.candidate.index)), 1):
        c = d.candidate
        change = "not measured" if d.cost_change is None else f"{d.cost_change:+,.0f}"
        ddl = (f'<div class="controls"><b>DDL</b> <button type="button" data-copy="drop-{n}">'
               f'Copy</button></div><pre id="drop-{n}">{_e(c.ddl)}</pre>'
               if d.verdict is Verdict.DROP else "")
        rows.append(
            f'<details class="row" data-verdict="{_e(d.verdict.value)}" '
            f'data-index="{_e(c.index)}" data-size="{c.size_bytes}" '
            f'data-text="{_e(c.index.lower())}"><summary><span class="o-'
            f'{"improved" if d.verdict is Verdict.DROP else "over_budget"}">'
            f'{_e(d.verdict.value)}</span><span class="mono">{_e(c.index)}</span>'
            f'<span>{_e(c.reason.value)}</span><span class="num">{_e(format_size(c.size_bytes))}'
            f'</span><span class="num">{_e(change)}</span></summary><div class="body">'
            f"<p>{_e(c.detail)}</p><p class=\"muted\">{_e(d.reason)}</p>{ddl}</div></details>")
    head = [("verdict", "verdict", ""), ("index", "index", ""), ("", "reason", ""),
            ("size", "size", "num"), ("", "cost change", "num")]
    return (f'<section id="drops"><h2>Existing indexes to drop</h2>'
            f"{_rows('drops-list', 'd', head, ''.join(rows), len(rows))}</section>")


def _not_costed(advice: Advice) -> str:
    if not advice.not_costed:
        return ""
    items = "".join(f"<li><span class=\"mono\">{_e(n.label)}</span>: {_e(n.reason)}"
                    f"<pre>{_e(n.ddl)}</pre></li>" for n in advice.not_costed)
    return (f'<section id="not-costed"><h2>Proposed, not costed</h2><p class="muted">HypoPG '
            f"cannot simulate these; they are outside the budget and every total.</p>"
            f"<ul>{items}</ul></section>")


def _queries(advice: Advice, options: ReportOptions) -> str:
    results = by_impact(advice)
    body = "".join(_query(n, r, advice) for n, r in enumerate(results, 1))
    body += "".join(_skipped(n, s.text, s.source, s.reason, s.outcome)
                    for n, s in enumerate(advice.workload.skipped, len(results) + 1)
                    if s.text)
    outcomes = sorted({r.outcome.value for r in advice.results}
                      | {s.outcome.value for s in advice.workload.skipped if s.text})
    select = "".join(f'<option value="{_e(o)}">{_e(o)}</option>' for o in outcomes)
    measured = "measured ms" if advice.validation is not None else "saving"
    head = [("outcome", "outcome", ""), ("calls", "calls", "num"),
            ("impact", "cost before → after", "num"),
            ("measured" if advice.validation is not None else "saving", measured, "num"),
            ("", "changes", ""), ("text", "statement", "")]
    count = len(results) + sum(1 for s in advice.workload.skipped if s.text)
    return (f'<section id="queries"><h2>Queries</h2><div class="controls"><input type="search" '
            f'placeholder="filter: words in the statement, table, index" '
            f'data-filter="qs" aria-label="filter queries"><select data-pick="qs" '
            f'aria-label="outcome"><option value="">every outcome</option>{select}</select>'
            f"</div>{_rows('qs', 'q', head, body, count)}</section>")


def _query(n: int, r: QueryResult, advice: Advice) -> str:
    q = r.query
    saving = saving_pct(r)
    changes: tuple[str, ...] = ()
    if r.plan_before is not None and r.plan_after is not None:
        changes = access_changes(diff_nodes(r.plan_before.root, r.plan_after.root))
    change = "; ".join(changes) or ("plan unchanged" if r.plan_before is not None else "")
    check = advice.validation.check(q.fingerprint) if advice.validation else None
    if advice.validation is not None:
        cell, sort_value = measured_cell(check)
    elif saving is None:
        cell, sort_value = "—", ""
    else:
        cell, sort_value = f"-{saving:.{1 if 99 < saving < 100 else 0}f}%", f"{saving:.2f}"
    text = " ".join([q.text, q.fingerprint, q.source, change, r.reason]).lower()
    plans = ""
    if r.plan_before is not None:
        plans = (f"<h3>Plan, before → after (estimated)</h3>"
                 f"{plan_diff(r.plan_before, r.plan_after)}"
                 + _plan_block(f"q{n}b", "Plan with the existing indexes", r.plan_before))
        if r.plan_after is not None:
            plans += _plan_block(f"q{n}a", "Plan with the recommended indexes", r.plan_after)
    if check is not None and check.before.plan is not None and check.after.plan is not None:
        plans += (f"<h3>Measured plans, before → after (EXPLAIN ANALYZE)</h3>"
                  f"{plan_diff(check.before.plan, check.after.plan)}")
    return (
        f'<details class="row" data-outcome="{_e(r.outcome.value)}" data-calls="{q.calls}" '
        f'data-impact="{impact(r):.2f}" data-{"measured" if advice.validation else "saving"}='
        f'"{_e(sort_value)}" data-text="{_e(text)}"><summary><span class="o-'
        f'{_e(r.outcome.value)}">{_e(r.outcome.value)}</span><span class="num">{q.calls:,}'
        f'</span><span class="num">{_cost(r.cost_before)} → {_cost(r.cost_after)}</span>'
        f'<span class="num">{cell}</span><span class="change">{_e(short(change, 60))}</span>'
        f'<span class="mono">{_e(short(q.text, 140))}</span></summary><div class="body">'
        f'<p><b>{_e(r.outcome.value)}</b>: {_e(r.reason)}</p><p class="muted">{_e(q.source)}'
        f" · fingerprint {_e(q.fingerprint)}</p><pre>{_e(q.text)}</pre>{plans}</div></details>")


def _plan_block(ident: str, title: str, plan: Plan) -> str:
    return (f'<details><summary>{_e(title)} (text)</summary><pre>{plan_text(plan)}</pre>'
            f'<div class="controls">EXPLAIN JSON, for any plan viewer <button type="button" '
            f'data-copy="{ident}">Copy</button></div><pre class="hidden" id="{ident}">'
            f"{plan_json(plan)}</pre></details>")


def _skipped(n: int, text: str, source: str, reason: str, outcome: Outcome) -> str:
    hay = " ".join([text, source, reason]).lower()
    return (
        f'<details class="row" data-outcome="{_e(outcome.value)}" data-calls="0" '
        f'data-impact="0" data-text="{_e(hay)}"><summary><span class="o-{_e(outcome.value)}">'
        f'{_e(outcome.value)}</span><span class="num">—</span><span class="num">—</span>'
        f'<span class="num">—</span><span></span><span class="mono">{_e(short(text, 140))}'
        f'</span></summary><div class="body"><p><b>{_e(outcome.value)}</b>: {_e(reason)}</p>'
        f'<p class="muted">{_e(source)}</p><pre>{_e(text)}</pre></div></details>')
