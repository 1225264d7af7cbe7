"""The bundled demo: schema, deterministic data and a captured workload.

`indexadvisor demo` loads ``schema.sql`` then ``data.sql`` into a throwaway sandbox and
advises on the statements in ``workload/*.sql``. Each workload statement is preceded by a
``-- calls: N`` comment line (how often the application runs it). Two statements are bad on
purpose: one does not parse, one reads a table that does not exist.

``data.sql`` ends with ``VACUUM ANALYZE``, which cannot run in a transaction block or a
multi-statement string: send statements one at a time, in autocommit mode.

>>> schema_sql().count("CREATE TABLE") >= 8
True
>>> data_sql().strip().endswith("VACUUM ANALYZE;")
True
>>> sorted(p.name for p in workload_dir().glob("*.sql"))
['app.sql', 'reports.sql', 'writes.sql']
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_DIR", "data_sql", "schema_sql", "workload_dir"]

DEMO_DIR: Path = Path(__file__).resolve().parent


def schema_sql() -> str:
    """The DDL of the demo database (tables, partitions, existing indexes)."""
    return (DEMO_DIR / "schema.sql").read_text(encoding="utf-8")


def data_sql() -> str:
    """The data generator: fixed seed, ends with ``VACUUM ANALYZE``."""
    return (DEMO_DIR / "data.sql").read_text(encoding="utf-8")


def workload_dir() -> Path:
    """The directory holding the demo workload files (``*.sql``)."""
    return DEMO_DIR / "workload"
