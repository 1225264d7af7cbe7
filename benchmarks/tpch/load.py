"""Generate TPC-H data with duckdb and load it into an index-free PostgreSQL database.

Usage::

    python -m benchmarks.tpch.load --dsn "host=/var/tmp/ia-bench port=5499 dbname=tpch" --sf 1

Steps: (1) ``CALL dbgen(sf)`` in duckdb and export one CSV per table into a cache directory
(reused on later runs); (2) drop and recreate the 8 TPC-H tables with the TPC-H types, without
primary keys, foreign keys or indexes, and stream the CSVs in with ``COPY ... (FREEZE)``;
(3) ``VACUUM ANALYZE`` each table. Everything is skipped when the tables already hold the
expected rows for this scale factor, unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

#: Tables in load order (largest first, so parallel loading finishes early).
TABLES: tuple[str, ...] = (
    "lineitem",
    "orders",
    "partsupp",
    "part",
    "customer",
    "supplier",
    "nation",
    "region",
)

#: Marker written as the table comment, e.g. ``indexadvisor-tpch sf=1 rows=6001215``.
COMMENT_RE = re.compile(r"^indexadvisor-tpch sf=(?P<sf>\S+) rows=(?P<rows>\d+)$")

MANIFEST = "manifest.json"
COPY_CHUNK = 4 << 20


def columns(table: str, sf: float) -> list[tuple[str, str]]:
    """Column names and PostgreSQL types of *table*, in duckdb's (= TPC-H's) column order."""
    key = "bigint" if sf > 300 else "integer"  # max o_orderkey is 6e6 * sf; int4 ends at 2^31
    money = "numeric(15,2)"
    schema: dict[str, list[tuple[str, str]]] = {
        "region": [
            ("r_regionkey", "integer"),
            ("r_name", "char(25)"),
            ("r_comment", "varchar(152)"),
        ],
        "nation": [
            ("n_nationkey", "integer"),
            ("n_name", "char(25)"),
            ("n_regionkey", "integer"),
            ("n_comment", "varchar(152)"),
        ],
        "part": [
            ("p_partkey", "integer"),
            ("p_name", "varchar(55)"),
            ("p_mfgr", "char(25)"),
            ("p_brand", "char(10)"),
            ("p_type", "varchar(25)"),
            ("p_size", "integer"),
            ("p_container", "char(10)"),
            ("p_retailprice", money),
            ("p_comment", "varchar(23)"),
        ],
        "supplier": [
            ("s_suppkey", "integer"),
            ("s_name", "char(25)"),
            ("s_address", "varchar(40)"),
            ("s_nationkey", "integer"),
            ("s_phone", "char(15)"),
            ("s_acctbal", money),
            ("s_comment", "varchar(101)"),
        ],
        "partsupp": [
            ("ps_partkey", "integer"),
            ("ps_suppkey", "integer"),
            ("ps_availqty", "integer"),
            ("ps_supplycost", money),
            ("ps_comment", "varchar(199)"),
        ],
        "customer": [
            ("c_custkey", "integer"),
            ("c_name", "varchar(25)"),
            ("c_address", "varchar(40)"),
            ("c_nationkey", "integer"),
            ("c_phone", "char(15)"),
            ("c_acctbal", money),
            ("c_mktsegment", "char(10)"),
            ("c_comment", "varchar(117)"),
        ],
        "orders": [
            ("o_orderkey", key),
            ("o_custkey", "integer"),
            ("o_orderstatus", "char(1)"),
            ("o_totalprice", money),
            ("o_orderdate", "date"),
            ("o_orderpriority", "char(15)"),
            ("o_clerk", "char(15)"),
            ("o_shippriority", "integer"),
            ("o_comment", "varchar(79)"),
        ],
        "lineitem": [
            ("l_orderkey", key),
            ("l_partkey", "integer"),
            ("l_suppkey", "integer"),
            ("l_linenumber", "integer"),
            ("l_quantity", money),
            ("l_extendedprice", money),
            ("l_discount", money),
            ("l_tax", money),
            ("l_returnflag", "char(1)"),
            ("l_linestatus", "char(1)"),
            ("l_shipdate", "date"),
            ("l_commitdate", "date"),
            ("l_receiptdate", "date"),
            ("l_shipinstruct", "char(25)"),
            ("l_shipmode", "char(10)"),
            ("l_comment", "varchar(44)"),
        ],
    }
    return schema[table]


def sf_label(sf: float) -> str:
    """Scale factor as used in names and markers: ``1``, ``0.1``, ``10``."""
    return f"{sf:g}"


def default_cache_dir(sf: float) -> Path:
    """``~/.cache/indexadvisor/tpch-sf<sf>``."""
    return Path.home() / ".cache" / "indexadvisor" / f"tpch-sf{sf_label(sf)}"


def log(msg: str) -> None:
    """Print a progress line immediately."""
    print(msg, flush=True)


# --------------------------------------------------------------------------- generation


def load_tpch_extension(con: Any) -> None:
    """``LOAD tpch`` in duckdb, offline.

    If the extension is not installed yet, install it from the ``duckdb-extension-tpch`` PyPI
    package (``INSTALL '<path>'`` copies the signed binary into ``~/.duckdb``; duckdb checks
    its signature), after which plain ``LOAD tpch`` works without network access.
    """
    import duckdb

    try:
        con.execute("LOAD tpch")
        return
    except duckdb.Error:
        pass
    spec = importlib.util.find_spec("duckdb_extension_tpch")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "duckdb tpch extension unavailable offline: pip install duckdb-extension-tpch"
        )
    pkg = Path(next(iter(spec.submodule_search_locations)))
    binary = pkg / "extensions" / f"v{duckdb.__version__}" / "tpch.duckdb_extension"
    if not binary.is_file():
        found = sorted(pkg.glob("extensions/*/tpch.duckdb_extension"))
        raise RuntimeError(
            f"duckdb-extension-tpch has no build for duckdb {duckdb.__version__} "
            f"(found: {[str(p.parent.name) for p in found]}); install matching versions"
        )
    con.execute("INSTALL '" + str(binary).replace("'", "''") + "'")
    con.execute("LOAD tpch")


def read_manifest(cache_dir: Path, sf: float) -> dict[str, int] | None:
    """Row counts from a complete cache for *sf*, or None when the cache is missing/stale."""
    try:
        data = json.loads((cache_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if data.get("sf") != sf_label(sf):
        return None
    rows: dict[str, int] = data.get("rows", {})
    if set(rows) != set(TABLES) or not all((cache_dir / f"{t}.csv").is_file() for t in TABLES):
        return None
    return rows


def generate(sf: float, cache_dir: Path) -> dict[str, int]:
    """Run duckdb's dbgen and write ``<table>.csv`` plus a manifest; return the row counts."""
    import duckdb

    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / MANIFEST).unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        load_tpch_extension(con)
        t0 = time.perf_counter()
        con.execute("CALL dbgen(sf = ?)", [sf])
        log(f"  dbgen(sf={sf_label(sf)}): {time.perf_counter() - t0:.1f}s")
        rows: dict[str, int] = {}
        t0 = time.perf_counter()
        for table in TABLES:
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
            rows[table] = int(row[0]) if row else 0
            final = cache_dir / f"{table}.csv"
            tmp = final.with_suffix(".csv.tmp")
            target = str(tmp).replace("'", "''")
            con.execute(f"COPY {table} TO '{target}' (FORMAT csv, HEADER false)")
            os.replace(tmp, final)
        log(f"  CSV export to {cache_dir}: {time.perf_counter() - t0:.1f}s")
    finally:
        con.close()
    manifest = {"sf": sf_label(sf), "duckdb": duckdb.__version__, "rows": rows}
    (cache_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return rows


# --------------------------------------------------------------------------- PostgreSQL


def existing_rows(conn: psycopg.Connection[Any], sf: float) -> dict[str, int] | None:
    """Rows per table if all 8 tables exist, were loaded for *sf* and hold the recorded rows."""
    found: dict[str, int] = {}
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(
                "SELECT obj_description(to_regclass(%s), 'pg_class')",
                [table],
            )
            row = cur.fetchone()
            match = COMMENT_RE.match(row[0] or "") if row else None
            if match is None or match["sf"] != sf_label(sf):
                return None
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            count = cur.fetchone()
            if count is None or count[0] != int(match["rows"]):
                return None
            found[table] = count[0]
    conn.rollback()
    return found


def create_and_copy(dsn: str, table: str, sf: float, csv_path: Path, rows: int) -> float:
    """Drop/create *table* and COPY the CSV in, in one transaction (COPY FREEZE); seconds."""
    t0 = time.perf_counter()
    ident = sql.Identifier(table)
    cols = sql.SQL(", ").join(
        sql.SQL("{} {} NOT NULL").format(sql.Identifier(name), sql.SQL(typ))
        for name, typ in columns(table, sf)
    )
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        cur.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, cols))
        copy_stmt = sql.SQL("COPY {} FROM STDIN (FORMAT csv, FREEZE true)").format(ident)
        with cur.copy(copy_stmt) as copy, csv_path.open("rb") as fh:
            while chunk := fh.read(COPY_CHUNK):
                copy.write(chunk)
        if cur.rowcount != rows:
            raise RuntimeError(f"{table}: copied {cur.rowcount} rows, expected {rows}")
        marker = f"indexadvisor-tpch sf={sf_label(sf)} rows={rows}"
        cur.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(ident, sql.Literal(marker)))
    return time.perf_counter() - t0


