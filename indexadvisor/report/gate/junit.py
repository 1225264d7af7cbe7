"""JUnit XML: one test case per watched statement, grouped in one test suite per source file
(the suite carries the file, each case its line in its name), plus a suite for the migration's
own statements. A statement fails when it has a finding that fails the build; warnings and
accepted regressions are written to its system-out. Valid against the Jenkins/pytest JUnit
schema (junit-10.xsd), which has no file or line attribute on a test case.
"""

from __future__ import annotations

from collections import defaultdict
from xml.etree import ElementTree as ET

from ...model import short
from ...model.gate import CheckReport, Location
from .records import Record, as_records

SUITE = "indexadvisor check"


def _case(suite: ET.Element, name: str, classname: str, records: list[Record]) -> tuple[int, int]:
    case = ET.SubElement(suite, "testcase", name=name, classname=classname, time="0")
    failing = [r for r in records if r.failing]
    if failing:
        first = failing[0]
        failure = ET.SubElement(case, "failure", message=f"{first.rule} {first.message}"[:1000],
                                type=first.rule)
        failure.text = "\n\n".join(
            f"{r.rule} {r.name} ({r.severity.value}) at {r.where}\n{r.message}"
            + (f"\n{r.fix_text}" if r.fix else "") for r in failing)
    others = [r for r in records if not r.failing]
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(
            f"{r.rule} {r.name} ({'accepted: ' + r.accepted if r.accepted else r.severity.value})"
            f" at {r.where}: {r.message}" for r in others)
    return (1 if failing else 0), 1


def render_junit(report: CheckReport) -> str:
    """The JUnit XML document."""
    by_statement: dict[str | None, list[Record]] = defaultdict(list)
    for rec in as_records(report):
        by_statement[rec.statement].append(rec)
    files: dict[str, list[tuple[str, list[Record]]]] = defaultdict(list)
    for stmt in sorted(report.statements, key=lambda s: (s.location.file, s.location.line or 0,
                                                         s.key)):
        name = f"{stmt.location} {short(stmt.text, 60)} [{stmt.key}]"
        files[stmt.location.file].append((name, by_statement.get(stmt.key, [])))
    migration: dict[Location, list[Record]] = defaultdict(list)
    for rec in by_statement.get(None, []):
        migration[Location(rec.file or "migration", rec.line)].append(rec)
    steps = {step.location: step for step in report.steps}
    root = ET.Element("testsuites", name=SUITE)
    total = [0, 0]
    groups = [(f, cases) for f, cases in sorted(files.items())]
    if steps or migration:
        names = sorted(set(steps) | set(migration), key=lambda loc: (loc.file, loc.line or 0))
        groups.append(("migration", [
            (f"{loc} {steps[loc].text[:60] if loc in steps else ''}".strip(), migration[loc])
            for loc in names]))
    for file, cases in groups:
        suite = ET.SubElement(root, "testsuite", name=file, tests="0", failures="0",
                              errors="0", skipped="0", time="0")
        if file != "migration":
            suite.set("file", file)
        failures = tests = 0
        for name, records in cases:
            failed, counted = _case(suite, name, file.replace("/", ".").removesuffix(".sql"),
                                    records)
            failures += failed
            tests += counted
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        total[0] += tests
        total[1] += failures
    root.set("tests", str(total[0]))
    root.set("failures", str(total[1]))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"
