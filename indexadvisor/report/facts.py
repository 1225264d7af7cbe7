"""What every report says beside the raw values, computed once (pure): storage prices, the knee
of the cost-vs-bytes curve, queries ranked by impact.

>>> round(monthly_cost(2**30, 0.115), 3)
0.115
>>> short_number(1_263_816_967.78), short_number(43.1), short_number(12_500)
('1.26G', '43.1', '12.5k')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Advice, QueryResult, SelectionStep

#: Amazon RDS for PostgreSQL, gp3 storage, Single-AZ, us-east-1 list price per GB-month
#: (AWS bills a GB-month as 2^30 bytes for a month). Aurora standard storage is $0.10.
DEFAULT_PRICE = 0.115
DEFAULT_PRICE_SOURCE = ("Amazon RDS for PostgreSQL gp3 storage, Single-AZ, us-east-1 list "
                        "price; check your region and storage type")


@dataclass(frozen=True)
class ReportOptions:
    """How documents are rendered (not what the advice says)."""

    price_per_gb_month: float = DEFAULT_PRICE
    price_source: str = DEFAULT_PRICE_SOURCE
    top_queries: int = 10  # the terminal's "top queries by impact"
    files: tuple[tuple[str, str], ...] = ()  # (kind, path) of the reports written beside
    literals_masked: bool = False  # the advice's texts had their literals masked (sql.mask)


def monthly_cost(size_bytes: float, price_per_gb_month: float) -> float:
    """Storage cost per month of `size_bytes` at a price per GB-month (GiB, as AWS bills)."""
    return size_bytes / 2**30 * price_per_gb_month


def money(x: float) -> str:
    """Dollars, with cents below $100.

    >>> money(0.0068), money(12.3), money(1234.5)
    ('$0.01', '$12.30', '$1,234')
    """
    return f"${x:,.2f}" if x < 100 else f"${x:,.0f}"


def percent(x: float) -> str:
    """A saving in percent, with as many decimals as it takes not to round up to 100.

    >>> percent(97.14), percent(99.998), percent(100.0)
    ('97.1', '99.998', '100.0')
    """
    for digits in (1, 2, 3, 4):
        text = f"{x:.{digits}f}"
        if x >= 100 or float(text) < 100:
            return text
    return f"{x:.4f}"


def short_number(x: float) -> str:
    """A planner cost in 3 significant digits with k/M/G."""
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"{x / size:.3g}{unit}"
    return f"{x:.3g}"


def impact(r: QueryResult) -> float:
    """Calls-weighted planner cost the recommended set saves on a query (0 if not costed)."""
    if r.cost_before is None or r.cost_after is None:
        return 0.0
    return r.query.calls * (r.cost_before - r.cost_after)


def by_impact(advice: Advice) -> list[QueryResult]:
    """Costed queries, the most saved first, then the most expensive unchanged ones."""
    return sorted(advice.results, key=lambda r: (
        -impact(r), -(r.query.calls * (r.cost_before or 0.0)), r.query.fingerprint))


def saving_pct(r: QueryResult) -> float | None:
    if r.cost_before is None or r.cost_after is None or r.cost_before <= 0:
        return None
    return 100.0 * (r.cost_before - r.cost_after) / r.cost_before


@dataclass(frozen=True)
class Point:
    """A point of the cost-vs-bytes curve."""

    number: int  # 0: no new index; then the selection's moves in order
    size_bytes: int
    cost: float
    step: SelectionStep | None


def curve(advice: Advice) -> list[Point]:
    """The selection's moves as points, from "no new index" on."""
    points = [Point(0, 0, advice.bounds.no_index, None)]
    for n, step in enumerate(advice.steps, 1):
        points.append(Point(n, step.bytes_after, step.cost_after, step))
    return points


def knee(points: Sequence[Point]) -> Point | None:
    """Where the curve flattens: the point farthest above the straight line from no index to
    the final set, both axes scaled to [0, 1] (the Kneedle idea). None with under 3 points.

    >>> pts = [Point(0, 0, 100, None), Point(1, 10, 20, None), Point(2, 50, 12, None),
    ...        Point(3, 100, 10, None)]
    >>> knee(pts).number
    1
    """
    if len(points) < 3:
        return None
    first, last = points[0], points[-1]
    span_b = max(p.size_bytes for p in points) or 1
    drop = first.cost - last.cost
    if drop <= 0:
        return None
    best = None
    for p in points[1:-1]:
        saved = (first.cost - p.cost) / drop
        used = p.size_bytes / span_b
        gap = saved - used
        if best is None or gap > best[0]:
            best = (gap, p)
    return best[1] if best is not None and best[0] > 0.05 else None


def step_text(step: SelectionStep) -> str:
    """What a selection move did, in words."""
    if step.extra_bytes < 0:
        return f"pruned {step.added.label}"
    if step.replaced is not None and step.replaced.is_prefix_of(step.added):
        return f"widened {step.replaced.label} into {step.added.label}"
    if step.replaced is not None:
        return f"swapped {step.replaced.label} for {step.added.label}"
    return f"added {step.added.label}"
