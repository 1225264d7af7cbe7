"""A saved advice renders again without a database: JSON back to values, then any report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from indexadvisor.model.errors import SourceError
from indexadvisor.report import SCHEMA_VERSION, load_advice, render_json, render_table

from .golden_files import check_golden

GOLDEN = Path(__file__).parent / "golden" / "advice"
SAVED = GOLDEN / "demo.json"  # a demo run, saved by `indexadvisor demo`


def _table(advice_path: Path) -> str:
    console = Console(width=100, record=True, color_system=None, force_terminal=False)
    render_table(load_advice(advice_path), console)
    return console.export_text()


def test_saved_advice_round_trips_byte_for_byte() -> None:
    advice = load_advice(SAVED)
    assert render_json(advice) == SAVED.read_text(encoding="utf-8")
    assert advice.recommendations and advice.drops and advice.steps
    improved = [r for r in advice.results if r.plan_after is not None]
    assert improved and all(r.plan_before is not None for r in improved)


def test_saved_advice_renders_the_terminal_report(tmp_path: Path) -> None:
    check_golden(_table(SAVED), GOLDEN / "demo.table.txt")


def test_report_command_renders_without_a_database(tmp_path: Path) -> None:
    """`indexadvisor report` on a saved file: no DSN, no sandbox, the same JSON back."""
    out = tmp_path / "again.json"
    done = subprocess.run([sys.executable, "-m", "indexadvisor", "report", str(SAVED),
                           "--format", "json", "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == SAVED.read_text(encoding="utf-8")


@pytest.mark.parametrize(("content", "message"), [
    ("not json at all", "not JSON"),
    ('{"tool": {"name": "dexter"}}', "not an indexadvisor advice document"),
    (json.dumps({"tool": {"name": "indexadvisor"}, "schema_version": 1}),
     f"schema_version 1, this indexadvisor reads {SCHEMA_VERSION}"),
    (json.dumps({"tool": {"name": "indexadvisor"}, "schema_version": SCHEMA_VERSION,
                 "settings": {}}), "malformed advice document"),
])
def test_a_bad_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(SourceError, match=message):
        load_advice(bad)
    done = subprocess.run([sys.executable, "-m", "indexadvisor", "report", str(bad)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message.split(",")[0] in done.stderr
    assert "Traceback" not in done.stderr
