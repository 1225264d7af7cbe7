"""Renderers of an `Advice`: a rich table for people, versioned JSON for machines."""

from .json_report import SCHEMA_VERSION, advice_to_dict, render_json
from .table import render_table

__all__ = ["SCHEMA_VERSION", "advice_to_dict", "render_json", "render_table"]
