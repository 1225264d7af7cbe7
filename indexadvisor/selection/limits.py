"""What bounds a search: bytes, index count, the least gain worth a move, write costs, the
knee rule, and the time it may take."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from ..model import Candidate
from .knee import Knee


@dataclass(frozen=True)
class Limits:
    budget_bytes: int | None = None
    max_indexes: int | None = None
    min_gain: float = 0.01  # fraction of the affected queries' current weighted cost
    write_cost: Mapping[Candidate, float] | None = None  # weighted maintenance cost per index
    knee: Knee | None = None  # what a byte of index must earn; None fills the budget
    deadline: float | None = None  # time.perf_counter() past which the search adds nothing

    def rate(self, workload_cost: float) -> float:
        """The least net gain (calls-weighted planner units) a byte of index must buy while
        the workload costs `workload_cost`; 0 without a knee."""
        return self.knee.rate(workload_cost) if self.knee is not None else 0.0

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline

    def round_end(self, share: float) -> float | None:
        """When a search round that may take `share` of the time left should end (None: no
        deadline)."""
        if self.deadline is None:
            return None
        now = time.perf_counter()
        return now + share * max(0.0, self.deadline - now)
