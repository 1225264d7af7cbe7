"""Validation by real execution: the recommended indexes built in one transaction that is never
committed, each affected statement run under EXPLAIN (ANALYZE, BUFFERS) without and with them,
and the selection run again without an index that made a statement slower for real."""

from .rounds import ValidationTarget, validate

__all__ = ["ValidationTarget", "validate"]
