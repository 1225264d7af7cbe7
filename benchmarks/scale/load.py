"""Load the scale workloads' schemas and data into a database (skipped when already there).

Usage::

    python -m benchmarks.scale.load --dsn "host=/var/tmp/ia-bench port=5499 user=postgres" \\
        [--workload analytic|oltp|both] [--scale 1] [--force]

Each workload gets its own database (``scale_analytic``, ``scale_oltp``) on the server the DSN
names, created if missing, with HypoPG; a database comment records what was loaded, so a rerun
with the same scale returns at once.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from . import oltp, snowflake

DATABASES = {"analytic": "scale_analytic", "oltp": "scale_oltp"}


def marker(workload: str, scale: float) -> str:
    return f"indexadvisor-scale {workload} scale={scale:g}"


def database_dsn(dsn: str, workload: str) -> str:
    return make_conninfo(dsn, dbname=DATABASES[workload])


def load(dsn: str, workload: str, scale: float = 1.0, *, force: bool = False) -> str:
    """Create and fill the workload's database unless it holds this scale already; its DSN."""
    name = DATABASES[workload]
    with psycopg.connect(dsn, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,)).fetchone()
        if row is not None and row[0] == marker(workload, scale) and not force:
            return database_dsn(dsn, workload)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = database_dsn(dsn, workload)
    module = snowflake if workload == "analytic" else oltp
    started = time.perf_counter()
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
        conn.execute(module.schema_sql().encode())
        for statement in module.data_sql(scale):
            conn.execute(statement.encode())
        conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
            sql.Identifier(name), sql.Literal(marker(workload, scale))))
    print(f"{name}: loaded at scale {scale:g} in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="server (any database) with HypoPG")
    parser.add_argument("--workload", choices=["analytic", "oltp", "both"], default="both")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    for workload in ("analytic", "oltp") if args.workload == "both" else (args.workload,):
        print(load(args.dsn, workload, args.scale, force=args.force))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
