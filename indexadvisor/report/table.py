"""The terminal report: what to create, what it buys, and a verdict for every query."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import Advice, Outcome, Verdict, format_size, short
from .facts import ReportOptions, by_impact, money, monthly_cost, percent

_STYLE = {
    Outcome.IMPROVED: "green",
    Outcome.ALREADY_OPTIMAL: "cyan",
    Outcome.BELOW_THRESHOLD: "yellow",
    Outcome.OVER_BUDGET: "yellow",
    Outcome.WRITE_COST: "yellow",
    Outcome.NO_CANDIDATE: "dim",
    Outcome.NOT_ADVISED: "dim",
    Outcome.NOT_COSTABLE: "red",
    Outcome.UNKNOWN_TABLE: "red",
    Outcome.UNPARSEABLE: "red",
    Outcome.WITHDRAWN: "red",
}



def render_table(advice: Advice, console: Console,
                 options: ReportOptions | None = None) -> None:
    """Print the report to a rich console: a summary, one line per recommendation, drop and
    GIN proposal, and the top queries by impact; the rest is in the HTML, Markdown and .sql
    reports (`options.files` names them)."""
    options = options or ReportOptions()
    budget = format_size(advice.config.budget_bytes) if advice.config.budget_bytes else "none"
    version = advice.server_version.split()[0] if advice.server_version else "?"
    monthly = money(monthly_cost(advice.index_bytes, options.price_per_gb_month))
    lines = [
        Text.assemble(("indexadvisor ", "bold"), advice.tool_version,
                      f"  ·  PostgreSQL {version}  ·  HypoPG {advice.hypopg_version}  ·  "
                      f"budget {budget}  ·  {advice.elapsed_s:.1f} s"),
        Text(f"{advice.workload.statements} statements, {len(advice.workload.queries)} "
             f"distinct, {len(advice.workload.skipped)} skipped  ·  {advice.whatif_calls} "
             f"what-if EXPLAINs, {advice.cache_hits} cache hits"),
        Text.assemble("workload cost ", (
            f"{advice.cost_before:,.0f} -> {advice.cost_after:,.0f} "
            f"(-{percent(advice.improvement_pct)}%)", "bold"),
                      f" with {len(advice.recommendations)} new indexes, "
                      f"{format_size(advice.index_bytes)} (about {monthly} a month)"),
        Text(f"bounds: no index {advice.bounds.no_index:,.0f}; all {advice.bounds.candidates} "
             f"candidates {advice.bounds.all_candidates:,.0f} "
             f"({format_size(advice.bounds.all_candidates_bytes)})  ·  stopped: "
             f"{advice.selection_stop}"),
    ]
    if advice.validation is not None:
        lines.append(_validation_line(advice))
    console.print(Panel(Text("\n").join(lines), expand=False))
    _render_recommendations(advice, console)
    for w in advice.validation.withdrawn if advice.validation else ():
        console.print(Text.assemble(("withdrawn ", "red"), w.candidate.label, f": {w.reason}"),
                      overflow="ellipsis", no_wrap=True)
    _render_not_costed(advice, console)
    _render_drops(advice, console)
    _render_queries(advice, console, options.top_queries)
    for kind, path in options.files:
        console.print(f"{kind} report: {path}", highlight=False)


def _validation_line(advice: Advice) -> Text:
    v = advice.validation
    assert v is not None
    final = v.final
    done = [c for c in (final.checks if final else ()) if c.speedup is not None]
    before = sum(c.before.best_ms or 0.0 for c in done)
    after = sum(c.after.best_ms or 0.0 for c in done)
    real = sum(b.real_bytes for b in final.built) if final else 0
    verdict = ("passed", "green") if v.passed else ("regressions left", "red")
    return Text.assemble("validated by real execution: ", verdict,
                         f", {len(done)} statements {before:,.1f} -> {after:,.1f} ms, "
                         f"{len(v.withdrawn)} withdrawn, built {format_size(real)} in "
                         f"{len(v.rounds)} round{'' if len(v.rounds) == 1 else 's'}")


def _render_recommendations(advice: Advice, console: Console) -> None:
    if not advice.recommendations:
        console.print("[bold]No new index pays for itself on this workload.[/bold]")
        return
    total = sum(r.benefit for r in advice.recommendations) or 1.0
    recs = Table(title=f"Recommended indexes ({len(advice.recommendations)}; DDL in the .sql "
                 "report)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    recs.add_column("#", justify="right")
    recs.add_column("index", no_wrap=True, overflow="ellipsis", max_width=62)
    recs.add_column("size", justify="right", no_wrap=True)
    recs.add_column("saves", justify="right", no_wrap=True)
    recs.add_column("queries", justify="right")
    for n, rec in enumerate(advice.recommendations, 1):
        recs.add_row(str(n), rec.candidate.label, format_size(rec.size_bytes),
                     f"{100 * rec.benefit / total:.0f}%", str(len(rec.queries)))
    console.print(recs)


def _render_queries(advice: Advice, console: Console, top: int) -> None:
    counts: dict[str, int] = {}
    for r in advice.results:
        counts[r.outcome.value] = counts.get(r.outcome.value, 0) + 1
    for s in advice.workload.skipped:
        if s.text:
            counts[s.outcome.value] = counts.get(s.outcome.value, 0) + 1
    table = Table(title=f"Top {min(top, len(advice.results))} of {len(advice.results)} queries "
                  "by impact", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("outcome", no_wrap=True)
    table.add_column("calls", justify="right", no_wrap=True)
    table.add_column("cost before → after", justify="right", no_wrap=True)
    table.add_column("query", no_wrap=True, overflow="ellipsis", max_width=52)
    for r in by_impact(advice)[:top]:
        costs = ("" if r.cost_before is None else
                 f"{r.cost_before:,.0f} → {r.cost_after:,.0f}" if r.cost_after is not None
                 else f"{r.cost_before:,.0f}")
        table.add_row(Text(r.outcome.value, style=_STYLE[r.outcome]), f"{r.query.calls:,}",
                      costs, short(r.query.text, 52))
    console.print(table)
    console.print("outcomes: " + ", ".join(f"{n} {k}" for k, n in
                                            sorted(counts.items(), key=lambda t: (-t[1], t[0]))),
                  highlight=False)


def _render_not_costed(advice: Advice, console: Console) -> None:
    """GIN proposals HypoPG cannot cost: shown apart, never in the budget or the benefit."""
    for n in advice.not_costed:
        console.print(Text.assemble(("not costed: ", "yellow"), short(n.label, 70),
                                    f" ({len(n.queries)} queries; HypoPG cannot simulate "
                                    f"{n.method})"))


def _render_drops(advice: Advice, console: Console) -> None:
    """Existing indexes to drop, and those the workload turned out to need, one line each."""
    for d in sorted(advice.drops, key=lambda d: (d.verdict != Verdict.DROP, d.candidate.table,
                                                 d.candidate.index)):
        c = d.candidate
        style = "green" if d.verdict == Verdict.DROP else "yellow"
        console.print(Text.assemble((f"{d.verdict.value} ", style), c.index,
                                    f"  {c.reason.value}, {format_size(c.size_bytes)}"
                                    + ("" if d.verdict == Verdict.DROP else f": {d.reason}")),
                      overflow="ellipsis", no_wrap=True)
