"""Logs written by a REAL PostgreSQL for the log-ingestion tests.

One sandbox writes stderr, csvlog and jsonlog at once (logging_collector); between phases
the logging configuration changes (ALTER SYSTEM + reload) and the files rotate to new names,
so each phase's files hold exactly that phase's workload. The harness's own session logs
nothing (SET log_min_duration_statement = -1 etc.).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from indexadvisor.db.loader import run_script
from indexadvisor.db.sandbox import LocalSandbox

SHOP = Path(__file__).parent.parent / "workloads" / "shop"

# phase name -> settings applied (ALTER SYSTEM) before its workload runs
PHASES: dict[str, dict[str, str]] = {
    "debian": {"log_line_prefix": "%m [%p] %q%u@%d "},
    "vanilla": {"log_line_prefix": "%m [%p] "},
    "rds": {"log_line_prefix": "%t:%r:%u@%d:[%p]:"},
    "queryid": {"log_line_prefix": "%m [%p] %q%u@%d %Q "},
    "log_statement": {"log_line_prefix": "%m [%p] %q%u@%d ", "log_statement": "all",
                      "log_min_duration_statement": "-1", "log_duration": "on"},
    "explain_text": {"log_line_prefix": "%m [%p] %q%u@%d ", "auto_explain.log_min_duration": "0",
                     "auto_explain.log_format": "text"},
    "explain_json": {"log_line_prefix": "%m [%p] %q%u@%d ", "auto_explain.log_min_duration": "0",
                     "auto_explain.log_format": "json"},
}
BASE = {"log_statement": "none", "log_min_duration_statement": "0", "log_duration": "off",
        "auto_explain.log_min_duration": "-1"}

# (text, params or None, prepare): what every phase runs
WORKLOAD: list[tuple[str, tuple[object, ...] | None, bool | None]] = [
    ("SELECT id, status FROM orders WHERE customer_id = 42 ORDER BY created_at DESC LIMIT 10",
     None, None),
    ("SELECT id, status FROM orders WHERE customer_id = 43 ORDER BY created_at DESC LIMIT 10",
     None, None),
    ("SELECT o.id, c.email\n  FROM orders o JOIN customers c ON c.id = o.customer_id\n"
     " WHERE o.status = 'pending'", None, None),
    ("INSERT INTO audit (entity_id, note) VALUES (1, 'it''s, a\nnewline')", None, None),
    ("SELECT id FROM orders WHERE customer_id = %s AND status = %s", (7, "shipped"), True),
    ("SELECT id FROM orders WHERE customer_id = %s AND status = %s", (8, "x, 'y'\nz"), True),
    ("SELECT note FROM audit WHERE entity_id = %s AND note = %s", (3, None), None),
    ("SELECT id FROM customers WHERE id IN (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
     tuple(range(1, 12)), None),
]


def run_workload(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for text, params, prepare in WORKLOAD:
            conn.execute(text, params, prepare=prepare)


def _admin(dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(dsn, autocommit=True)
    for name in ("log_min_duration_statement = -1", "log_statement = 'none'",
                 "log_duration = off", "auto_explain.log_min_duration = -1"):
        conn.execute(f"SET {name}")
    return conn


def _configure(admin: psycopg.Connection, phase: str, settings: dict[str, str]) -> None:
    for name, value in {**BASE, **settings, "log_filename": f"{phase}.log"}.items():
        admin.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.5)
    admin.execute("SELECT pg_rotate_logfile()")
    time.sleep(0.3)


def write_logs(target: Path, workload: Callable[[str], None] = run_workload) -> Path:
    """Run every phase on a fresh sandbox; copy its log files to `target`; return it."""
    settings = {
        "logging_collector": "on", "log_destination": "stderr,csvlog,jsonlog",
        "log_directory": "pglog", "log_filename": "setup.log", "log_checkpoints": "off",
        "log_min_duration_statement": "-1", "session_preload_libraries": "auto_explain",
        "auto_explain.log_min_duration": "-1", "compute_query_id": "on",
    }
    sandbox = LocalSandbox.start(settings)
    try:
        run_script(sandbox.dsn, (SHOP / "schema.sql").read_text(), "shop/schema.sql")
        with _admin(sandbox.dsn) as admin:
            for phase, phase_settings in PHASES.items():
                _configure(admin, phase, phase_settings)
                workload(sandbox.dsn)
            _configure(admin, "end", {})
        time.sleep(0.5)
        target.mkdir(parents=True, exist_ok=True)
        for phase in PHASES:
            for suffix in (".log", ".csv", ".json"):
                shutil.copy(sandbox.datadir / "pglog" / f"{phase}{suffix}", target)
    finally:
        sandbox.stop()
    return target


_written: dict[str, Path] = {}


def real_logs(tmp_root: Path) -> Path:
    """The phase logs, written once per test session (shared by the test modules)."""
    if "logs" not in _written:
        _written["logs"] = write_logs(tmp_root / "pglogs")
    return _written["logs"]
