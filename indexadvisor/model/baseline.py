"""The gate's baseline: per watched statement, its plan shape, cost and rows, with the planner
settings and server version they were measured under, and the accepted regressions.

Meant to be committed: `render_baseline` writes it sorted by statement key, one plan node per
line, with no timestamp, so re-running on an unchanged schema gives the same file.

>>> from .shape import PlanShape, ShapeNode
>>> entry = BaselineEntry("abc-1", "q.sql:3", "SELECT 1", 2,
...                       PlanShape((ShapeNode(0, "Result", rows=1, width=4),), 0.01, 1))
>>> base = Baseline("15.8", 150008, (("work_mem", "4MB"),), (entry,))
>>> print(render_baseline(base), end="")
{
  "format": "indexadvisor-baseline",
  "version": 1,
  "server_version": "15.8",
  "server_version_num": 150008,
  "settings": {"work_mem": "4MB"},
  "accepted": [],
  "statements": [
    {
      "key": "abc-1",
      "source": "q.sql:3",
      "calls": 2,
      "text": "SELECT 1",
      "cost": 0.01,
      "rows": 1.0,
      "nodes": [
        {"depth": 0, "type": "Result", "rows": 1.0, "width": 4}
      ]
    }
  ]
}
>>> baseline_from_dict(json.loads(render_baseline(base))) == base
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError
from .gate import Acceptance
from .shape import PlanShape

FORMAT = "indexadvisor-baseline"
VERSION = 1


@dataclass(frozen=True)
class BaselineEntry:
    """One statement as the baseline knows it."""

    key: str
    source: str
    text: str
    calls: int
    plan: PlanShape | None  # None: EXPLAIN failed when the baseline was taken
    params: tuple[str | None, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Baseline:
    """Plans of the watched statements, and the regressions accepted on top of them."""

    server_version: str
    server_version_num: int
    settings: tuple[tuple[str, str], ...]
    entries: tuple[BaselineEntry, ...]
    accepted: tuple[Acceptance, ...] = ()

    def entry(self, key: str) -> BaselineEntry | None:
        return next((e for e in self.entries if e.key == key), None)


def _entry_dict(entry: BaselineEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"key": entry.key, "source": entry.source, "calls": entry.calls,
                           "text": entry.text}
    if entry.params:
        out["params"] = list(entry.params)
    if entry.plan is not None:
        out.update(entry.plan.to_dict())
    if entry.error is not None:
        out["error"] = entry.error
    return out


def baseline_to_dict(baseline: Baseline) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "server_version": baseline.server_version,
        "server_version_num": baseline.server_version_num,
        "settings": dict(sorted(baseline.settings)),
        "accepted": [a.to_dict() for a in baseline.accepted],
        "statements": [_entry_dict(e) for e in sorted(baseline.entries, key=lambda e: e.key)],
    }


def _compact(value: Any, indent: int) -> str:
    """JSON with objects and lists of scalars on one line, the rest indented."""
    pad = "  " * indent
    if isinstance(value, dict) and any(isinstance(v, dict | list) and v for v in value.values()):
        items = [f'{pad}  {json.dumps(k)}: {_compact(v, indent + 1).lstrip()}'
                 for k, v in value.items()]
        return pad + "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        return pad + "[\n" + ",\n".join(_compact(v, indent + 1) for v in value) + "\n" + pad + "]"
    return pad + json.dumps(value, ensure_ascii=False)


def render_baseline(baseline: Baseline) -> str:
    """The baseline file's text (deterministic)."""
    return _compact(baseline_to_dict(baseline), 0) + "\n"


def baseline_from_dict(data: Mapping[str, Any], where: str = "baseline") -> Baseline:
    """A baseline back from its JSON; ConfigError naming `where` when it is not one."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{where}: not an indexadvisor baseline (no \"format\": \"{FORMAT}\")",
                          hint="create one with `indexadvisor check --update-baseline`")
    if data.get("version") != VERSION:
        raise ConfigError(f"{where}: baseline version {data.get('version')!r} is not supported",
                          hint=f"this indexadvisor reads version {VERSION}; re-create it with "
                          "--update-baseline")
    try:
        entries = []
        for item in data.get("statements", ()):
            plan = PlanShape.from_dict(item) if "cost" in item else None
            entries.append(BaselineEntry(
                str(item["key"]), str(item.get("source", "")), str(item.get("text", "")),
                int(item.get("calls", 1)), plan, tuple(item.get("params", ())),
                item.get("error")))
        accepted = tuple(Acceptance.from_dict(a, f"{where}: accepted[{i}]")
                         for i, a in enumerate(data.get("accepted", ())))
        return Baseline(str(data.get("server_version", "")),
                        int(data.get("server_version_num", 0)),
                        tuple(sorted((str(k), str(v))
                                     for k, v in dict(data.get("settings", {})).items())),
                        tuple(entries), accepted)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: malformed baseline: {exc}") from None
