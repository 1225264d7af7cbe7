"""Group statements into queries: fingerprint (libpg_query) plus the relation set.

pglast gives `FROM orders o` and `FROM invoices o` the same fingerprint, so the grouping key
also holds the relations the statement names; two statements on different tables never merge.

Memory is bounded by the number of groups: per group a few samples, per skip reason a few
examples (every skip is still counted in `Workload.skipped_counts`).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..model import Outcome, Query, Sample, Skipped, Statement, Workload
from ..sql.parse import StatementError, parse_statement

MAX_SAMPLES = 3
MAX_SKIPPED_EXAMPLES = 50  # per reason category; the counts are exact


@dataclass
class _Group:
    """Mutable accumulator, private to this pass; frozen into a Query at the end."""

    text: str
    relations: tuple[str, ...]
    kind: str
    order: int
    calls: int = 0
    total_time_ms: float | None = None
    max_time_ms: float | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    rows: int | None = None
    queryids: set[int] = field(default_factory=set)
    samples: list[Sample] = field(default_factory=list)

    def add(self, item: Statement, max_samples: int) -> None:
        self.calls += item.calls
        if item.total_time_ms is not None:
            self.total_time_ms = (self.total_time_ms or 0.0) + item.total_time_ms
        top = item.max_time_ms
        if top is None and item.total_time_ms is not None and item.calls == 1:
            top = item.total_time_ms
        if top is not None and (self.max_time_ms is None or top > self.max_time_ms):
            self.max_time_ms = top
        if item.first_seen is not None and (self.first_seen is None
                                            or item.first_seen < self.first_seen):
            self.first_seen = item.first_seen
        if item.last_seen is not None and (self.last_seen is None
                                           or item.last_seen > self.last_seen):
            self.last_seen = item.last_seen
        if item.rows is not None:
            self.rows = (self.rows or 0) + item.rows
        if item.queryid is not None and len(self.queryids) < 16:
            self.queryids.add(item.queryid)
        if len(self.samples) < max_samples and all(
            s.text != item.text or s.params != item.params for s in self.samples
        ):
            self.samples.append(Sample(item.text, item.source, item.params, item.plan))


def query_fingerprint(fingerprint: str, relations: tuple[str, ...]) -> str:
    """The grouping key as one string: libpg_query's fingerprint, then the relation set's hash.

    >>> a = query_fingerprint("d73a1cd084f9bd7e", ("orders",))
    >>> b = query_fingerprint("d73a1cd084f9bd7e", ("invoices",))
    >>> a.split("-")[0] == b.split("-")[0], a == b
    (True, False)
    """
    digest = hashlib.sha1("\x00".join(relations).encode()).hexdigest()[:8]
    return f"{fingerprint}-{digest}"


class _Skips:
    def __init__(self, max_examples: int) -> None:
        self.max_examples = max_examples
        self.examples: list[Skipped] = []
        self.counts: Counter[str] = Counter()  # records skipped, by category
        self.kept: Counter[str] = Counter()  # examples kept, by category

    def add(self, item: Skipped, records: int = 1) -> None:
        category = item.category
        self.counts[category] += records
        if self.kept[category] < self.max_examples:
            self.kept[category] += 1
            self.examples.append(item)


def collect(items: Iterable[Statement | Skipped], max_samples: int = MAX_SAMPLES, *,
            min_calls: int = 0, min_time_ms: float = 0.0, top: int | None = None,
            max_skipped_examples: int = MAX_SKIPPED_EXAMPLES) -> Workload:
    """Fingerprint, group and weight statements; unusable ones become `Skipped` with a reason.

    `min_calls`, `min_time_ms` (total time) and `top` (the N groups with the most total time,
    then the most calls) drop groups after grouping.
    """
    groups: dict[str, _Group] = {}
    skips = _Skips(max_skipped_examples)
    statements = 0
    for item in items:
        if isinstance(item, Skipped):
            skips.add(item)
            continue
        statements += item.records
        try:
            parsed = parse_statement(item.text)
        except StatementError as exc:
            if item.records:  # (an extra sample of a shape already counted has none)
                skips.add(Skipped(item.source, "unparseable", item.text, detail=exc.message),
                          item.records)
            continue
        if parsed.kind == "utility":
            if item.records:
                skips.add(Skipped(item.source, "utility statement", item.text,
                                  Outcome.NOT_ADVISED, "nothing to index"), item.records)
            continue
        key = query_fingerprint(parsed.fingerprint, parsed.relations)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(item.text, parsed.relations, parsed.kind, len(groups))
        group.add(item, max_samples)
    kept = [(key, g) for key, g in sorted(groups.items(), key=lambda kv: kv[1].order)
            if g.calls >= min_calls and (g.total_time_ms or 0.0) >= min_time_ms]
    if top is not None:
        ranked = sorted(kept, key=lambda kv: (-(kv[1].total_time_ms or 0.0), -kv[1].calls,
                                              kv[1].order))
        chosen = {key for key, _ in ranked[:top]}
        kept = [(key, g) for key, g in kept if key in chosen]
    queries = tuple(_query(key, group) for key, group in kept)
    return Workload(queries=queries, statements=statements, skipped=tuple(skips.examples),
                    skipped_counts=tuple(sorted(skips.counts.items())))


def _query(key: str, group: _Group) -> Query:
    return Query(
        fingerprint=key,
        text=group.text,
        relations=group.relations,
        calls=group.calls,
        total_time_ms=group.total_time_ms,
        samples=tuple(group.samples),
        is_select=group.kind == "select",
        max_time_ms=group.max_time_ms,
        first_seen=group.first_seen,
        last_seen=group.last_seen,
        queryids=tuple(sorted(group.queryids)),
        rows=group.rows,
    )

