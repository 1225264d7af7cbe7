"""Reading and writing the baseline file (`model.baseline` holds the values and the format)."""

from __future__ import annotations

import json
from pathlib import Path

from ..model.baseline import Baseline, baseline_from_dict, render_baseline
from ..model.errors import ConfigError, SourceError


def load_baseline(path: Path) -> Baseline:
    """The baseline in `path`; a clear error when it is missing or not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such baseline",
                          hint="create it with `indexadvisor check --update-baseline` on the "
                          "schema before the migration, and commit it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON: {exc}") from None
    return baseline_from_dict(data, str(path))


def write_baseline(path: Path, baseline: Baseline) -> None:
    """Write the baseline (creating its folder)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_baseline(baseline), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
