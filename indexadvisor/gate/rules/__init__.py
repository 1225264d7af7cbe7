"""The gate's rules, one per module, each with a stable code (sqlfluff style):

    IA1xx  plans of watched statements    IA2xx  the migration's new indexes
    IA3xx  locks the migration itself takes

Each module has `RULE` (its `RuleInfo`, from its docstring) and `check(ctx)`, a pure function
of a `Context` yielding `Finding`s. `run_rules` runs them in the order of `RULES`, drops what
the configuration switches off (per statement), and applies configured severities.
"""

from __future__ import annotations

from dataclasses import replace
from types import ModuleType

from ...model.gate import Finding, RuleInfo
from . import (
    cost_increase,
    create_index_lock,
    drop_index_lock,
    dropped_index,
    lock_timeout,
    row_estimate,
    seq_scan,
    shape_change,
    spill,
    statement_fails,
    unused_index,
    write_cost,
)
from .context import Context, CreatedIndex, DroppedIndex, Pair

RULES: tuple[ModuleType, ...] = (
    cost_increase, seq_scan, dropped_index, spill, row_estimate, shape_change, statement_fails,
    unused_index, write_cost, create_index_lock, drop_index_lock, lock_timeout,
)

__all__ = ["RULES", "Context", "CreatedIndex", "DroppedIndex", "Pair", "rule_infos",
           "run_rule", "run_rules"]

#: Rules whose findings are regressions of a statement: each gets a what-if fix searched.
REGRESSIONS = frozenset({"IA101", "IA102", "IA103"})


def rule_infos() -> tuple[RuleInfo, ...]:
    """Every rule's description, in code order."""
    return tuple(sorted((m.RULE for m in RULES), key=lambda r: r.code))


def run_rule(module: ModuleType, ctx: Context) -> list[Finding]:
    """One rule's findings after the configuration: switched off per statement, severity
    set where configured."""
    rule: RuleInfo = module.RULE
    out = []
    for found in module.check(ctx):
        limits = ctx.config.for_statement(found.key, found.location)
        if not limits.enabled(rule):
            continue
        level = limits.severity.get(rule.code) or limits.severity.get(rule.name)
        if level is not None and level is not found.severity:
            found = replace(found, severity=level)
        out.append(found)
    return out


def run_rules(ctx: Context) -> list[Finding]:
    """Every rule's findings, sorted most severe first."""
    found = [f for module in RULES for f in run_rule(module, ctx)]
    return sorted(found, key=lambda f: f.sort_key())
