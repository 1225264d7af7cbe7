"""The versioned JSON contract of `advise` (documented in docs/json.md).

Bump SCHEMA_VERSION on any change that removes or renames a key; adding keys is compatible.
Lists are sorted so the same run gives the same document (but for `elapsed_s`).
"""

from __future__ import annotations

import json
from typing import Any

from ..access_methods import NotCosted
from ..advise import Advice
from ..dropsim import DropVerdict
from ..model import Recommendation

SCHEMA_VERSION = 1


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def advice_to_dict(advice: Advice) -> dict[str, Any]:
    """The whole advice as plain data, in the documented shape."""
    cfg = advice.config
    skipped = [
        {"source": s.source, "reason": s.reason, "text": s.text, "outcome": s.outcome.value}
        for s in advice.workload.skipped
    ]
    queries: list[dict[str, Any]] = [
        {
            "fingerprint": r.query.fingerprint,
            "sample": r.query.text,
            "source": r.query.source,
            "relations": list(r.query.relations),
            "calls": r.query.calls,
            "total_time_ms": r.query.total_time_ms,
            "cost_before": _round(r.cost_before),
            "cost_after": _round(r.cost_after),
            "outcome": r.outcome.value,
            "reason": r.reason,
            "indexes_used": list(r.indexes_used),
        }
        for r in advice.results
    ]
    queries += [
        {
            "fingerprint": None, "sample": s.text, "source": s.source, "relations": [],
            "calls": 1, "total_time_ms": None, "cost_before": None, "cost_after": None,
            "outcome": s.outcome.value, "reason": s.reason, "indexes_used": [],
        }
        for s in advice.workload.skipped
        if s.text  # a statement; file-level notes stay in workload.skipped only
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "indexadvisor", "version": advice.tool_version},
        "server": {"version": advice.server_version, "version_num": advice.server_version_num,
                   "hypopg": advice.hypopg_version},
        "settings": {
            "budget_bytes": cfg.budget_bytes, "max_indexes": cfg.max_indexes,
            "max_width": cfg.max_width, "min_gain": cfg.min_gain,
            "min_improvement": cfg.min_improvement, "algorithm": cfg.algorithm,
            "statement_timeout_ms": cfg.statement_timeout_ms,
            "lock_timeout_ms": cfg.lock_timeout_ms,
        },
        "workload": {
            "statements": advice.workload.statements,
            "fingerprints": len(advice.workload.queries),
            "skipped": skipped,
        },
        "summary": {
            "cost_before": _round(advice.cost_before),
            "cost_after": _round(advice.cost_after),
            "improvement_pct": round(advice.improvement_pct, 2),
            "index_bytes": advice.index_bytes,
            "indexes": len(advice.recommendations),
            "whatif_calls": advice.whatif_calls,
            "cache_requests": advice.cache_requests,
            "cache_hits": advice.cache_hits,
            "elapsed_s": round(advice.elapsed_s, 3),
            "stop_reason": advice.selection_stop,
            "outcomes": _outcome_counts(queries),
        },
        "bounds": {
            "no_index": _round(advice.bounds.no_index),
            "all_candidates": _round(advice.bounds.all_candidates),
            "all_candidates_bytes": advice.bounds.all_candidates_bytes,
            "candidates": advice.bounds.candidates,
        },
        "recommendations": [
            {
                "table": str(r.candidate.table),
                "columns": list(r.candidate.columns),
                "include": list(r.candidate.include),
                "where": r.candidate.where,
                "method": r.candidate.method,
                "ddl": r.ddl,
                "size_bytes": r.size_bytes,
                "benefit": _round(r.benefit),
                "write_overhead": _round(r.write_overhead),
                "write_overhead_detail": _write_detail(r),
                "queries": list(r.queries),
            }
            for r in advice.recommendations
        ],
        "drops": [_drop(d) for d in sorted(advice.drops,
                                           key=lambda d: (d.candidate.table, d.candidate.index))],
        "not_costed": [_not_costed(n) for n in advice.not_costed],
        "queries": queries,
    }


def _not_costed(n: NotCosted) -> dict[str, Any]:
    """A proposal HypoPG cannot cost (GIN): never in the budget, benefit or summary."""
    return {
        "table": str(n.table),
        "column": n.column,
        "method": n.method,
        "opclass": n.opclass,
        "operators": list(n.operators),
        "extension": n.extension,
        "reason": n.reason,
        "ddl": n.ddl,
        "queries": list(n.queries),
    }


def _write_detail(r: Recommendation) -> dict[str, float | None] | None:
    d = r.write_detail
    if d is None:
        return None
    return {"inserts": _round(d.inserts), "updates": _round(d.updates),
            "lost_hot": _round(d.lost_hot), "deletes": _round(d.deletes)}


def _drop(d: DropVerdict) -> dict[str, Any]:
    c = d.candidate
    return {
        "index": c.index,
        "table": str(c.table),
        "reason": c.reason.value,
        "detail": c.detail,
        "ddl": c.ddl,
        "size_bytes": c.size_bytes,
        "cost_change": _round(d.cost_change),
        "write_saving": _round(d.write_saving),
        "measured": d.measured,
        "verdict": d.verdict.value,
        "verdict_reason": d.reason,
        "method": d.method.value,
        "kept_by": c.kept_by,
        "requires": [r.label for r in c.requires],
        "queries": list(d.queries),
    }


def _outcome_counts(queries: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in queries:
        counts[q["outcome"]] = counts.get(q["outcome"], 0) + 1
    return dict(sorted(counts.items()))


def render_json(advice: Advice) -> str:
    """The JSON document, indented, with a trailing newline."""
    return json.dumps(advice_to_dict(advice), indent=2, ensure_ascii=False) + "\n"