def vacuum_analyze(dsn: str, table: str) -> float:
    """``VACUUM (ANALYZE)`` one table (sets the visibility map too); seconds."""
    t0 = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    return time.perf_counter() - t0


def run_parallel(jobs: int, fn: Callable[[str], float], label: str) -> float:
    """Run *fn(table)* for every table on *jobs* threads, logging each; wall seconds."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for table, secs in zip(TABLES, pool.map(fn, TABLES), strict=True):
            log(f"  {label} {table}: {secs:.1f}s")
    return time.perf_counter() - t0


def size_report(conn: psycopg.Connection[Any]) -> list[tuple[str, int, int]]:
    """(table, rows, pg_total_relation_size) per table, plus a ``TOTAL (database)`` row."""
    out: list[tuple[str, int, int]] = []
    with conn.cursor() as cur:
        for table in TABLES:
            cur.execute(
                sql.SQL("SELECT count(*), pg_total_relation_size({}) FROM {}").format(
                    sql.Literal(table), sql.Identifier(table)
                )
            )
            row = cur.fetchone()
            assert row is not None
            out.append((table, int(row[0]), int(row[1])))
        cur.execute("SELECT pg_database_size(current_database())")
        db = cur.fetchone()
        assert db is not None
        out.append(("TOTAL (database)", sum(r[1] for r in out), int(db[0])))
    conn.rollback()
    return out


def print_sizes(rows: Iterable[tuple[str, int, int]]) -> None:
    """Print the size report as a small table."""
    log(f"  {'table':<18}{'rows':>12}{'total size':>14}")
    for table, count, size in rows:
        log(f"  {table:<18}{count:>12,}{size / 2**20:>11.1f} MB")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="libpq connection string")
    parser.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    parser.add_argument("--cache-dir", type=Path, help="CSV cache (default ~/.cache/...)")
    parser.add_argument("--force", action="store_true", help="reload even if already loaded")
    parser.add_argument("--jobs", type=int, default=2, help="parallel COPY/VACUUM sessions")
    args = parser.parse_args(argv)
    sf: float = args.sf
    if sf <= 0:
        parser.error("--sf must be positive")
    cache_dir: Path = args.cache_dir or default_cache_dir(sf)
    dsn: str = args.dsn
    t_all = time.perf_counter()

    with psycopg.connect(dsn) as conn:
        if not args.force and (rows := existing_rows(conn, sf)) is not None:
            log(
                f"TPC-H sf={sf_label(sf)} already loaded ({sum(rows.values()):,} rows); "
                "skipping (use --force to reload)"
            )
            print_sizes(size_report(conn))
            return 0

    log(f"[1/3] generate sf={sf_label(sf)}")
    t0 = time.perf_counter()
    manifest = read_manifest(cache_dir, sf)
    if manifest is None:
        manifest = generate(sf, cache_dir)
    else:
        log(f"  using cached CSVs in {cache_dir}")
    log(f"  generate: {time.perf_counter() - t0:.1f}s")

    log(f"[2/3] create tables + COPY ({args.jobs} sessions)")
    rows_by_table = manifest
    secs = run_parallel(
        args.jobs,
        lambda t: create_and_copy(dsn, t, sf, cache_dir / f"{t}.csv", rows_by_table[t]),
        "COPY",
    )
    log(f"  load: {secs:.1f}s")

    log(f"[3/3] VACUUM ANALYZE ({args.jobs} sessions)")
    secs = run_parallel(args.jobs, lambda t: vacuum_analyze(dsn, t), "VACUUM ANALYZE")
    log(f"  vacuum analyze: {secs:.1f}s")

    with psycopg.connect(dsn) as conn:
        print_sizes(size_report(conn))
    log(f"done in {time.perf_counter() - t_all:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
