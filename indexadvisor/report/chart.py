"""The cost-vs-benefit curve as inline SVG, drawn here: no script, no library, every label is
text a test (or a screen reader) can find, and it prints as vectors.

x: bytes of the chosen set; y: calls-weighted workload cost (planner units). One point per
selection move, numbered, with the index it added in a tooltip; marks for the chosen set, the
knee, the budget and the "all candidates" bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from ..model import Advice, format_size
from .facts import Point, curve, knee, short_number, step_text

WIDTH, HEIGHT = 760, 340
LOG_RANGE = 50  # costs spanning more than this factor get a logarithmic axis
LEFT, RIGHT, TOP, BOTTOM = 70, 24, 18, 46


def _ticks(hi: float, n: int = 5) -> list[float]:
    """Round tick values from 0 to about `hi`.

    >>> _ticks(1000)
    [0, 200, 400, 600, 800, 1000]
    """
    if hi <= 0:
        return [0.0]
    raw = hi / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return [i * step for i in range(int(hi / step + 1e-9) + 1)]


def _byte_ticks(hi: float) -> list[float]:
    unit = 1024 ** max(0, min(4, int(math.log(max(hi, 1), 1024))))
    return [t * unit for t in _ticks(hi / unit)]


def render_chart(advice: Advice) -> str:
    """The curve as an <svg> element (or a note when the selection made no move)."""
    points = curve(advice)
    if len(points) < 2:
        return '<p class="muted">The selection made no move: no curve to draw.</p>'
    budget = advice.config.budget_bytes
    bound = advice.bounds
    x_hi = float(max(p.size_bytes for p in points))
    if budget:
        x_hi = max(x_hi, budget)
    bound_fits = bound.all_candidates_bytes <= x_hi * 1.5
    if bound_fits:
        x_hi = max(x_hi, bound.all_candidates_bytes)
    x_hi *= 1.08
    costs = [p.cost for p in points] + [bound.all_candidates]
    y_hi = max(costs) * 1.05 or 1.0
    low = min(c for c in costs if c > 0) if any(c > 0 for c in costs) else 1.0
    log = y_hi / low > LOG_RANGE  # a few huge queries would flatten everything else
    y_lo = 10 ** math.floor(math.log10(low)) if log else 0.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(v: float) -> float:
        return LEFT + plot_w * v / x_hi

    def y(v: float) -> float:
        if log:
            share = (math.log10(max(v, y_lo)) - math.log10(y_lo)) / (
                math.log10(y_hi) - math.log10(y_lo))
            return TOP + plot_h * (1 - share)
        return TOP + plot_h * (1 - v / y_hi)

    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-labelledby="chart-title">',
           '<title id="chart-title">Workload cost against index bytes, one point per '
           'selection move</title>']
    y_ticks = ([10.0 ** e for e in range(int(math.log10(y_lo)), int(math.log10(y_hi)) + 1)]
               if log else _ticks(y_hi))
    for t in y_ticks:
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(t):.1f}" '
                   f'y2="{y(t):.1f}"/><text class="tick" x="{LEFT - 6}" y="{y(t) + 4:.1f}" '
                   f'text-anchor="end">{short_number(t)}</text>')
    for t in _byte_ticks(x_hi):
        out.append(f'<line class="grid" y1="{TOP}" y2="{TOP + plot_h}" x1="{x(t):.1f}" '
                   f'x2="{x(t):.1f}"/><text class="tick" x="{x(t):.1f}" '
                   f'y="{TOP + plot_h + 16}" text-anchor="middle">'
                   f'{escape(format_size(t))}</text>')
    out.append(f'<text class="axis" x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" '
               'text-anchor="middle">index bytes of the chosen set</text>')
    out.append(f'<text class="axis" transform="translate(14 {TOP + plot_h / 2}) rotate(-90)" '
               f'text-anchor="middle">workload cost (planner units{", log scale" if log else ""})'
               '</text>')
    if budget:
        out.append(f'<line class="budget" x1="{x(budget):.1f}" x2="{x(budget):.1f}" '
                   f'y1="{TOP}" y2="{TOP + plot_h}"/><text class="mark" '
                   f'x="{x(budget) - 4:.1f}" y="{TOP + 12}" text-anchor="end">budget '
                   f'{escape(format_size(budget))}</text>')
    by = y(bound.all_candidates)
    label = (f"all {bound.candidates} candidates: {short_number(bound.all_candidates)} at "
             f"{format_size(bound.all_candidates_bytes)}")
    out.append(f'<line class="bound" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{by:.1f}" '
               f'y2="{by:.1f}"/><text class="mark" x="{WIDTH - RIGHT - 4}" y="{by + 14:.1f}" '
               f'text-anchor="end">{escape(label)}{"" if bound_fits else " →"}</text>')
    if bound_fits:
        out.append(f'<circle class="bound-point" cx="{x(bound.all_candidates_bytes):.1f}" '
                   f'cy="{by:.1f}" r="4"><title>{escape(label)}</title></circle>')
    path = [f"M {x(points[0].size_bytes):.1f} {y(points[0].cost):.1f}"]
    for p in points[1:]:
        path.append(f"H {x(p.size_bytes):.1f} V {y(p.cost):.1f}")
    out.append(f'<path class="curve" d="{" ".join(path)}"/>')
    out += _points(points, x, y)
    return "\n".join(out) + "\n</svg>"


def _points(points: list[Point], fx: Callable[[float], float],
            fy: Callable[[float], float]) -> list[str]:
    final = points[-1]
    bend = knee(points)
    out = []
    last: tuple[float, float] | None = None
    for p in points:
        cls = "point removed" if p.step is not None and p.step.extra_bytes < 0 else "point"
        text = ("no new index" if p.step is None else f"{p.number}. {step_text(p.step)}")
        tip = f"{text}: cost {p.cost:,.0f}, {format_size(p.size_bytes)}"
        cx, cy = fx(p.size_bytes), fy(p.cost)
        crowded = last is not None and abs(cx - last[0]) < 16 and abs(cy - last[1]) < 14
        number = "" if crowded else (f'<text class="num" x="{cx + 6:.1f}" y="{cy - 7:.1f}">'
                                     f"{p.number}</text>")
        if not crowded:
            last = (cx, cy)
        out.append(f'<g class="{cls}" data-step="{p.number}"><circle cx="{cx:.1f}" '
                   f'cy="{cy:.1f}" r="4"><title>{escape(tip)}</title></circle>{number}</g>')
    cx, cy = fx(final.size_bytes), fy(final.cost)
    anchor = "end" if cx > WIDTH / 2 else "start"
    dx = -10 if anchor == "end" else 10
    out.append(f'<circle class="chosen" cx="{cx:.1f}" cy="{cy:.1f}" r="9"/><text '
               f'class="mark chosen-label" x="{cx + dx:.1f}" y="{cy - 40:.1f}" '
               f'text-anchor="{anchor}">chosen: {escape(format_size(final.size_bytes))}, '
               f'cost {short_number(final.cost)}</text>')
    if bend is not None and bend is not final:
        first = points[0].cost
        share = 100 * (first - bend.cost) / max(first - final.cost, 1e-9)
        kx, ky = fx(bend.size_bytes), fy(bend.cost)
        out.append(f'<circle class="knee" cx="{kx:.1f}" cy="{ky:.1f}" r="9"/><text '
                   f'class="mark knee-label" x="{kx + 14:.1f}" y="{ky - 60:.1f}">knee: '
                   f'{share:.0f}% of the saving at {escape(format_size(bend.size_bytes))}'
                   f'</text>')
    return out
