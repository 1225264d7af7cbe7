"""Golden files: compare a test's text with the expected file, or rewrite it on request.

Set INDEXADVISOR_UPDATE_GOLDEN=1 to rewrite the expected files, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path


def check_golden(actual: str, expected: Path) -> None:
    """Assert `actual` equals the text of `expected` (written instead when updating)."""
    if os.environ.get("INDEXADVISOR_UPDATE_GOLDEN") == "1":
        expected.write_text(actual)
    assert expected.exists(), f"missing {expected.name}: run with INDEXADVISOR_UPDATE_GOLDEN=1"
    assert actual == expected.read_text()
