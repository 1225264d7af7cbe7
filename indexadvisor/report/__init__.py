"""Renderers over values: the terminal table, the JSON contract and its loader, the ingest
summary. They import `indexadvisor.model` only: a saved JSON renders with no database."""

from .advice_json import SCHEMA_VERSION, advice_from_dict, advice_to_dict, load_advice, render_json
from .table import render_table

__all__ = ["SCHEMA_VERSION", "advice_from_dict", "advice_to_dict", "load_advice", "render_json",
           "render_table"]
