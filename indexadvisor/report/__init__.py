"""Renderers of an `Advice`: a rich table for people, versioned JSON for machines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .json_report import SCHEMA_VERSION, advice_to_dict, render_json
    from .table import render_table

# Imported on first use, so that `report.ingest` does not load the advisor (see the package).
_LAZY = {"SCHEMA_VERSION": ".json_report", "advice_to_dict": ".json_report",
         "render_json": ".json_report", "render_table": ".table"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["SCHEMA_VERSION", "advice_to_dict", "render_json", "render_table"]
