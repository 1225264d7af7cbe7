"""The gate's JSON document (`check --format json`), versioned like advise's; see docs/check.md."""

from __future__ import annotations

import json
from typing import Any

from ...model.gate import CheckReport, StatementCheck
from ...model.shape import PlanShape
from .records import as_records

SCHEMA_VERSION = 1


def _plan(shape: PlanShape | None) -> dict[str, Any] | None:
    if shape is None:
        return None
    return {"cost": shape.cost, "rows": shape.rows, "plan": shape.render().splitlines()}


def _statement(s: StatementCheck) -> dict[str, Any]:
    out: dict[str, Any] = {"key": s.key, "source": str(s.location), "calls": s.calls,
                           "text": s.text, "before": _plan(s.before), "after": _plan(s.after)}
    if s.params:
        out["params"] = list(s.params)
    if s.error:
        out["error"] = s.error
    if s.note:
        out["note"] = s.note
    return out


def check_to_dict(report: CheckReport) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "indexadvisor", "version": report.tool_version},
        "server": {"version": report.server_version, "hypopg": report.hypopg_version},
        "mode": report.mode,
        "baseline": report.baseline,
        "verdict": {"passed": report.passed, "exit_code": report.exit_code,
                    "fail_on": report.fail_on.value if report.fail_on else None,
                    **report.counts()},
        "timings": {name: round(seconds, 3) for name, seconds in report.timings},
        "notes": list(report.notes),
        "rules": [{"code": r.code, "name": r.name, "severity": r.severity.value,
                   "summary": r.summary} for r in report.rules],
        "findings": [{
            "rule": r.rule, "name": r.name, "severity": r.severity.value,
            "failing": r.failing, "statement": r.statement, "source": r.where or None,
            "message": r.message, "before_cost": r.before_cost, "after_cost": r.after_cost,
            "ratio": r.ratio, "fix": r.fix, "fix_cost": r.fix_cost,
            "accepted": ({"reason": r.accepted, "expires": r.expires}
                         if r.accepted is not None else None),
            "fingerprint": r.fingerprint,
        } for r in as_records(report)],
        "migration": [{"source": str(s.location), "text": s.text, "action": s.action}
                      for s in report.steps],
        "statements": [_statement(s) for s in report.statements],
    }


def render_check_json(report: CheckReport) -> str:
    return json.dumps(check_to_dict(report), indent=2, ensure_ascii=False) + "\n"
