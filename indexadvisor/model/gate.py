"""The CI gate's values: its settings, what it watched, what it found, and its verdict.

Everything a gate output (terminal, JSON, GitHub annotations, Markdown, JUnit, SARIF) shows
is here, so the renderers in `report/gate/` need nothing else.

>>> Location.parse("queries/orders.sql:12")
Location(file='queries/orders.sql', line=12)
>>> Location.parse("sqlalchemy capture")
Location(file='sqlalchemy capture', line=None)
>>> Severity.ERROR.rank > Severity.WARNING.rank > Severity.NOTE.rank
True
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from enum import StrEnum
from typing import Any

from .errors import ConfigError
from .shape import PlanShape


class Severity(StrEnum):
    """How bad a finding is; SARIF's and GitHub's level names."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Location:
    """Where a statement came from: a file and, where known, a 1-based line."""

    file: str
    line: int | None = None

    @classmethod
    def parse(cls, source: str) -> Location:
        """From a workload source string ``path:line`` (or anything else, as a file)."""
        match = re.fullmatch(r"(.+):(\d+)", source, re.DOTALL)
        if match:
            return cls(match.group(1), int(match.group(2)))
        return cls(source, None)

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule as outputs describe it: stable code, name, default severity, what it catches."""

    code: str  # IA101
    name: str  # cost-increase
    severity: Severity
    summary: str  # one line
    help: str  # the rule's docstring: what it catches and why, how to accept a finding


# --- settings ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Thresholds:
    """The numbers the rules compare with; `[tool.indexadvisor.check]` sets them."""

    cost_increase: float = 0.20  # IA101: fraction above the baseline cost
    min_cost_increase: float = 1.0  # IA101: and at least this many planner units
    seq_scan_rows: float = 10_000  # IA102: only tables over this many rows
    row_estimate_factor: float = 10.0  # IA105
    disable: frozenset[str] = frozenset()  # rule codes or names switched off
    severity: Mapping[str, Severity] = field(default_factory=dict)  # code -> level

    def enabled(self, rule: RuleInfo) -> bool:
        return rule.code not in self.disable and rule.name not in self.disable

    def level(self, rule: RuleInfo) -> Severity:
        return self.severity.get(rule.code) or self.severity.get(rule.name) or rule.severity


@dataclass(frozen=True)
class Override:
    """Thresholds for some statements: by key (fingerprint, or a prefix of one) or by
    source file glob."""

    thresholds: Thresholds
    statement: str | None = None
    source: str | None = None

    def matches(self, key: str, location: Location | None) -> bool:
        if self.statement is not None and not key.startswith(self.statement):
            return False
        if self.source is not None:
            return location is not None and fnmatch.fnmatch(location.file, self.source)
        return self.statement is not None


@dataclass(frozen=True)
class CheckConfig:
    """Everything that steers one run of the gate."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    overrides: tuple[Override, ...] = ()
    fail_on: Severity | None = Severity.ERROR  # None: never fail (report only)
    variants: int = 3  # distinct texts/parameters watched per statement fingerprint

    def for_statement(self, key: str | None, location: Location | None = None) -> Thresholds:
        """The thresholds for one statement: the last matching override wins."""
        if key is None:
            return self.thresholds
        found = self.thresholds
        for override in self.overrides:
            if override.matches(key, location):
                found = override.thresholds
        return found


_THRESHOLD_KEYS = {f.name for f in fields(Thresholds)} - {"disable", "severity"}


def thresholds_from_mapping(data: Mapping[str, Any], base: Thresholds, where: str) -> Thresholds:
    """Thresholds from a TOML table (keys with dashes or underscores), on top of `base`.

    >>> t = thresholds_from_mapping({"cost-increase": 0.5, "disable": ["IA106"]}, Thresholds(),
    ...                             "x")
    >>> t.cost_increase, sorted(t.disable)
    (0.5, ['IA106'])
    """
    values: dict[str, Any] = {}
    for raw, value in data.items():
        key = raw.replace("-", "_")
        if key in _THRESHOLD_KEYS:
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{where}: {raw} must be a non-negative number")
            values[key] = float(value)
        elif key == "disable":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: disable must be a list of rule codes or names")
            values["disable"] = base.disable | frozenset(value)
        elif key == "severity":
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: severity must be a table: rule = level")
            try:
                levels = {str(k): Severity(str(v)) for k, v in value.items()}
            except ValueError:
                raise ConfigError(f"{where}: severity levels are error, warning or note") \
                    from None
            values["severity"] = {**base.severity, **levels}
        else:
            raise ConfigError(f"{where}: unknown key {raw!r}",
                              hint="known keys: " + ", ".join(
                                  [*sorted(k.replace("_", "-") for k in _THRESHOLD_KEYS),
                                   "disable", "severity"]))
    return replace(base, **values)


