"""The knee rule: when more index bytes stop paying for themselves.

A budget is a ceiling, not a target. Greedy selection takes moves in falling net gain per byte,
so its cost-vs-bytes curve flattens as it goes; past the knee, each index buys a sliver of the
workload for as many bytes as the first ones. The rule that stops it there compares two shares:
a move (an index added, or a chosen one widened) is worth its bytes when

    gain / workload cost now  >=  factor x extra bytes / data bytes

where *workload cost now* is the calls-weighted read cost of the workload with the indexes
chosen so far, *data bytes* the size of the tables it reads (heap and TOAST, each table once,
a partitioned parent as its partitions), and *factor* is `AdvisorConfig.knee` (default
`DEFAULT_FACTOR`, 0.05): with the default, an index a tenth the size of the data must cut what
the workload still costs by at least 0.5%. Plotted with the cost on a log scale and the bytes as
a share of the data, that is a bound on the curve's slope: the search stops at the knee, where
the slope falls below `factor`, whether or not there is a budget left, and with no budget that
is where it ends.

Measured against what the workload costs *now*, not before any index: one missing index that
made the workload cost a hundred times more does not make every later index look worthless.

Why 0.05: on TPC-H SF1 (19 queries, 1.3 GB of tables) the greedy's moves up to about 2 GB cut
the remaining cost by more than 0.05 times their share of the data's bytes, so the 500MB, 1GB
and 2GB runs end at their budgets; after that moves buy little: with no budget the search stops
at 2.0 GB (cost ratio 0.362), before a 509 MB index that would cut the remaining cost by a
quarter of a percent, where filling goes on to 3.0 GB (0.355). A factor of 0.1 stops a 2 GB
run at 1.4 GB, 0.013 worse; 0.03 stops where 0.05 does (BENCHMARKS.md).

`fill_budget` (CLI `--fill-budget`) turns the rule off: the search then spends the budget on
anything that gains `min_gain` of the queries it touches, as it did before.

>>> k = Knee(0.1, data_bytes=10**9)
>>> k.rate(1_000_000.0)
0.0001
>>> k.worth(100 * 10**6, 1_000_000.0)  # a 100 MB index must save 1% of what is left
10000.0
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Candidate, format_size

DEFAULT_FACTOR = 0.05


@dataclass(frozen=True)
class Knee:
    """What a byte of index must earn, relative to what the workload costs."""

    factor: float
    data_bytes: int  # bytes of the tables the workload reads

    def rate(self, workload_cost: float) -> float:
        """Calls-weighted planner units a byte must save while the workload costs
        `workload_cost` (0 when there is nothing to weigh)."""
        if self.data_bytes <= 0 or workload_cost <= 0:
            return 0.0
        return self.factor * workload_cost / self.data_bytes

    def worth(self, extra_bytes: int, workload_cost: float) -> float:
        """What a move adding `extra_bytes` must save to be worth them."""
        return self.rate(workload_cost) * max(extra_bytes, 0)

    def reason(self, candidate: Candidate, gain: float, extra_bytes: int, workload_cost: float,
               used_bytes: int, budget_bytes: int | None) -> str:
        """The stop reason at the knee, naming the best move left and what it lacked."""
        share = 100.0 * gain / workload_cost if workload_cost > 0 else 0.0
        needed = 100.0 * self.worth(extra_bytes, workload_cost) / workload_cost \
            if workload_cost > 0 else 0.0
        spent = format_size(used_bytes)
        where = (f"{spent} of the {format_size(budget_bytes)} budget used"
                 if budget_bytes is not None else f"{spent} chosen, no budget given")
        return (f"knee of the cost curve: the best index left, {candidate.label} "
                f"(+{format_size(extra_bytes)}), would cut the workload's remaining cost by "
                f"{share:.3g}%, less than the {needed:.3g}% its bytes must earn (knee "
                f"{self.factor:g} x its share of the {format_size(self.data_bytes)} of tables "
                f"read); {where}")
