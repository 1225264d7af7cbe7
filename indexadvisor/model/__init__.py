"""Frozen values shared by every layer: the workload, candidates, plans, costs, advice, drops,
settings and errors. Nothing here does I/O, and nothing here imports psycopg, pglast or sqlglot:
a saved report renders from these values alone.
"""

from .advice import (
    Advice,
    Bounds,
    Counters,
    NotCosted,
    QueryResult,
    Recommendation,
    Rival,
    SelectionStep,
    WriteOverhead,
)
from .candidate import Candidate
from .config import AdvisorConfig, format_size, parse_duration, parse_size
from .cost import Cost, CostedQuery, CostModel, is_relevant
from .drops import DropCandidate, DropMethod, DropReason, DropVerdict, QueryChange, Verdict
from .errors import AdvisorError
from .names import TableName, is_expression, key_sql, quote_ident, short
from .outcome import Outcome
from .plan import Actual, Plan, PlanNode
from .uses import EQUALITY, LEADING, RANGE, SORT, ColumnUse, UseKind
from .validation import (
    BuiltIndex,
    Flag,
    Measurement,
    QueryCheck,
    Validation,
    ValidationRound,
    ValidationSettings,
    Withdrawal,
)
from .workload import Query, Sample, Skipped, Statement, Workload

__all__ = [
    "EQUALITY",
    "LEADING",
    "RANGE",
    "SORT",
    "Actual",
    "Advice",
    "AdvisorConfig",
    "AdvisorError",
    "Bounds",
    "BuiltIndex",
    "Candidate",
    "ColumnUse",
    "Cost",
    "CostModel",
    "CostedQuery",
    "Counters",
    "DropCandidate",
    "DropMethod",
    "DropReason",
    "DropVerdict",
    "Flag",
    "Measurement",
    "NotCosted",
    "Outcome",
    "Plan",
    "PlanNode",
    "Query",
    "QueryChange",
    "QueryCheck",
    "QueryResult",
    "Recommendation",
    "Rival",
    "Sample",
    "SelectionStep",
    "Skipped",
    "Statement",
    "TableName",
    "UseKind",
    "Validation",
    "ValidationRound",
    "ValidationSettings",
    "Verdict",
    "Withdrawal",
    "Workload",
    "WriteOverhead",
    "format_size",
    "is_expression",
    "is_relevant",
    "key_sql",
    "parse_duration",
    "parse_size",
    "quote_ident",
    "short",
]
