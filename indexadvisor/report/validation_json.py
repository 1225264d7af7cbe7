"""The `validation` part of the JSON contract (docs/json.md), both ways."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..model import (
    BuiltIndex,
    Candidate,
    Measurement,
    Plan,
    QueryCheck,
    Validation,
    ValidationRound,
    ValidationSettings,
    Withdrawal,
)

CandidateOut = Callable[[Candidate], dict[str, Any]]
CandidateIn = Callable[[Mapping[str, Any]], Candidate]


def _ms(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def validation_to_dict(v: Validation | None, candidate: CandidateOut) -> dict[str, Any] | None:
    """The validation as plain data; None when the run was not validated."""
    if v is None:
        return None
    s = v.settings
    return {
        "settings": {"warmup": s.warmup, "runs": s.runs,
                     "statement_timeout_ms": s.statement_timeout_ms, "tolerance": s.tolerance,
                     "min_ms": s.min_ms, "max_rounds": s.max_rounds, "where": s.where},
        "passed": v.passed,
        "elapsed_s": round(v.elapsed_s, 3),
        "unvalidated": [candidate(c) for c in v.unvalidated],
        "withdrawn": len(v.withdrawn),
        "rounds": [_round(r, candidate) for r in v.rounds],
    }


def _round(r: ValidationRound, candidate: CandidateOut) -> dict[str, Any]:
    return {
        "number": r.number,
        "reselected": r.reselected,
        "built": [{**candidate(b.candidate), "label": b.candidate.label, "name": b.name,
                   "estimated_bytes": b.estimated_bytes, "real_bytes": b.real_bytes,
                   "build_s": round(b.build_s, 3), "used_by": list(b.used_by),
                   "visible": b.visible} for b in r.built],
        "checks": [_check(c) for c in r.checks],
        "withdrawn": [{**candidate(w.candidate), "label": w.candidate.label, "round": w.round,
                       "reason": w.reason, "queries": list(w.queries)} for w in r.withdrawn],
    }


def _check(c: QueryCheck) -> dict[str, Any]:
    return {
        "fingerprint": c.fingerprint,
        "estimated_before": None if c.estimated_before is None else round(c.estimated_before, 2),
        "estimated_after": None if c.estimated_after is None else round(c.estimated_after, 2),
        "before": _measurement(c.before),
        "after": _measurement(c.after),
        "expected": list(c.expected),
        "used": list(c.used),
        "flags": list(c.flags),
        "regressed": c.regressed,
        "note": c.note,
    }


def _measurement(m: Measurement) -> dict[str, Any]:
    return {
        "runs_ms": [_ms(x) for x in m.runs_ms],
        "best_ms": _ms(m.best_ms),
        "median_ms": _ms(m.median_ms),
        "timed_out": m.timed_out,
        "error": m.error,
        "shared_hit": m.shared_hit,
        "shared_read": m.shared_read,
        "plan": None if m.plan is None else m.plan.to_explain(),
    }


def validation_from_dict(doc: Mapping[str, Any] | None, candidate: CandidateIn,
                         ) -> Validation | None:
    """The inverse of `validation_to_dict`."""
    if doc is None:
        return None
    s = doc["settings"]
    settings = ValidationSettings(int(s["warmup"]), int(s["runs"]),
                                  int(s["statement_timeout_ms"]), float(s["tolerance"]),
                                  float(s["min_ms"]), int(s["max_rounds"]), s["where"])
    rounds = tuple(
        ValidationRound(
            number=int(r["number"]),
            built=tuple(BuiltIndex(candidate(b), b["name"], int(b["estimated_bytes"]),
                                   int(b["real_bytes"]), float(b["build_s"]),
                                   tuple(b["used_by"]), bool(b["visible"]))
                        for b in r["built"]),
            checks=tuple(_load_check(c) for c in r["checks"]),
            withdrawn=tuple(Withdrawal(candidate(w), int(w["round"]), w["reason"],
                                       tuple(w["queries"])) for w in r["withdrawn"]),
            reselected=bool(r["reselected"]))
        for r in doc["rounds"])
    return Validation(settings, rounds, tuple(candidate(c) for c in doc["unvalidated"]),
                      float(doc["elapsed_s"]))


def _load_check(c: Mapping[str, Any]) -> QueryCheck:
    return QueryCheck(c["fingerprint"], c["estimated_before"], c["estimated_after"],
                      _load_measurement(c["before"]), _load_measurement(c["after"]),
                      tuple(c["expected"]), tuple(c["used"]), tuple(c["flags"]),
                      bool(c["regressed"]), c["note"])


def _load_measurement(m: Mapping[str, Any]) -> Measurement:
    return Measurement(tuple(float(x) for x in m["runs_ms"]), bool(m["timed_out"]), m["error"],
                       m["shared_hit"], m["shared_read"],
                       None if m["plan"] is None else Plan.from_explain(m["plan"]))
