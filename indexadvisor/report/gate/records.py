"""One plain list of the gate's findings (`as_records`): every output format is built from it.

>>> from indexadvisor.model.gate import Finding, Location, Severity
>>> f = Finding("IA101", "cost-increase", Severity.ERROR, "cost 1 -> 3", key="k1",
...             location=Location("q.sql", 3), before_cost=1.0, after_cost=3.0)
>>> r = as_records(_Report((f,)))[0]
>>> r.file, r.line, r.ratio, r.failing, len(r.fingerprint)
('q.sql', 3, 3.0, True, 32)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ...model.gate import CheckReport, Finding, Severity


@dataclass(frozen=True)
class Record:
    """A finding as the outputs show it."""

    rule: str
    name: str
    severity: Severity
    message: str
    file: str | None
    line: int | None
    statement: str | None  # the statement's key
    failing: bool  # fails the build (not accepted, at or above fail-on)
    accepted: str | None  # the accepted regression's reason
    expires: str | None
    fix: str | None
    fix_cost: float | None
    before_cost: float | None
    after_cost: float | None
    ratio: float | None
    fingerprint: str  # stable across runs: rule, statement and subject

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return self.file if self.line is None else f"{self.file}:{self.line}"

    @property
    def fix_text(self) -> str:
        """``fix: CREATE INDEX ... (cost with it: 8.44)``, or "" when there is none."""
        if self.fix is None:
            return ""
        cost = f" (cost with it: {self.fix_cost:,.2f})" if self.fix_cost is not None else ""
        return f"fix: {self.fix}{cost}"


def fingerprint(finding: Finding) -> str:
    """32 hex digits of SHA-256 over the finding's identity."""
    return hashlib.sha256(finding.identity.encode()).hexdigest()[:32]


def record(finding: Finding, failing: bool) -> Record:
    loc = finding.location
    acc = finding.accepted
    return Record(
        finding.rule, finding.name, finding.severity, finding.message,
        loc.file if loc else None, loc.line if loc else None, finding.key, failing,
        acc.reason if acc else None,
        acc.expires.isoformat() if acc and acc.expires else None,
        finding.fix, finding.fix_cost, finding.before_cost, finding.after_cost, finding.ratio,
        fingerprint(finding))


def as_records(report: CheckReport) -> list[Record]:
    """Every finding, most severe first, accepted ones last."""
    failing = {id(f) for f in report.failing}
    return [record(f, id(f) in failing) for f in sorted(report.findings,
                                                         key=lambda f: f.sort_key())]


class _Report:
    """Just enough of a CheckReport for the doctest."""

    def __init__(self, findings: tuple[Finding, ...]) -> None:
        self.findings = findings
        self.failing = findings
