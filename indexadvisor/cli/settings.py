"""Defaults from the nearest pyproject.toml's ``[tool.indexadvisor]``; unknown keys are errors.

>>> config_from_mapping({"budget": "1GB", "max-width": 2}).budget_bytes
1000000000
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..model import AdvisorConfig, parse_duration, parse_size
from ..model.errors import ConfigError


def load_section(start: Path | None = None) -> tuple[dict[str, Any], str] | None:
    """The nearest pyproject.toml's [tool.indexadvisor] table and the file's path."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        file = folder / "pyproject.toml"
        if file.is_file():
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{file}: {exc}") from None
            return data.get("tool", {}).get("indexadvisor", {}), str(file)
    return None


def load_config(start: Path | None = None) -> AdvisorConfig:
    """Settings from the nearest pyproject.toml's [tool.indexadvisor]; unknown keys are errors."""
    found = load_section(start)
    return AdvisorConfig() if found is None else config_from_mapping(*found)


def config_from_mapping(section: dict[str, Any], where: str = "config") -> AdvisorConfig:
    """Build a config from a [tool.indexadvisor] table."""
    known = {f.name for f in fields(AdvisorConfig)}
    values: dict[str, Any] = {}
    for raw_key, value in section.items():
        key = raw_key.replace("-", "_")
        if key == "check" and isinstance(value, dict):
            continue  # [tool.indexadvisor.check]: the CI gate's table (cli.check reads it)
        if key == "budget":
            values["budget_bytes"] = parse_size(value)
        elif key == "time_limit":
            values["time_limit_s"] = parse_duration(value)
        elif key in known:
            values[key] = value
        else:
            raise ConfigError(f"{where}: unknown key {raw_key!r} in [tool.indexadvisor]",
                              hint="known keys: budget, time-limit, " + ", ".join(sorted(known)))
    try:
        return AdvisorConfig(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}") from None
