"""Regenerate ``queries/q01.sql`` ... ``q22.sql`` from duckdb's ``tpch_queries()``.

Usage::

    python -m benchmarks.tpch.make_queries [--out DIR] [--check-dsn DSN]

Each query is transpiled duckdb -> postgres with sqlglot, with two targeted fixes that make the
text the usual PostgreSQL form of TPC-H (identical results on TPC-H data, where no column is
NULL):

* ``ORDER BY x DESC``: duckdb sorts NULLs last in both directions, so sqlglot writes
  ``DESC NULLS LAST``; we keep PostgreSQL's default (``DESC``), which a backward btree scan
  can serve.
* ``a / b``: duckdb divides decimals into a DOUBLE, so sqlglot writes
  ``CAST(a AS DOUBLE PRECISION) / b``; all TPC-H divisions are numeric / numeric, which
  PostgreSQL divides exactly, so the cast is dropped.

With ``--check-dsn`` every file is parsed with pglast and EXPLAINed (no ANALYZE) on the loaded
schema, and the estimated total cost of each query is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from benchmarks.tpch import QUERY_DIR, read_queries
from benchmarks.tpch.load import load_tpch_extension

HEADER = "-- TPC-H Q{n}: duckdb tpch_queries() transpiled by benchmarks/tpch/make_queries.py\n"


def duckdb_queries() -> list[tuple[int, str]]:
    """``(number, text)`` of the 22 TPC-H queries shipped with duckdb's tpch extension."""
    import duckdb

    con = duckdb.connect()
    try:
        load_tpch_extension(con)
        rows = con.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY query_nr")
        return [(int(n), str(q)) for n, q in rows.fetchall()]
    finally:
        con.close()


def _postgres_defaults(node: exp.Expression) -> exp.Expression:
    """Drop the duckdb-isms described in the module docstring from one AST node."""
    if isinstance(node, exp.Ordered) and node.args.get("desc"):
        node.set("nulls_first", True)  # PostgreSQL's default for DESC: no NULLS clause
    elif isinstance(node, exp.Div):
        node.set("typed", True)  # native "/" semantics: no CAST(... AS DOUBLE PRECISION)
    return node


def to_postgres(query: str) -> str:
    """Transpile one duckdb TPC-H query to PostgreSQL (one statement, no trailing ``;``)."""
    if "NULLS" in query.upper():
        raise ValueError("explicit NULLS FIRST/LAST in the source: review the DESC rewrite")
    statements = sqlglot.parse(query, read="duckdb")
    if len(statements) != 1 or statements[0] is None:
        raise ValueError(f"expected exactly one statement, got {len(statements)}")
    tree = statements[0].transform(_postgres_defaults)
    return tree.sql(dialect="postgres", pretty=True)


def write_queries(out: Path) -> list[Path]:
    """Write ``qNN.sql`` for all 22 queries into *out*; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, query in duckdb_queries():
        path = out / f"q{n:02d}.sql"
        path.write_text(HEADER.format(n=n) + to_postgres(query) + ";\n")
        paths.append(path)
    return paths


def check(dsn: str, query_dir: Path = QUERY_DIR) -> dict[str, float]:
    """Parse each query with pglast and EXPLAIN it in PostgreSQL; return total cost per query."""
    import pglast
    import psycopg

    costs: dict[str, float] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, text in read_queries(query_dir).items():
            stmts = pglast.parse_sql(text)
            if len(stmts) != 1:
                raise ValueError(f"{name}: {len(stmts)} statements")
            body = text.strip().rstrip(";")
            row = conn.execute("EXPLAIN (FORMAT JSON) " + body).fetchone()
            assert row is not None
            plan: Any = row[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            costs[name] = float(plan[0]["Plan"]["Total Cost"])
    return costs


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=QUERY_DIR, help="output directory")
    parser.add_argument("--check-dsn", help="EXPLAIN every query against this database")
    parser.add_argument("--no-write", action="store_true", help="only check existing files")
    args = parser.parse_args(argv)
    if not args.no_write:
        paths = write_queries(args.out)
        print(f"wrote {len(paths)} queries to {args.out}")
    if args.check_dsn:
        costs = check(args.check_dsn, args.out)
        for name, cost in costs.items():
            print(f"{name}  {cost:>16,.2f}")
        print(f"sum  {sum(costs.values()):>16,.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
