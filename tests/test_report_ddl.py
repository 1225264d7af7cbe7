"""The DDL file runs, in order, on the database it was made for (psql, as a DBA runs it), and
the CLI writes every report; --validate refuses a database it may not build on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from indexadvisor import AdvisorConfig, advise, connect, demo, load_workload
from indexadvisor.db.sandbox.local import find_bindir
from indexadvisor.model import Verdict
from indexadvisor.report import render_ddl

from .conftest import run_sql


def test_the_sql_file_runs_in_order_on_its_database(fresh_db: str, tmp_path: Path) -> None:
    run_sql(fresh_db, demo.schema_sql())
    run_sql(fresh_db, demo.data_sql())
    with connect(fresh_db) as conn:
        advice = advise(load_workload([str(demo.workload_dir())]), conn,
                        AdvisorConfig(budget_bytes=64_000_000))
    assert any("ATTACH PARTITION" in r.ddl for r in advice.recommendations)
    drops = [d for d in advice.drops if d.verdict is Verdict.DROP]
    assert drops
    script = tmp_path / "advice.sql"
    script.write_text(render_ddl(advice), encoding="utf-8")
    done = subprocess.run([str(find_bindir() / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-f",
                           str(script), fresh_db], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stderr
    with psycopg.connect(fresh_db) as conn:
        names = {r[0] for r in conn.execute(
            "SELECT schemaname || '.' || indexname FROM pg_indexes").fetchall()}
        invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()
    for rec in advice.recommendations:
        created = rec.ddl.split(" ON ")[0].split()[-1]
        assert f"{rec.candidate.table.schema}.{created}" in names, rec.ddl
    assert not {d.candidate.index for d in drops} & names
    assert invalid == (0,)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "indexadvisor", *args], capture_output=True,
                          text=True, timeout=300)


def test_validate_is_refused_on_a_users_database(tmp_path: Path) -> None:
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT 1;\n")
    out = _run("advise", str(sql), "--dsn", "host=/nonexistent password=s3cretpw",
               "--validate")
    assert out.returncode == 2
    assert "--validate builds indexes, which happens only in a sandbox" in out.stderr
    assert "--validate-dsn" in out.stderr and "s3cretpw" not in out.stderr + out.stdout


def test_advise_validate_in_a_sandbox_writes_every_report(tmp_path: Path) -> None:
    schema = tmp_path / "schema.sql"
    schema.write_text("CREATE TABLE t (id int, v int);\n"
                      "INSERT INTO t SELECT g, g % 1000 FROM generate_series(1, 50000) g;\n"
                      "ANALYZE t;\n")
    sql = tmp_path / "q.sql"
    sql.write_text("-- calls: 100\nSELECT id FROM t WHERE v = 7;\n")
    out = _run("advise", str(sql), "--schema", str(schema), "--validate", "--runs", "2",
               "--html", str(tmp_path / "r.html"), "--md", str(tmp_path / "r.md"),
               "--sql", str(tmp_path / "r.sql"), "-o", str(tmp_path / "r.json"))
    assert out.returncode == 0, out.stderr
    assert "validated by real execution: passed" in out.stdout
    assert "JSON report:" in out.stdout and "HTML report:" in out.stdout
    for name in ("r.html", "r.md", "r.sql", "r.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert '"validation": {' in (tmp_path / "r.json").read_text()
    assert "CREATE INDEX CONCURRENTLY t_v_" in (tmp_path / "r.sql").read_text()
