"""Frozen settings of one run (read from the command line and pyproject.toml by `cli.settings`).

>>> parse_size("500MB"), parse_size("1.5 GiB"), parse_size("2048")
(500000000, 1610612736, 2048)
>>> format_size(1536)
'1.5 KiB'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .errors import ConfigError

_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes from `500MB`, `1.5GiB`, `2g`, `1048576` (SI and binary units)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else None
    if not match or unit not in _UNITS:
        raise ConfigError(f"invalid size {text!r}", hint="use e.g. 500MB, 2GB, 1.5GiB or bytes")
    return int(float(match.group(1)) * _UNITS[unit])


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$", re.IGNORECASE)
_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration(text: str | float) -> float | None:
    """Seconds from ``60s``, ``1.5m``, ``500ms``, ``90``; ``0``, ``none`` and ``off`` mean no
    limit (None).

    >>> parse_duration("60s"), parse_duration("1.5m"), parse_duration("off"), parse_duration(5)
    (60.0, 90.0, None, 5.0)
    """
    if isinstance(text, int | float):
        return float(text) if text > 0 else None
    if text.strip().lower() in ("none", "off", "no"):
        return None
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"invalid duration {text!r}", hint="use e.g. 60s, 2m, 500ms or 0 for "
                          "no limit")
    seconds = float(match.group(1)) * _SECONDS[(match.group(2) or "").lower() or None]
    return seconds if seconds > 0 else None


def format_size(n: float) -> str:
    """Human-readable binary size."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class AdvisorConfig:
    """Everything that steers one run of the advisor."""

    budget_bytes: int | None = None
    max_indexes: int | None = None
    max_width: int = 3
    min_gain: float = 0.01  # a move must save this fraction of the affected queries' cost
    min_improvement: float = 0.05  # a query counts as improved from this saving on
    algorithm: str = "greedy"
    partial: bool = True  # propose partial indexes for repeated selective filters
    covering: bool = True  # propose INCLUDE variants for index-only scans
    # Write counters (pg_stat_user_tables) stand in for the writes of tables the workload does
    # not write: one counted row weighs as this many rows of the workload's calls, on top of
    # the ratio of the two windows where both are known (writes.counter_loads). 1.0 assumes
    # the workload's calls and the counters cover the same time; 0 ignores the counters.
    counter_weight: float = 1.0
    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 1_000
    # The knee rule (selection/knee.py): an index must cut what the workload still costs by at
    # least `knee` times its share of the bytes of the tables the workload reads; the search
    # stops where none does, below the budget or without one. `fill_budget` turns it off.
    knee: float = 0.05
    fill_budget: bool = False
    # Speed (pipeline/probe.py, explain/costs.py): rounds of probing each query for the
    # candidates its planner picks (0: cost every relevant pair); HypoPG sessions costing in
    # parallel; seconds the whole run may take before the search returns its best set so far
    # (None: no limit).
    probe_rounds: int = 3
    jobs: int = 1
    time_limit_s: float | None = None
    # What-if shortcuts, on by default; off only to measure what each saves
    # (benchmarks/scale): costs derived from plans that leave candidates unused
    # (explain/costs.py), moves skipped by upper bounds from the probes' floors (greedy.py).
    derive_costs: bool = True
    bound_moves: bool = True

    def __post_init__(self) -> None:
        if self.max_width < 1:
            raise ConfigError("max_width must be at least 1")
        if self.budget_bytes is not None and self.budget_bytes < 0:
            raise ConfigError("budget must not be negative")
        if self.max_indexes is not None and self.max_indexes < 0:
            raise ConfigError("max_indexes must not be negative")
        if self.counter_weight < 0:
            raise ConfigError("counter_weight must not be negative")
        if self.knee < 0:
            raise ConfigError("knee must not be negative", hint="0 or --fill-budget turns the "
                              "knee rule off")
        if self.probe_rounds < 0:
            raise ConfigError("probe_rounds must not be negative")
        if self.jobs < 1:
            raise ConfigError("jobs must be at least 1")
        if self.time_limit_s is not None and self.time_limit_s <= 0:
            raise ConfigError("the time limit must be positive", hint="omit it for no limit")
        if not 0 <= self.min_gain < 1 or not 0 <= self.min_improvement < 1:
            raise ConfigError("min_gain and min_improvement are fractions in [0, 1)")

    def with_options(self, **options: Any) -> AdvisorConfig:
        """A copy with the given options set (None means: keep)."""
        return replace(self, **{k: v for k, v in options.items() if v is not None})
