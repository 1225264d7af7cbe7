"""The versioned JSON contract of `advise` (documented in docs/json.md), and `load_advice`,
which reads a saved document back into the same values, so every report renders (and is
tested) without a database.

Bump SCHEMA_VERSION on any change that removes or renames a key; adding keys is compatible.
Lists are sorted so the same run gives the same document (but for `elapsed_s`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import (
    Advice,
    AdvisorConfig,
    Bounds,
    Candidate,
    Counters,
    DropCandidate,
    DropMethod,
    DropReason,
    DropVerdict,
    NotCosted,
    Outcome,
    Plan,
    Query,
    QueryChange,
    QueryResult,
    Recommendation,
    Rival,
    Sample,
    SelectionStep,
    Skipped,
    TableName,
    Verdict,
    Workload,
    WriteOverhead,
)
from ..model.errors import SourceError
from .validation_json import validation_from_dict, validation_to_dict

SCHEMA_VERSION = 2
TOOL = "indexadvisor"


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def advice_to_dict(advice: Advice) -> dict[str, Any]:
    """The whole advice as plain data, in the documented shape."""
    cfg = advice.config
    queries: list[dict[str, Any]] = [_result(r) for r in advice.results]
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
        "tool": {"name": TOOL, "version": advice.tool_version},
        "server": {"version": advice.server_version, "version_num": advice.server_version_num,
                   "hypopg": advice.hypopg_version},
        "settings": {
            "budget_bytes": cfg.budget_bytes, "max_indexes": cfg.max_indexes,
            "max_width": cfg.max_width, "min_gain": cfg.min_gain,
            "min_improvement": cfg.min_improvement, "algorithm": cfg.algorithm,
            "partial": cfg.partial, "covering": cfg.covering,
            "counter_weight": cfg.counter_weight, "knee": cfg.knee,
            "fill_budget": cfg.fill_budget,
            "statement_timeout_ms": cfg.statement_timeout_ms,
            "lock_timeout_ms": cfg.lock_timeout_ms,
        },
        "workload": {
            "statements": advice.workload.statements,
            "fingerprints": len(advice.workload.queries),
            "skipped": [_skipped(s) for s in advice.workload.skipped],
            "skipped_counts": dict(advice.workload.skipped_counts),
        },
        "summary": {
            "cost_before": _round(advice.cost_before),
            "cost_after": _round(advice.cost_after),
            "improvement_pct": round(advice.improvement_pct, 2),
            "index_bytes": advice.index_bytes,
            "indexes": len(advice.recommendations),
            "freed_bytes": advice.freed_bytes,
            "whatif_calls": advice.whatif_calls,
            "cache_requests": advice.cache_requests,
            "cache_hits": advice.cache_hits,
            "derived": advice.counters.derived,
            "whatif_by_stage": dict(advice.counters.by_stage),
            "sessions": advice.counters.sessions,
            "timed_out": advice.counters.timed_out,
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
                **_candidate(r.candidate),
                "label": r.candidate.label,
                "ddl": r.ddl,
                "size_bytes": r.size_bytes,
                "benefit": _round(r.benefit),
                "write_overhead": _round(r.write_overhead),
                "write_overhead_detail": _write_detail(r.write_detail),
                "queries": list(r.queries),
                "rivals": [{**_candidate(x.candidate), "label": x.candidate.label,
                            "benefit": _round(x.benefit), "size_bytes": x.size_bytes,
                            "write_overhead": _round(x.write_overhead)} for x in r.rivals],
            }
            for r in advice.recommendations
        ],
        "steps": [_step(s) for s in advice.steps],
        "drops": [_drop(d) for d in sorted(advice.drops,
                                           key=lambda d: (d.candidate.table, d.candidate.index))],
        "not_costed": [_not_costed(n) for n in advice.not_costed],
        "queries": queries,
        "validation": validation_to_dict(advice.validation, _candidate),
    }


def _result(r: QueryResult) -> dict[str, Any]:
    q = r.query
    return {
        "fingerprint": q.fingerprint,
        "sample": q.text,
        "source": q.source,
        "relations": list(q.relations),
        "calls": q.calls,
        "total_time_ms": q.total_time_ms,
        "max_time_ms": q.max_time_ms,
        "first_seen": q.first_seen,
        "last_seen": q.last_seen,
        "cost_before": _round(r.cost_before),
        "cost_after": _round(r.cost_after),
        "outcome": r.outcome.value,
        "reason": r.reason,
        "indexes_used": list(r.indexes_used),
        "plan_before": None if r.plan_before is None else r.plan_before.to_explain(),
        "plan_after": None if r.plan_after is None else r.plan_after.to_explain(),
    }


def _skipped(s: Skipped) -> dict[str, Any]:
    return {"source": s.source, "category": s.category, "reason": s.reason, "text": s.text,
            "outcome": s.outcome.value}


def _candidate(c: Candidate) -> dict[str, Any]:
    return {"table": str(c.table), "columns": list(c.columns), "include": list(c.include),
            "where": c.where, "method": c.method,
            "order": [order or "ASC" for order in c.orders]}


def _step(s: SelectionStep) -> dict[str, Any]:
    return {"added": _candidate(s.added), "added_label": s.added.label,
            "replaced": None if s.replaced is None else _candidate(s.replaced),
            "gain": _round(s.gain), "extra_bytes": s.extra_bytes,
            "cost_after": _round(s.cost_after), "bytes_after": s.bytes_after}


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


def _write_detail(d: WriteOverhead | None) -> dict[str, float | None] | None:
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
        "requires": [_candidate(r) for r in c.requires],
        "queries": list(d.queries),
        "changes": [{"fingerprint": q.fingerprint, "calls": q.calls, "before": _round(q.before),
                     "after": _round(q.after)} for q in d.changes],
    }


def _outcome_counts(queries: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in queries:
        counts[q["outcome"]] = counts.get(q["outcome"], 0) + 1
    return dict(sorted(counts.items()))


def render_json(advice: Advice) -> str:
    """The JSON document, indented, with a trailing newline."""
    return json.dumps(advice_to_dict(advice), indent=2, ensure_ascii=False) + "\n"


# -- reading a saved document back ----------------------------------------------------------


def load_advice(path: str | Path) -> Advice:
    """An `Advice` from a JSON document `render_json` wrote (this schema version).

    Raises SourceError, with what is wrong, for a file that is not such a document.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{path}: not JSON: {exc.msg} (line {exc.lineno})") from None
    return advice_from_dict(doc, str(path))


