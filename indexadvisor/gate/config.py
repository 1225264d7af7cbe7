"""`[tool.indexadvisor.check]`: the gate's thresholds, per-statement overrides, what fails
the build, and default paths, read from a TOML table (pure).

>>> config, paths = check_config_from_mapping({"cost-increase": 0.5, "fail-on": "warning",
...     "baseline": "b.json", "override": [{"source": "q/*.sql", "disable": ["IA102"]}]})
>>> config.thresholds.cost_increase, config.fail_on.value, paths["baseline"]
(0.5, 'warning', 'b.json')
>>> config.for_statement("k", Location("q/a.sql", 3)).disable
frozenset({'IA102'})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model.errors import ConfigError
from ..model.gate import CheckConfig, Location, Override, Severity, thresholds_from_mapping

#: Keys naming files and folders (the command line's defaults).
PATH_KEYS = ("baseline", "schema", "migrations", "workload", "stats", "alembic")
_LISTS = ("schema", "migrations", "workload")

__all__ = ["PATH_KEYS", "Location", "check_config_from_mapping"]


def _fail_on(value: Any, where: str) -> Severity | None:
    if value == "never":
        return None
    try:
        return Severity(str(value))
    except ValueError:
        raise ConfigError(f"{where}: fail-on is error, warning, note or never") from None


def check_config_from_mapping(section: Mapping[str, Any], where: str = "[tool.indexadvisor.check]"
                              ) -> tuple[CheckConfig, dict[str, Any]]:
    """The gate's config and its default paths from a `[tool.indexadvisor.check]` table."""
    rest: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    fail_on: Severity | None = Severity.ERROR
    variants = 3
    overrides_raw: list[Any] = []
    for raw, value in section.items():
        key = raw.replace("_", "-")
        if key in PATH_KEYS:
            if key in _LISTS:
                value = [value] if isinstance(value, str) else value
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigError(f"{where}: {key} is a path or a list of paths")
            elif not isinstance(value, str):
                raise ConfigError(f"{where}: {key} is a path")
            paths[key] = value
        elif key == "fail-on":
            fail_on = _fail_on(value, where)
        elif key == "variants":
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where}: variants is a whole number, at least 1")
            variants = value
        elif key == "override":
            if not isinstance(value, list):
                raise ConfigError(f"{where}: override is an array of tables "
                                  "([[tool.indexadvisor.check.override]])")
            overrides_raw = value
        else:
            rest[raw] = value
    base = thresholds_from_mapping(rest, CheckConfig().thresholds, where)
    overrides = []
    for n, item in enumerate(overrides_raw):
        here = f"{where} override {n + 1}"
        if not isinstance(item, dict):
            raise ConfigError(f"{here}: must be a table")
        statement = item.get("statement")
        source = item.get("source")
        if statement is None and source is None:
            raise ConfigError(f"{here}: names a statement (its key or a prefix) or a source "
                              "glob")
        values = {k: v for k, v in item.items() if k not in ("statement", "source")}
        overrides.append(Override(thresholds_from_mapping(values, base, here),
                                  None if statement is None else str(statement),
                                  None if source is None else str(source)))
    return CheckConfig(base, tuple(overrides), fail_on, variants), paths
