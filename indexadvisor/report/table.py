"""The terminal report: what to create, what it buys, and a verdict for every query."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..model import Advice, Outcome, Verdict, format_size, short

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
}



def render_table(advice: Advice, console: Console) -> None:
    """Print the report to a rich console."""
    budget = format_size(advice.config.budget_bytes) if advice.config.budget_bytes else "none"
    head = Text.assemble(
        ("indexadvisor ", "bold"), advice.tool_version,
        f"  ·  PostgreSQL {advice.server_version.split()[0]}  ·  HypoPG {advice.hypopg_version}",
        f"\n{advice.workload.statements} statements, {len(advice.workload.queries)} distinct, "
        f"{len(advice.workload.skipped)} skipped  ·  budget {budget}  ·  "
        f"{advice.whatif_calls} what-if EXPLAINs, {advice.cache_hits} cache hits  ·  "
        f"{advice.elapsed_s:.1f} s",
        f"\nworkload cost {advice.cost_before:,.0f} -> {advice.cost_after:,.0f} "
        f"(-{advice.improvement_pct:.1f}%) with {len(advice.recommendations)} new indexes, "
        f"{format_size(advice.index_bytes)}",
        f"\nbounds: no index {advice.bounds.no_index:,.0f}; all {advice.bounds.candidates} "
        f"candidates {advice.bounds.all_candidates:,.0f} "
        f"({format_size(advice.bounds.all_candidates_bytes)})  ·  stopped: "
        f"{advice.selection_stop}",
    )
    console.print(Panel(head, expand=False))

    recs = Table(title="Recommended indexes", show_lines=True, title_justify="left")
    recs.add_column("#", justify="right")
    recs.add_column("index")
    recs.add_column("size", justify="right")
    recs.add_column("benefit", justify="right")
    recs.add_column("write cost", justify="right")
    recs.add_column("queries", justify="right")
    for n, rec in enumerate(advice.recommendations, 1):
        recs.add_row(str(n), Group(rec.candidate.label, Text(rec.ddl, style="dim")),
                     format_size(rec.size_bytes), f"{rec.benefit:,.0f}",
                     f"{rec.write_overhead:,.0f}", str(len(rec.queries)))
    if advice.recommendations:
        console.print(recs)
    else:
        console.print("[bold]No new index pays for itself on this workload.[/bold]")

    _render_not_costed(advice, console)
    _render_drops(advice, console)

    verdicts = Table(title="Queries", title_justify="left")
    verdicts.add_column("outcome")
    verdicts.add_column("calls", justify="right")
    verdicts.add_column("cost before → after", justify="right")
    verdicts.add_column("query / reason")
    for r in sorted(advice.results, key=lambda r: -(r.query.calls * (r.cost_before or 0))):
        costs = ("" if r.cost_before is None else
                 f"{r.cost_before:,.0f} → {r.cost_after:,.0f}" if r.cost_after is not None
                 else f"{r.cost_before:,.0f}")
        verdicts.add_row(Text(r.outcome.value, style=_STYLE[r.outcome]), str(r.query.calls),
                         costs, Group(short(r.query.text), Text(
                             f"{r.query.source}: {r.reason}", style="dim")))
    for s in advice.workload.skipped:
        verdicts.add_row(Text("skipped", style="red"), "", "",
                         Group(short(s.text) or "(no text)", Text(f"{s.source}: {s.reason}",
                                                                    style="dim")))
    console.print(verdicts)


def _render_not_costed(advice: Advice, console: Console) -> None:
    """GIN proposals HypoPG cannot cost: shown apart, never in the budget or the benefit."""
    if not advice.not_costed:
        return
    table = Table(title="Proposed, not costed (not counted in the budget)", show_lines=True,
                  title_justify="left")
    table.add_column("index")
    table.add_column("reason")
    table.add_column("queries", justify="right")
    for n in advice.not_costed:
        table.add_row(Group(n.label, Text(n.ddl, style="dim")), n.reason, str(len(n.queries)))
    console.print(table)


def _render_drops(advice: Advice, console: Console) -> None:
    """Existing indexes to drop, and those the workload turned out to need."""
    if not advice.drops:
        return
    saved = sum(d.candidate.size_bytes for d in advice.drops if d.verdict == Verdict.DROP)
    drops = Table(title=f"Indexes to drop (frees {format_size(saved)})", show_lines=True,
                  title_justify="left")
    drops.add_column("verdict")
    drops.add_column("index")
    drops.add_column("reason")
    drops.add_column("size", justify="right")
    drops.add_column("cost change", justify="right")
    drops.add_column("writes saved", justify="right")
    for d in sorted(advice.drops, key=lambda d: (d.verdict != Verdict.DROP, d.candidate.table,
                                                 d.candidate.index)):
        c = d.candidate
        change = "not measured" if d.cost_change is None else f"{d.cost_change:+,.0f}"
        body = [Text(c.index), Text(c.detail, style="dim"), Text(d.reason, style="dim")]
        if d.verdict == Verdict.DROP:
            body.append(Text(c.ddl, style="dim"))
        drops.add_row(Text(d.verdict.value, style="green" if d.verdict == Verdict.DROP
                           else "yellow"), Group(*body), c.reason.value,
                      format_size(c.size_bytes), change, f"{d.write_saving:,.0f}")
    console.print(drops)
