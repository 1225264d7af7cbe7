"""How EXPLAIN fails: the statement's own fault (`StatementNotCostable`, a verdict for that one
query) or ours (`CostingError` and its kind `CandidateRefused`, an error for the run)."""

from __future__ import annotations

from ..model import Candidate
from ..model.errors import CostingError


class StatementNotCostable(Exception):
    """EXPLAIN rejected the statement itself (its fault, not ours): carries the server's words."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.sqlstate = sqlstate  # e.g. 57014: canceled (statement_timeout)

    @property
    def timed_out(self) -> bool:
        return self.sqlstate == QUERY_CANCELED


QUERY_CANCELED = "57014"


class CandidateRefused(CostingError):
    """The server would not create a hypothetical index: e.g. a function in its expression is
    not IMMUTABLE (``date_trunc`` or ``::date`` on timestamptz depend on the TimeZone)."""

    def __init__(self, candidate: Candidate, reason: str) -> None:
        super().__init__(f"HypoPG refused {candidate.label}: {reason}")
        self.candidate = candidate
        self.reason = reason