def advice_from_dict(doc: Any, where: str = "advice") -> Advice:
    """The inverse of `advice_to_dict`."""
    if not isinstance(doc, dict) or doc.get("tool", {}).get("name") != TOOL:
        raise SourceError(f"{where}: not an indexadvisor advice document",
                          hint="give a file written by `indexadvisor advise -o FILE.json`")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise SourceError(f"{where}: schema_version {version}, this indexadvisor reads "
                          f"{SCHEMA_VERSION}", hint="re-run advise with this version")
    try:
        return _advice(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{where}: malformed advice document: {type(exc).__name__}: "
                          f"{exc}") from None


def _advice(doc: Mapping[str, Any]) -> Advice:
    settings = doc["settings"]
    config = AdvisorConfig(**{k: settings[k] for k in (
        "budget_bytes", "max_indexes", "max_width", "min_gain", "min_improvement", "algorithm",
        "partial", "covering", "counter_weight", "statement_timeout_ms", "lock_timeout_ms")},
        **{k: settings[k] for k in ("knee", "fill_budget") if k in settings})
    entries = [q for q in doc["queries"] if q["fingerprint"] is not None]
    results = tuple(_load_result(q) for q in entries)
    workload_doc = doc["workload"]
    workload = Workload(
        queries=tuple(r.query for r in results),
        statements=int(workload_doc["statements"]),
        skipped=tuple(Skipped(s["source"], s["category"], s["text"], Outcome(s["outcome"]),
                              _detail(s["reason"], s["category"]))
                      for s in workload_doc["skipped"]),
        skipped_counts=tuple(sorted((k, int(v))
                                    for k, v in workload_doc["skipped_counts"].items())),
    )
    summary = doc["summary"]
    bounds = doc["bounds"]
    return Advice(
        tool_version=doc["tool"]["version"],
        server_version=doc["server"]["version"],
        server_version_num=int(doc["server"]["version_num"]),
        hypopg_version=doc["server"]["hypopg"],
        config=config,
        workload=workload,
        results=results,
        recommendations=tuple(_load_recommendation(r) for r in doc["recommendations"]),
        bounds=Bounds(float(bounds["no_index"] or 0.0), float(bounds["all_candidates"] or 0.0),
                      int(bounds["all_candidates_bytes"]), int(bounds["candidates"])),
        selection_stop=summary["stop_reason"],
        counters=Counters(int(summary["whatif_calls"]), int(summary["cache_requests"]),
                          int(summary["cache_hits"]), float(summary["elapsed_s"]),
                          int(summary.get("derived", 0)),
                          tuple(sorted(summary.get("whatif_by_stage", {}).items())),
                          int(summary.get("sessions", 1)),
                          bool(summary.get("timed_out", False))),
        steps=tuple(SelectionStep(_load_candidate(s["added"]),
                                  None if s["replaced"] is None
                                  else _load_candidate(s["replaced"]),
                                  float(s["gain"]), int(s["extra_bytes"]),
                                  float(s["cost_after"]), int(s["bytes_after"]))
                    for s in doc["steps"]),
        drops=tuple(_load_drop(d) for d in doc["drops"]),
        not_costed=tuple(NotCosted(TableName.parse(n["table"]), n["column"], n["method"],
                                   n["opclass"], tuple(n["operators"]), n["reason"], n["ddl"],
                                   tuple(n["queries"]), n["extension"])
                         for n in doc["not_costed"]),
        validation=validation_from_dict(doc.get("validation"), _load_candidate),
    )


