"""Index selection algorithms, by name. Baselines (no index, every candidate) run beside any
of them in the pipeline, so every result has bounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from ..model import Candidate, CostedQuery, CostModel
from .greedy import Selection, greedy
from .limits import Limits
from .space import SearchSpace


class Selector(Protocol):
    def __call__(self, queries: Sequence[CostedQuery], candidates: Sequence[Candidate],
                 sizes: Mapping[Candidate, int], costs: CostModel, limits: Limits,
                 space: SearchSpace | None = None) -> Selection: ...


ALGORITHMS: dict[str, Selector] = {"greedy": greedy}

__all__ = ["ALGORITHMS", "Limits", "SearchSpace", "Selection", "Selector", "greedy"]