# --- accepted regressions ---------------------------------------------------------------------

@dataclass(frozen=True)
class Acceptance:
    """A known regression, accepted in the baseline with a reason and an optional expiry.

    `statement` is a statement key (or a prefix of one); `rule` a code or name; either may
    be left out to accept every finding of that statement or that rule.
    """

    reason: str
    statement: str | None = None
    rule: str | None = None
    expires: date | None = None

    def expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: Finding) -> bool:
        if self.rule is not None and self.rule not in (finding.rule, finding.name):
            return False
        if self.statement is not None:
            return finding.key is not None and finding.key.startswith(self.statement)
        return self.rule is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.statement is not None:
            out["statement"] = self.statement
        if self.rule is not None:
            out["rule"] = self.rule
        out["reason"] = self.reason
        if self.expires is not None:
            out["expires"] = self.expires.isoformat()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "baseline") -> Acceptance:
        reason = data.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}: an accepted regression needs a reason")
        expires = data.get("expires")
        try:
            when = date.fromisoformat(str(expires)) if expires is not None else None
        except ValueError:
            raise ConfigError(f"{where}: expires must be a date (YYYY-MM-DD), "
                              f"not {expires!r}") from None
        statement, rule = data.get("statement"), data.get("rule")
        if statement is None and rule is None:
            raise ConfigError(f"{where}: an accepted regression names a statement, a rule, "
                              "or both")
        return cls(reason, None if statement is None else str(statement),
                   None if rule is None else str(rule), when)


# --- what the gate found ----------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One thing a rule found: about a statement (`key`) or about the migration itself."""

    rule: str  # code, e.g. IA101
    name: str  # e.g. cost-increase
    severity: Severity
    message: str
    key: str | None = None  # the statement's key; None for a finding about the migration
    location: Location | None = None  # the statement's source, or the migration statement's
    subject: str = ""  # what it is about (an index, a relation): part of its fingerprint
    before_cost: float | None = None
    after_cost: float | None = None
    fix: str | None = None  # DDL that would undo it, costed with HypoPG
    fix_cost: float | None = None
    accepted: Acceptance | None = None

    @property
    def ratio(self) -> float | None:
        """after / before cost, where both are known."""
        if self.before_cost is None or self.after_cost is None or self.before_cost <= 0:
            return None
        return self.after_cost / self.before_cost

    @property
    def identity(self) -> str:
        """Stable across runs: rule, statement and subject (SARIF partialFingerprints)."""
        return f"{self.rule}|{self.key or ''}|{self.subject}"

    def sort_key(self) -> tuple[int, int, str, str, str]:
        """Most severe first, accepted last, then by rule, statement, subject."""
        return (self.accepted is not None, -self.severity.rank, self.rule, self.key or "",
                self.subject)


@dataclass(frozen=True)
class StatementCheck:
    """One watched statement: its plans before and after the migration."""

    key: str
    text: str
    location: Location
    calls: int = 1
    params: tuple[str | None, ...] = ()
    before: PlanShape | None = None
    after: PlanShape | None = None
    error: str | None = None  # EXPLAIN failed after the migration
    note: str = ""  # e.g. "not in the baseline"


@dataclass(frozen=True)
class MigrationStep:
    """One statement of a migration and what the gate did with it."""

    location: Location
    text: str
    action: str  # e.g. "hypothetical index (HypoPG)", "executed", "skipped: ..."


@dataclass(frozen=True)
class CheckReport:
    """The gate's whole result."""

    tool_version: str
    server_version: str
    mode: str  # "sandbox" or "staging"
    statements: tuple[StatementCheck, ...]
    findings: tuple[Finding, ...]
    rules: tuple[RuleInfo, ...]
    steps: tuple[MigrationStep, ...] = ()
    timings: tuple[tuple[str, float], ...] = ()  # phase -> seconds
    notes: tuple[str, ...] = ()
    baseline: str | None = None  # the baseline file compared with, if any
    fail_on: Severity | None = Severity.ERROR
    hypopg_version: str = ""

    @property
    def failing(self) -> tuple[Finding, ...]:
        """Findings that fail the build: not accepted, at or above `fail_on`."""
        if self.fail_on is None:
            return ()
        return tuple(f for f in self.findings
                     if f.accepted is None and f.severity.rank >= self.fail_on.rank)

    @property
    def passed(self) -> bool:
        return not self.failing

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def for_statement(self, key: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.key == key)

    def rule(self, code: str) -> RuleInfo | None:
        return next((r for r in self.rules if r.code == code), None)

    def counts(self) -> dict[str, int]:
        """Findings by severity (accepted counted apart)."""
        out = {"error": 0, "warning": 0, "note": 0, "accepted": 0}
        for f in self.findings:
            out["accepted" if f.accepted else f.severity.value] += 1
        return out
