"""TPC-H benchmark: data loader (``load``), queries (``queries/qNN.sql``) and their generator."""

from __future__ import annotations

from pathlib import Path

QUERY_DIR = Path(__file__).with_name("queries")


def read_queries(query_dir: Path = QUERY_DIR) -> dict[str, str]:
    """The TPC-H queries as ``{"q01": sql, ...}``, in query-number order."""
    return {p.stem: p.read_text() for p in sorted(query_dir.glob("q[0-9][0-9].sql"))}
