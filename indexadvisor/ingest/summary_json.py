"""The ingest summary as JSON and back: what `indexadvisor ingest --format json` writes so that
summaries of several machines' logs merge into one workload (docs/ingest.md, schema 2).

`merge_fields` gives what a merge needs beyond the report (`report/ingest.py` renders the
rest): the files read, each group's exact time and first position, every sample's position
and plan, the group's earliest plan, and every skip example kept (up to 50 per reason, with
its position). `load_summary` reads a summary back as a `Summary`, so `merge` puts it
together with logs or other summaries exactly as if all their logs had been read at once.
Positions are `[file, line]`, the file an index into `files`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import Outcome, Skipped, Workload
from ..model.errors import SourceError
from .summary import LINE_BITS, Group, Kept, Summary, line_of, position, small_ids

SCHEMA_VERSION = 2
KIND = "ingest-summary"
TEXT_LIMIT = 500  # skip example texts, as in the report


def _at(pos: int) -> list[int]:
    return [pos >> LINE_BITS, line_of(pos)]


def _pos(value: Any) -> int:
    file, line = value
    return position(int(file), int(line))


def _sample(kept: Kept, summary: Summary) -> dict[str, Any]:
    pos, text, params, plan, source = kept
    return {"text": text, "source": source or summary.source(pos), "params": list(params),
            "plan": plan, "position": _at(pos)}


def merge_fields(summary: Summary, workload: Workload, filters: Mapping[str, Any],
                 ) -> dict[str, Any]:
    """Plain data for `report.ingest.ingest_to_dict(..., merge=...)`: top-level keys, then per
    group (by fingerprint) its keys and its samples' keys (in the order of its samples)."""
    groups: dict[str, dict[str, Any]] = {}
    for query in workload.queries:
        group = summary.groups[query.fingerprint]
        groups[query.fingerprint] = {
            "position": _at(group.samples[0][0]),
            "total_time_ns": group.total_ns if group.timed else None,
            "rows": group.rows,
            "plan_sample": None if group.plan is None else _sample(group.plan, summary),
            "samples": [{"plan": s[3], "position": _at(s[0])} for s in group.samples],
        }
    kept = []
    for category, examples in sorted(summary.skips.examples.items()):
        for pos, key, item in examples:
            kept.append({"category": category, "detail": item.detail,
                         "text": item.text[:TEXT_LIMIT], "source": item.source,
                         "outcome": item.outcome.value, "position": _at(pos),
                         "shape": None if key is None else key[1]})
    return {"files": list(summary.files), "filters": dict(filters),
            "max_samples": summary.max_samples, "groups": groups, "kept": kept}


def load_summary(path: Path, max_samples: int = 3) -> Summary:
    """A summary `indexadvisor ingest --format json` wrote, as a `Summary` (its own files
    numbered from 0). Raises SourceError for what is not one, or an older version."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{path}: cannot read this ingest summary: {exc}") from None
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if version != SCHEMA_VERSION or doc.get("kind") != KIND:
        raise SourceError(f"{path}: an ingest summary of schema version {version}, which "
                          f"cannot be merged (this version reads {SCHEMA_VERSION})",
                          hint="run indexadvisor ingest --format json on the logs again")
    try:
        summary = _load(doc, max_samples)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"{path}: a malformed ingest summary ({exc!r})") from None
    filters = doc.get("filters") or {}
    dropped = [f"--{k.replace('_ms', '').replace('_', '-')} {v}" for k, v in filters.items()
               if k in ("min_calls", "min_time_ms", "top") and v]
    if dropped:
        summary.notes.append(f"{path} was written with {', '.join(dropped)}: the statements "
                             "it left out are not in it")
    return summary


def _kept(item: Mapping[str, Any]) -> Kept:
    params = tuple(None if p is None else str(p) for p in item["params"])
    return (_pos(item["position"]), str(item["text"]), params, item.get("plan"),
            str(item["source"]))


def _load(doc: Mapping[str, Any], max_samples: int) -> Summary:
    summary = Summary(max_samples)
    summary.files.extend(str(f) for f in doc["files"])
    summary.statements = int(doc["statements"])
    for entry in doc["groups"]:
        group = Group(tuple(entry["relations"]), "select" if entry["kind"] == "select"
                      else entry["kind"])
        total = entry["total_time_ns"]
        group.add(int(entry["calls"]), None if total is None else int(total),
                  entry["max_time_ms"], entry["first_seen"], entry["last_seen"],
                  entry.get("rows"), set(), [], None, summary.max_samples)
        group.queryids = small_ids(set(), (int(q) for q in entry["queryids"]))
        group.samples = sorted(_kept(s) for s in entry["samples"])[:summary.max_samples]
        plan = entry.get("plan_sample")
        group.plan = None if plan is None else _kept(plan)
        summary.groups[str(entry["fingerprint"])] = group
    skipped = doc["skipped"]
    summary.skips.counts.update({str(k): int(v) for k, v in skipped["by_reason"].items()})
    for item in skipped["kept"]:
        skip = Skipped(str(item["source"]), str(item["category"]), str(item["text"]),
                       Outcome(item["outcome"]), str(item["detail"]))
        key = None if item["shape"] is None else ("shape", str(item["shape"]))
        summary.skips.add(skip, _pos(item["position"]), 0, key)
    return summary
