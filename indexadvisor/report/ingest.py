"""The report of `indexadvisor ingest`: the workload summary a log analyser gives.

JSON is versioned (`INGEST_SCHEMA_VERSION`, documented in docs/ingest.md): keys are only added
within a version. Groups are sorted by total time, then calls, then fingerprint. What a merge of
summaries needs beyond the report (positions, exact times, every skip example kept) comes as
plain data (`merge`, made by `ingest.summary_json.merge_fields`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..model import Query, Workload, short

if TYPE_CHECKING:
    from rich.console import Console

INGEST_SCHEMA_VERSION = 2
INGEST_KIND = "ingest-summary"
EXAMPLES_PER_REASON = 5


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def ranked(workload: Workload) -> list[Query]:
    """Queries by total time (untimed last), then calls, then fingerprint."""
    return sorted(workload.queries,
                  key=lambda q: (-(q.total_time_ms or 0.0), -q.calls, q.fingerprint))


def ingest_to_dict(workload: Workload, sources: Sequence[str],
                   merge: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The summary as plain data, in the documented shape (with `merge`: mergeable)."""
    merge = merge or {}
    extra: Mapping[str, Any] = merge.get("groups", {})
    examples: dict[str, list[dict[str, str]]] = {}
    for s in workload.skipped:
        bucket = examples.setdefault(s.category, [])
        if len(bucket) < EXAMPLES_PER_REASON:
            bucket.append({"source": s.source, "reason": s.reason, "text": s.text[:500]})
    counts = dict(workload.skipped_counts)
    groups = []
    for q in ranked(workload):
        sample = q.samples[0] if q.samples else None
        more = dict(extra.get(q.fingerprint, {}))
        more_samples = more.pop("samples", [{} for _ in q.samples])
        groups.append({
            "fingerprint": q.fingerprint,
            "relations": list(q.relations),
            "kind": "select" if q.is_select else "write",
            "calls": q.calls,
            "total_time_ms": _ms(q.total_time_ms),
            "mean_time_ms": _ms(q.mean_time_ms),
            "max_time_ms": _ms(q.max_time_ms),
            "first_seen": q.first_seen,
            "last_seen": q.last_seen,
            "queryids": [str(i) for i in q.queryids],
            "sample": q.text,
            "source": q.source,
            "params": list(sample.params) if sample else [],
            "plan": sample.plan if sample else None,
            "samples": [{"text": s.text, "source": s.source, "params": list(s.params), **m}
                        for s, m in zip(q.samples, more_samples, strict=True)],
            **more,
        })
    return {
        "schema_version": INGEST_SCHEMA_VERSION,
        "kind": INGEST_KIND,
        "tool": {"name": "indexadvisor", "version": __version__},
        "sources": list(sources),
        **{k: merge[k] for k in ("files", "filters", "max_samples") if k in merge},
        "statements": workload.statements,
        "fingerprints": len(workload.queries),
        "total_time_ms": _ms(sum(q.total_time_ms or 0.0 for q in workload.queries)),
        "skipped": {
            "total": sum(counts.values()),
            "by_reason": counts,
            "examples": [e for reason in sorted(examples) for e in examples[reason]],
            **({"kept": merge["kept"]} if "kept" in merge else {}),
        },
        "groups": groups,
    }


def render_ingest_json(workload: Workload, sources: Sequence[str],
                       merge: Mapping[str, Any] | None = None) -> str:
    """The JSON document (see `ingest_to_dict`)."""
    return json.dumps(ingest_to_dict(workload, sources, merge), indent=2,
                      ensure_ascii=False) + "\n"



def _num(x: float | None, digits: int = 2) -> str:
    return "" if x is None else f"{x:,.{digits}f}"


def render_ingest_table(workload: Workload, console: Console, limit: int = 30) -> None:
    """Top statements by total time, with calls, mean, max and a sample; then the skips."""
    from rich.console import Group  # (imported here: JSON output needs none of rich)
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    total = sum(q.total_time_ms or 0.0 for q in workload.queries)
    skipped = sum(n for _, n in workload.skipped_counts)
    seen = [q.first_seen for q in workload.queries if q.first_seen] + \
        [q.last_seen for q in workload.queries if q.last_seen]
    span = f"  ·  {min(seen)} .. {max(seen)}" if seen else ""
    console.print(Panel(Text.assemble(
        ("indexadvisor ingest", "bold"),
        f"\n{workload.statements:,} statements, {len(workload.queries):,} distinct, "
        f"{skipped:,} skipped  ·  total time {total:,.1f} ms{span}"), expand=False))
    table = Table(title=f"Top statements by total time (of {len(workload.queries):,})",
                  title_justify="left")
    for name in ("#", "total ms", "%", "calls", "mean ms", "max ms"):
        table.add_column(name, justify="right")
    table.add_column("statement (sample)")
    for n, q in enumerate(ranked(workload)[:limit], 1):
        share = f"{100 * (q.total_time_ms or 0.0) / total:.1f}" if total else ""
        params = q.samples[0].params if q.samples else ()
        extra = f"  params: {', '.join('NULL' if p is None else repr(p) for p in params)}" \
            if params else ""
        table.add_row(str(n), _num(q.total_time_ms), share, f"{q.calls:,}",
                      _num(q.mean_time_ms, 3), _num(q.max_time_ms, 3),
                      Group(short(q.text, 90), Text(short(f"{q.source}{extra}", 120), style="dim")))
    console.print(table)
    if workload.skipped_counts:
        skips = Table(title="Skipped", title_justify="left")
        skips.add_column("reason")
        skips.add_column("count", justify="right")
        skips.add_column("examples")
        examples: dict[str, list[str]] = {}
        for s in workload.skipped:
            examples.setdefault(s.category, []).append(s.source)
        for reason, count in workload.skipped_counts:
            skips.add_row(reason, f"{count:,}", ", ".join(examples.get(reason, [])[:3]))
        console.print(skips)
