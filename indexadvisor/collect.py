"""Group statements into queries: fingerprint (libpg_query) plus the relation set.

pglast gives `FROM orders o` and `FROM invoices o` the same fingerprint, so the grouping key
also holds the relations the statement names; two statements on different tables never merge.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from .analyze import StatementError, parse_statement
from .model import Outcome, Query, Sample, Skipped, Statement, Workload

MAX_SAMPLES = 3


@dataclass
class _Group:
    """Mutable accumulator, private to this pass; frozen into a Query at the end."""

    text: str
    relations: tuple[str, ...]
    kind: str
    order: int
    calls: int = 0
    total_time_ms: float | None = None
    samples: list[Sample] = field(default_factory=list)


def query_fingerprint(fingerprint: str, relations: tuple[str, ...]) -> str:
    """The grouping key as one string: libpg_query's fingerprint, then the relation set's hash.

    >>> a = query_fingerprint("d73a1cd084f9bd7e", ("orders",))
    >>> b = query_fingerprint("d73a1cd084f9bd7e", ("invoices",))
    >>> a.split("-")[0] == b.split("-")[0], a == b
    (True, False)
    """
    digest = hashlib.sha1("\x00".join(relations).encode()).hexdigest()[:8]
    return f"{fingerprint}-{digest}"


def collect(items: Iterable[Statement | Skipped], max_samples: int = MAX_SAMPLES) -> Workload:
    """Fingerprint, group and weight statements; unusable ones become `Skipped` with a reason."""
    groups: dict[str, _Group] = {}
    skipped: list[Skipped] = []
    statements = 0
    for item in items:
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        statements += 1
        try:
            parsed = parse_statement(item.text)
        except StatementError as exc:
            skipped.append(Skipped(item.source, f"unparseable: {exc.message}", item.text))
            continue
        if parsed.kind == "utility":
            skipped.append(Skipped(item.source, "utility statement: nothing to index", item.text,
                                   Outcome.NOT_ADVISED))
            continue
        key = query_fingerprint(parsed.fingerprint, parsed.relations)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(item.text, parsed.relations, parsed.kind, len(groups))
        group.calls += item.calls
        if item.total_time_ms is not None:
            group.total_time_ms = (group.total_time_ms or 0.0) + item.total_time_ms
        if len(group.samples) < max_samples and all(
            s.text != item.text or s.params != item.params for s in group.samples
        ):
            group.samples.append(Sample(item.text, item.source, item.params))
    queries = tuple(
        Query(
            fingerprint=key,
            text=group.text,
            relations=group.relations,
            calls=group.calls,
            total_time_ms=group.total_time_ms,
            samples=tuple(group.samples),
            is_select=group.kind == "select",
        )
        for key, group in sorted(groups.items(), key=lambda kv: kv[1].order)
    )
    return Workload(queries=queries, statements=statements, skipped=tuple(skipped))
