"""Group statements into queries: fingerprint (libpg_query) plus the relation set.

pglast gives `FROM orders o` and `FROM invoices o` the same fingerprint, so the grouping key
also holds the relations the statement names; two statements on different tables never merge.

Memory is bounded by the number of groups: per group a few samples, per skip reason a few
examples (every skip is still counted in `Workload.skipped_counts`). The grouping itself is a
`summary.Summary`; `collect` feeds it a stream in order (the n-th item is at position n).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Skipped, Statement, Workload
from .summary import MAX_SAMPLES, MAX_SKIPPED_EXAMPLES, Summary, query_fingerprint

__all__ = ["MAX_SAMPLES", "MAX_SKIPPED_EXAMPLES", "collect", "query_fingerprint"]


def collect(items: Iterable[Statement | Skipped], max_samples: int = MAX_SAMPLES, *,
            min_calls: int = 0, min_time_ms: float = 0.0, top: int | None = None,
            max_skipped_examples: int = MAX_SKIPPED_EXAMPLES) -> Workload:
    """Fingerprint, group and weight statements; unusable ones become `Skipped` with a reason.

    `min_calls`, `min_time_ms` (total time) and `top` (the N groups with the most total time,
    then the most calls) drop groups after grouping.

    >>> w = collect([Statement("SELECT 1 FROM t", "a.sql:1"), Statement("BEGIN", "a.sql:2")])
    >>> [q.text for q in w.queries], [s.category for s in w.skipped]
    (['SELECT 1 FROM t'], ['utility statement'])
    """
    summary = Summary(max_samples, max_skipped_examples)
    for n, item in enumerate(items):
        if isinstance(item, Skipped):
            summary.add_skip(item, n)
        else:
            summary.add_statement(item, n)
    return summary.workload(min_calls=min_calls, min_time_ms=min_time_ms, top=top)
