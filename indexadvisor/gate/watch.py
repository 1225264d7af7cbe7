"""The statements the gate watches: every distinct statement of the workload, keyed stably.

A workload query (a fingerprint and relation set, `ingest.collect`) is watched through its
samples: the first is keyed by the query's fingerprint, each further distinct text or set of
parameter values (a constant that selects 1% of the rows plans differently from one that
selects half of them) by the fingerprint and a digest of that text and those values. Keys
depend only on the statement, so a baseline matches across runs whatever the file order.

>>> from indexadvisor.model import Query, Sample
>>> q = Query("f00-1", "SELECT 1", (), 5, None,
...           (Sample("SELECT 1", "a.sql:1"), Sample("SELECT 2", "a.sql:4")))
>>> [(w.key, str(w.location), w.calls) for w in watched_statements([q])]
[('f00-1', 'a.sql:1', 5), ('f00-1~dac1f488', 'a.sql:4', 5)]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import Query
from ..model.gate import Location
from ..sql.parse import StatementError, parse_statement


@dataclass(frozen=True)
class Watched:
    """One statement the gate plans before and after a migration."""

    key: str
    query: Query
    text: str
    params: tuple[str | None, ...]
    location: Location
    calls: int
    param_count: int = 0
    kind: str = "select"


def variant_key(fingerprint: str, text: str, params: tuple[str | None, ...]) -> str:
    """The key of a further variant of a fingerprint: a digest of its text and values."""
    raw = text + "\x00" + "\x00".join("\x01" if p is None else p for p in params)
    return f"{fingerprint}~{hashlib.sha1(raw.encode()).hexdigest()[:8]}"


def watched_statements(queries: Iterable[Query], variants: int = 3) -> list[Watched]:
    """Up to `variants` distinct samples of each query, sorted by key."""
    out: list[Watched] = []
    for query in queries:
        samples = query.samples or ()
        seen: set[tuple[str, tuple[str | None, ...]]] = set()
        for n, sample in enumerate(samples):
            ident = (sample.text, sample.params)
            if ident in seen or len(seen) >= max(1, variants):
                continue
            seen.add(ident)
            try:
                parsed = parse_statement(sample.text)
            except StatementError:
                continue
            key = query.fingerprint if n == 0 else variant_key(query.fingerprint, *ident)
            out.append(Watched(key, query, sample.text, sample.params,
                               Location.parse(sample.source), query.calls,
                               parsed.param_count, parsed.kind))
    return sorted(out, key=lambda w: w.key)