def _detail(reason: str, category: str) -> str:
    return reason[len(category) + 2:] if reason.startswith(category + ": ") else ""


def _load_candidate(c: Mapping[str, Any]) -> Candidate:
    order = tuple("" if o == "ASC" else o for o in c.get("order") or ())  # absent before
    return Candidate(TableName.parse(c["table"]), tuple(c["columns"]), tuple(c["include"]),
                     c["where"], c["method"], order)


def _load_result(q: Mapping[str, Any]) -> QueryResult:
    query = Query(
        fingerprint=q["fingerprint"], text=q["sample"], relations=tuple(q["relations"]),
        calls=int(q["calls"]), total_time_ms=q["total_time_ms"],
        samples=(Sample(q["sample"], q["source"]),), max_time_ms=q.get("max_time_ms"),
        first_seen=q.get("first_seen"), last_seen=q.get("last_seen"))
    plans = [None if q.get(k) is None else Plan.from_explain(q[k])
             for k in ("plan_before", "plan_after")]
    return QueryResult(query, Outcome(q["outcome"]), q["reason"], q["cost_before"],
                       q["cost_after"], tuple(q["indexes_used"]), plans[0], plans[1])


def _load_recommendation(r: Mapping[str, Any]) -> Recommendation:
    detail = r["write_overhead_detail"]
    return Recommendation(
        candidate=_load_candidate(r), ddl=r["ddl"], size_bytes=int(r["size_bytes"]),
        benefit=float(r["benefit"]), write_overhead=float(r["write_overhead"]),
        queries=tuple(r["queries"]),
        rivals=tuple(Rival(_load_candidate(x), float(x["benefit"]), int(x["size_bytes"]),
                           float(x["write_overhead"])) for x in r.get("rivals", ())),
        write_detail=None if detail is None else WriteOverhead(
            detail["inserts"], detail["updates"], detail["lost_hot"], detail["deletes"]))


def _load_drop(d: Mapping[str, Any]) -> DropVerdict:
    table = TableName.parse(d["table"])
    index = d["index"]
    parts = index.split(".", 1)
    candidate = DropCandidate(
        index=index, table=table, reason=DropReason(d["reason"]), detail=d["detail"],
        size_bytes=int(d["size_bytes"]), ddl=d["ddl"], kept_by=d["kept_by"],
        requires=tuple(_load_candidate(c) for c in d["requires"]),
        schema=parts[0] if len(parts) == 2 else "", name=parts[-1])
    changes = tuple(QueryChange(c["fingerprint"], "", "", int(c["calls"]), float(c["before"]),
                                float(c["after"])) for c in d["changes"])
    return DropVerdict(candidate, Verdict(d["verdict"]), bool(d["measured"]), d["cost_change"],
                       d["verdict_reason"], DropMethod(d["method"]), changes,
                       float(d["write_saving"]), tuple(d["queries"]))
