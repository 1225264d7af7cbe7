"""Every gate rule against its own case file (sqlfluff style): tests/gate_rules/<CODE>_<name>.toml
holds cases, each a rule context (plans before and after, the migration, new and dropped
indexes, table sizes, settings) and exactly the findings expected of that rule."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from indexadvisor.gate.config import check_config_from_mapping
from indexadvisor.gate.migration import split_migration
from indexadvisor.gate.rules import RULES, Context, CreatedIndex, DroppedIndex, Pair, run_rule
from indexadvisor.model.gate import Location
from indexadvisor.model.shape import PlanShape

CASES = Path(__file__).parent / "gate_rules"
MODULES = {m.RULE.code: m for m in RULES}


def _cases() -> list[Any]:
    out = []
    for file in sorted(CASES.glob("*.toml")):
        code = file.name.split("_")[0]
        for case in tomllib.loads(file.read_text())["case"]:
            out.append(pytest.param(code, case, id=f"{code}-{case['name']}"))
    return out


def _shape(data: dict[str, Any] | None) -> PlanShape | None:
    return None if data is None else PlanShape.from_dict(data)


def context(case: dict[str, Any]) -> Context:
    """A rule context from a case's TOML table."""
    config, _ = check_config_from_mapping(case.get("config", {}))
    pairs = tuple(Pair(p["key"], Location.parse(p.get("source", "q.sql:1")),
                       p.get("text", "SELECT 1"), p.get("calls", 1),
                       _shape(p.get("before")), _shape(p.get("after")),
                       p.get("before_error"), p.get("after_error"))
                  for p in case.get("pair", ()))
    migration = tuple(s for n, text in enumerate(case.get("migration", ()), 1)
                      for s in split_migration(text, f"m{n}.sql"))
    created = tuple(CreatedIndex(c["name"], c["table"], Location.parse(c["source"]),
                                 c.get("statement", ""), c.get("simulated", True),
                                 tuple(c.get("used_by", ())), c.get("saving"),
                                 c.get("write_cost")) for c in case.get("created", ()))
    dropped = tuple(DroppedIndex(d["name"], d["table"], Location.parse(d["source"]))
                    for d in case.get("dropped", ()))
    return Context(pairs, migration, created, dropped, case.get("table_rows", {}),
                   frozenset(case.get("existing_tables", ())),
                   case.get("work_mem", 4 << 20), case.get("hash_mem_multiplier", 2.0),
                   config)


@pytest.mark.parametrize(("code", "case"), _cases())
def test_rule_case(code: str, case: dict[str, Any]) -> None:
    found = run_rule(MODULES[code], context(case))
    got = sorted((f.rule, f.key or "", f.subject, f.severity.value) for f in found)
    want = sorted((code, e.get("key", ""), e.get("subject", ""), e.get("severity",
                   MODULES[code].RULE.severity.value)) for e in case.get("expect", ()))
    assert got == want
    for expected in case.get("expect", ()):
        if "message" in expected:
            assert any(expected["message"] in f.message for f in found), \
                [f.message for f in found]


def test_every_rule_has_a_case_file() -> None:
    files = {f.name.split("_")[0] for f in CASES.glob("*.toml")}
    assert files == set(MODULES)
    for module in RULES:
        assert module.RULE.help, module.__name__  # the docstring says what and why
