"""The command line as a user meets it: exit codes, no tracebacks, no passwords."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import run_sql

SCHEMA = """
CREATE TABLE t (id int, k int, v text);
INSERT INTO t SELECT g, g % 5000, 'x' FROM generate_series(1, 60000) g;
VACUUM ANALYZE;
"""


def _run(*args: str, stdin: str | None = None,
         columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INDEXADVISOR_DSN"}
    env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "indexadvisor", *args], capture_output=True,
                          text=True, input=stdin, env=env, timeout=300)


def test_advise_json_against_dsn(fresh_db: str, tmp_path: Path) -> None:
    run_sql(fresh_db, SCHEMA)
    sql = tmp_path / "w.sql"
    sql.write_text("SELECT * FROM t WHERE k = $1;\nSELECT * FROM t WHERE id = 3;\n")
    out = _run("advise", str(sql), "--dsn", fresh_db, "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [r["columns"] for r in doc["recommendations"]] == [["k"], ["id"]] or \
        {tuple(r["columns"]) for r in doc["recommendations"]} == {("k",), ("id",)}
    assert doc["recommendations"][0]["ddl"].startswith("CREATE INDEX CONCURRENTLY")


def test_table_output_and_stdin(fresh_db: str) -> None:
    run_sql(fresh_db, SCHEMA)
    out = _run("advise", "-", "--dsn", fresh_db, stdin="SELECT v FROM t WHERE k = 42;")
    assert out.returncode == 0, out.stderr
    assert "Recommended indexes" in out.stdout and "improved" in out.stdout


def test_schema_file_loads_a_sandbox(tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text(SCHEMA)
    sql = tmp_path / "w.sql"
    sql.write_text("SELECT * FROM t WHERE k = 7")
    out = _run("advise", str(sql), "--schema", str(schema), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["recommendations"][0]["columns"] == ["k"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["advise", "missing.sql", "--dsn", "host=/nonexistent dbname=x"], "no such file"),
        (["advise", "{sql}"], "no database to advise against"),
        (["advise", "{sql}", "--dsn", "postgresql://app:s3cretpw@127.0.0.1:1/db"],
         "cannot connect"),
        (["advise", "{sql}", "--dsn", "host=127.0.0.1 port=1 password=s3cretpw"],
         "cannot connect"),
        (["advise", "{sql}", "--budget", "lots", "--dsn", "x"], "invalid size"),
    ],
)
def test_user_errors_exit_2_without_traceback(tmp_path: Path, args: list[str],
                                              message: str) -> None:
    sql = tmp_path / "w.sql"
    sql.write_text("SELECT 1 FROM t")
    out = _run(*[a.replace("{sql}", str(sql)) for a in args])
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "s3cretpw" not in out.stderr + out.stdout


def test_demo_end_to_end(tmp_path: Path) -> None:
    """The demo as `./scripts/demo` runs it: one screen at 100 columns, every report written
    (HTML, Markdown, DDL, JSON), validated in its sandbox."""
    out = _run("demo", "--reports", str(tmp_path), columns=100)
    assert out.returncode == 0, out.stderr
    screen = (out.stdout + out.stderr).splitlines()
    assert len(screen) <= 60, len(screen)
    assert max(len(line) for line in screen) <= 100
    for name in ("demo.html", "demo.md", "demo.sql", "demo.json"):
        assert str(tmp_path / name) in out.stdout
        assert (tmp_path / name).stat().st_size > 0
    assert "validated by real execution: passed" in out.stdout
    doc = json.loads((tmp_path / "demo.json").read_text())
    assert doc["validation"]["passed"] and doc["validation"]["rounds"]
    assert doc["summary"]["improvement_pct"] > 50
    tables = {r["table"] for r in doc["recommendations"]}
    assert "public.events" in tables  # the partitioned parent
    events = next(r for r in doc["recommendations"] if r["table"] == "public.events")
    assert "ON ONLY public.events" in events["ddl"] and "ATTACH PARTITION" in events["ddl"]
    outcomes = {q["outcome"] for q in doc["queries"]}
    assert {"improved", "unparseable", "unknown_table", "write_cost_too_high"} <= outcomes
    # drop advice: the planted duplicate and prefix, measured in the sandbox; never a
    # constraint's index (customers_email_key backs UNIQUE (email) and no query uses it)
    drops = {d["index"]: d for d in doc["drops"]}
    assert drops["public.orders_created_idx"]["reason"] == "duplicate"
    assert drops["public.orders_created_idx"]["kept_by"] == "public.orders_created_at_idx"
    assert drops["public.audit_log_actor_idx"]["reason"] == "prefix_redundant"
    assert all(d["measured"] and d["verdict"] == "drop" for d in drops.values())
    assert not {i for i in drops if i.endswith(("_pkey", "_key"))}
    assert "public.orders_created_at_idx" not in drops


def test_empty_workload_is_an_error(tmp_path: Path) -> None:
    sql = tmp_path / "empty.sql"
    sql.write_text("-- nothing here\n")
    out = _run("advise", str(sql), "--dsn", "host=/nonexistent")
    assert out.returncode == 2 and "no SQL statements found" in out.stderr
