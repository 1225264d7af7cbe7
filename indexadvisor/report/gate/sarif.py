"""SARIF 2.1.0: one run, the rules with stable ids (IA101 ...), one result per finding with
its file and line, a partial fingerprint that survives unrelated edits (rule, statement key,
subject), the fix as a property, and accepted regressions as suppressions (external,
accepted, with the reason as justification).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ...model.gate import CheckReport
from .records import Record, as_records

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT = "indexadvisorFinding/v1"


def _rules(report: CheckReport) -> list[dict[str, Any]]:
    return [{
        "id": rule.code,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help or rule.summary},
        "help": {"text": rule.help or rule.summary},
        "defaultConfiguration": {"level": rule.severity.value},
        "properties": {"tags": ["postgresql", "performance" if rule.code < "IA300"
                                else "locking"]},
    } for rule in report.rules]


def _result(rec: Record, index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": rec.rule,
        "level": rec.severity.value,
        "message": {"text": rec.message + (f"\n{rec.fix_text}" if rec.fix else "")},
        "partialFingerprints": {FINGERPRINT: rec.fingerprint},
    }
    if rec.rule in index:
        out["ruleIndex"] = index[rec.rule]
    if rec.file is not None:
        physical: dict[str, Any] = {"artifactLocation": {"uri": quote(rec.file)}}
        if rec.line is not None and rec.line >= 1:
            physical["region"] = {"startLine": rec.line}
        out["locations"] = [{"physicalLocation": physical}]
    if rec.accepted is not None:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": rec.accepted}]
    props: dict[str, Any] = {}
    for key, value in (("statement", rec.statement), ("fix", rec.fix),
                       ("fixCost", rec.fix_cost), ("beforeCost", rec.before_cost),
                       ("afterCost", rec.after_cost), ("costRatio", rec.ratio),
                       ("acceptedUntil", rec.expires)):
        if value is not None:
            props[key] = value
    if props:
        out["properties"] = props
    return out


def sarif_document(report: CheckReport) -> dict[str, Any]:
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "indexadvisor", "version": report.tool_version,
                                "semanticVersion": report.tool_version, "rules": rules}},
            "results": [_result(rec, index) for rec in as_records(report)],
            "properties": {"server": report.server_version, "mode": report.mode,
                           "passed": report.passed},
        }],
    }


def render_sarif(report: CheckReport) -> str:
    """The SARIF log as JSON text."""
    return json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n"
