"""Index selection algorithms, by name. Baselines (no index, every candidate) run beside any
of them in the pipeline, so every result has bounds."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..model import Candidate, CostedQuery, CostModel
from .greedy import Limits, Selection, greedy

Selector = Callable[
    [Sequence[CostedQuery], Sequence[Candidate], Mapping[Candidate, int], CostModel, Limits],
    Selection,
]

ALGORITHMS: dict[str, Selector] = {"greedy": greedy}

__all__ = ["ALGORITHMS", "Limits", "Selection", "Selector", "greedy"]
