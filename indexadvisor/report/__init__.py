"""Renderers over values: the terminal table, the JSON contract and its loader, HTML, Markdown,
the DDL file, the ingest summary. They import `indexadvisor.model` only: a saved JSON renders
with no database."""

from .advice_json import SCHEMA_VERSION, advice_from_dict, advice_to_dict, load_advice, render_json
from .ddl_file import render_ddl
from .facts import ReportOptions
from .html import render_html
from .markdown import render_markdown
from .table import render_table

__all__ = ["SCHEMA_VERSION", "ReportOptions", "advice_from_dict", "advice_to_dict",
           "load_advice", "render_ddl", "render_html", "render_json", "render_markdown",
           "render_table"]
