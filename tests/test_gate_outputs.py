"""The gate's outputs, rendered from values alone: JUnit validated against junit-10.xsd,
SARIF against the SARIF 2.1.0 schema, GitHub annotations escaped and capped, Markdown within
GitHub's size limits, JSON round-tripping, the terminal verdict."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from rich.console import Console

from indexadvisor.gate.rules import rule_infos
from indexadvisor.model.gate import (
    Acceptance,
    CheckReport,
    Finding,
    Location,
    MigrationStep,
    Severity,
    StatementCheck,
)
from indexadvisor.model.shape import PlanShape, ShapeNode
from indexadvisor.report.gate import (
    RENDERERS,
    render_comment,
    render_github,
    render_junit,
    render_markdown,
    render_sarif,
    render_terminal,
)
from indexadvisor.report.gate.markdown import COMMENT_LIMIT

from .golden_files import check_golden

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden" / "gate"

BEFORE = PlanShape((ShapeNode(0, "Index Scan", "orders", "orders_c_idx", 5, 40),), 8.44, 5)
AFTER = PlanShape((ShapeNode(0, "Seq Scan", "orders", None, 5, 40),), 3783.0, 5)


def report(errors: int = 3, text: str = "SELECT * FROM orders WHERE note = 'a|b, c: 50%'"
           ) -> CheckReport:
    statements = []
    findings = []
    for n in range(errors):
        key = f"k{n:03d}"
        loc = Location("queries/app orders.sql", 3 + n)
        statements.append(StatementCheck(key, text + f" -- {n}", loc, 10, (), BEFORE, AFTER))
        findings.append(Finding(
            "IA101", "cost-increase", Severity.ERROR,
            f"{text} ({loc}): cost 8.44 -> 3,783.00 (448.2x)\nsecond line", key=key,
            location=loc, before_cost=8.44, after_cost=3783.0,
            fix="CREATE INDEX CONCURRENTLY orders_c_idx ON public.orders USING btree (c);",
            fix_cost=8.44))
    statements.append(StatementCheck("kok", "SELECT 1", Location("queries/ok.sql", 1), 1, (),
                                     BEFORE, BEFORE))
    statements.append(StatementCheck("kfail", "SELECT legacy FROM t", Location("q.sql"), 1, (),
                                      BEFORE, None, 'column "legacy" does not exist'))
    findings += [
        Finding("IA107", "statement-fails", Severity.ERROR, "EXPLAIN fails", key="kfail",
                location=Location("q.sql")),
        Finding("IA303", "lock-timeout", Severity.WARNING, "m.sql:1: no lock_timeout",
                location=Location("db/m.sql", 1), subject="ALTER TABLE orders"),
        Finding("IA101", "cost-increase", Severity.ERROR, "accepted one", key="k000",
                location=Location("queries/app orders.sql", 3), subject="x",
                accepted=Acceptance("month-end report, fixed in #123", "k000", "IA101",
                                    date(2030, 1, 1))),
    ]
    return CheckReport(
        tool_version="0.1.0", server_version="15.8 (Debian)", mode="sandbox",
        statements=tuple(statements), findings=tuple(sorted(findings, key=Finding.sort_key)),
        rules=rule_infos(), steps=(MigrationStep(Location("db/m.sql", 1),
                                                 "DROP INDEX orders_c_idx", "dropped"),),
        timings=(("sandbox", 1.5), ("migration", 0.01), ("explain", 0.2)),
        notes=("a note",), baseline=".indexadvisor/baseline.json", hypopg_version="1.3.1")


def test_junit_validates_against_the_xsd() -> None:
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(str(DATA / "junit-10.xsd"))
    text = render_junit(report())
    errors = [e.reason for e in schema.iter_errors(text)]
    assert errors == []
    root = ET.fromstring(text)
    cases = root.findall(".//testcase")
    assert len(cases) == 5 + 1  # every watched statement, and the migration's statement
    suite = next(s for s in root.iter("testsuite") if s.get("file") == "queries/app orders.sql")
    names = [c.get("name") for c in suite.iter("testcase")]
    assert names[0].startswith("queries/app orders.sql:3 ")  # file and line
    assert root.get("failures") == "4"  # three cost errors and the failing statement
    failure = suite.find("testcase/failure")
    assert failure is not None and "fix: CREATE INDEX CONCURRENTLY" in (failure.text or "")
    assert "accepted: month-end report" in ET.tostring(root, encoding="unicode")


def test_sarif_validates_against_the_2_1_0_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DATA / "sarif-2.1.0.json").read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    doc = json.loads(render_sarif(report()))
    errors = [e.message for e in validator(schema).iter_errors(doc)]
    assert errors == []
    run = doc["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert ids == sorted(ids) and "IA101" in ids and "IA303" in ids
    results = run["results"]
    accepted = [r for r in results if "suppressions" in r]
    assert accepted == [r for r in results if r["message"]["text"] == "accepted one"]
    assert accepted[0]["suppressions"][0]["justification"].startswith("month-end")
    location = results[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "queries/app%20orders.sql"
    # fingerprints are stable and tell findings apart
    again = json.loads(render_sarif(report()))["runs"][0]["results"]
    prints = [r["partialFingerprints"]["indexadvisorFinding/v1"] for r in results]
    assert prints == [r["partialFingerprints"]["indexadvisorFinding/v1"] for r in again]
    assert len(set(prints)) == len(prints)


def test_github_annotations_escaped_most_severe_first_and_capped() -> None:
    lines = render_github(report(errors=25)).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    assert len(errors) == 10 and len(warnings) == 1
    assert lines.index(errors[-1]) < lines.index(warnings[0])
    first = errors[0]
    assert first.startswith("::error file=queries/app orders.sql,line=3,title=IA101 "
                            "cost-increase::")
    assert "%0Asecond line" in first and "50%25" in first and "\n" not in first
    assert lines[-1].startswith("indexadvisor: 16 more errors not annotated")
    assert not any("accepted one" in line for line in lines)  # accepted: no annotation


def test_github_property_escaping() -> None:
    base = report(errors=1)
    odd = Finding("IA303", "lock-timeout", Severity.WARNING, "x",
                  location=Location("db/a,b:c.sql", 7))
    text = render_github(CheckReport(**{**base.__dict__, "findings": (odd,)}))
    assert text.startswith("::warning file=db/a%2Cb%3Ac.sql,line=7,title=IA303 lock-timeout::x")


def test_markdown_summary_and_comment_fit_githubs_limits() -> None:
    big = report(errors=2000, text="SELECT " + "x, " * 60 + "y FROM orders")
    summary = render_markdown(big)
    comment = render_comment(big)
    assert len(summary.encode()) < 1 << 20
    assert len(comment) < COMMENT_LIMIT
    assert "more findings, not shown here" in comment
    assert comment.startswith("### ❌ **indexadvisor check failed**")


def test_markdown_golden() -> None:
    check_golden(render_markdown(report()), GOLDEN / "summary.md")


def test_github_golden() -> None:
    check_golden(render_github(report()), GOLDEN / "annotations.txt")


def test_terminal_verdict() -> None:
    out = io.StringIO()
    render_terminal(report(), Console(file=out, width=200, color_system=None))
    text = out.getvalue()
    assert "indexadvisor check failed" in text
    assert "fix: CREATE INDEX CONCURRENTLY orders_c_idx" in text
    assert "accepted until 2030-01-01: month-end report" in text
    assert "exit 1: 4 finding(s) at or above error" in text


def test_json_document() -> None:
    doc = json.loads(RENDERERS["json"](report()))
    assert doc["schema_version"] == 1
    assert doc["verdict"] == {"passed": False, "exit_code": 1, "fail_on": "error", "error": 4,
                              "warning": 1, "note": 0, "accepted": 1}
    first = doc["findings"][0]
    assert first["ratio"] == pytest.approx(3783.0 / 8.44)
    assert doc["statements"][0]["after"]["plan"] == ["Seq Scan on orders"]
    assert doc["timings"] == {"sandbox": 1.5, "migration": 0.01, "explain": 0.2}


def test_passing_report_exits_zero() -> None:
    base = report(errors=1)
    passing = CheckReport(**{**base.__dict__,
                             "findings": tuple(f for f in base.findings
                                               if f.severity is Severity.WARNING)})
    assert passing.passed and passing.exit_code == 0
    assert render_markdown(passing).startswith("### ✅ **indexadvisor check passed**")
    never = CheckReport(**{**base.__dict__, "fail_on": None})
    assert never.exit_code == 0
