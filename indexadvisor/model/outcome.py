"""What happened to a query: every query in a report has exactly one outcome."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """The verdict on one statement of the workload."""

    IMPROVED = "improved"
    ALREADY_OPTIMAL = "already_optimal"
    NO_CANDIDATE = "no_candidate"
    BELOW_THRESHOLD = "below_threshold"
    OVER_BUDGET = "over_budget"
    WRITE_COST = "write_cost_too_high"
    NOT_COSTABLE = "not_costable"
    UNKNOWN_TABLE = "unknown_table"
    UNPARSEABLE = "unparseable"
    NOT_ADVISED = "not_advised"
    WITHDRAWN = "withdrawn"  # its index made it slower when built and run (advise --validate)
