"""`indexadvisor check` end to end on real PostgreSQL: real migrations in a sandbox and on a
staging database (rolled back), baselines, accepted regressions, production statistics,
Alembic and the pytest capture plugin."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest

from indexadvisor.cli import main

from .conftest import run_sql

SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, name text, region int);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text,
                     total numeric, created date);
CREATE INDEX orders_customer_idx ON orders (customer_id);
"""
DATA = """
INSERT INTO customers SELECT g, 'c' || g, g % 20 FROM generate_series(1, 20000) g;
INSERT INTO orders SELECT g, 1 + g % 20000, CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'done' END,
       g % 1000, date '2024-01-01' + g % 365 FROM generate_series(1, 200000) g;
VACUUM ANALYZE;
"""
WORKLOAD = """-- calls: 100
SELECT * FROM orders WHERE customer_id = 42;
-- calls: 10
SELECT c.name, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id
WHERE c.id = 7 GROUP BY c.name;
SELECT count(*) FROM orders WHERE created = date '2024-03-01';
-- calls: 50
UPDATE orders SET status = 'done' WHERE id = 5;
"""


def gate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    try:
        main(["check", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err.replace("\n", "")  # rich wraps long messages on stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "schema.sql").write_text(SCHEMA + DATA)
    (tmp_path / "workload.sql").write_text(WORKLOAD)
    (tmp_path / "migrations").mkdir()
    return tmp_path


@pytest.fixture
def staging(fresh_db: str) -> str:
    run_sql(fresh_db, SCHEMA + DATA)
    return fresh_db


def _index_exists(dsn: str, name: str) -> bool:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]


def test_dropping_a_needed_index_fails_naming_statement_change_ratio_and_fix(
        project: Path, fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    migration = project / "migrations" / "0002_drop.sql"
    migration.write_text("SET lock_timeout = '2s';\nDROP INDEX CONCURRENTLY orders_customer_idx;\n")
    code, out, _ = gate([str(project / "workload.sql"), "--schema", str(project / "schema.sql"),
                         "--migrations", str(project / "migrations"), "--format", "json"],
                        capsys)
    assert code == 1
    doc = json.loads(out)
    errors = [f for f in doc["findings"] if f["failing"]]
    assert {f["rule"] for f in errors} == {"IA101", "IA102", "IA103"}
    cost = next(f for f in errors if f["rule"] == "IA101"
                and f["source"] == f"{project / 'workload.sql'}:2")
    assert "SELECT * FROM orders WHERE customer_id = 42" in cost["message"]
    assert "orders: Bitmap Heap Scan using orders_customer_idx -> Seq Scan" in cost["message"]
    assert cost["ratio"] > 10
    assert cost["fix"] == ("CREATE INDEX CONCURRENTLY orders_customer_id_idx ON public.orders "
                           "USING btree (customer_id);")
    assert cost["fix_cost"] <= cost["before_cost"] * 1.2
    dropped = next(f for f in errors if f["rule"] == "IA103")
    assert f"{migration}:2 drops" in dropped["message"]
    # no lock hazard: the migration drops concurrently and sets lock_timeout
    assert not [f for f in doc["findings"] if f["rule"] in ("IA302", "IA303")]
    # the printed fix runs on the database it was made for
    run_sql(fresh_db, SCHEMA + "DROP INDEX orders_customer_idx;\n" + cost["fix"])
    assert _index_exists(fresh_db, "orders_customer_id_idx")


def test_an_unrelated_column_passes_on_staging_and_is_rolled_back(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    migration = project / "migrations" / "0003_note.sql"
    migration.write_text("SET lock_timeout = '1s';\nALTER TABLE orders ADD COLUMN note text;\n")
    code, out, _ = gate([str(project / "workload.sql"), "--dsn", staging,
                         "--migrations", str(migration)], capsys)
    assert code == 0, out
    assert "indexadvisor check passed" in out
    assert "executed (rolled back at the end)" in out
    with psycopg.connect(staging) as conn:
        cols = [r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'orders'::regclass"
            " AND attnum > 0").fetchall()]
    assert "note" not in cols


def test_a_staging_drop_fails_and_leaves_the_index(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    migration = project / "migrations" / "0002.sql"
    migration.write_text("DROP INDEX orders_customer_idx;\n")
    code, out, _ = gate([str(project / "workload.sql"), "--dsn", staging,
                         "--migrations", str(migration), "--format", "json"], capsys)
    assert code == 1
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert {"IA101", "IA103", "IA302", "IA303"} <= rules
    assert _index_exists(staging, "orders_customer_idx")


def test_a_migration_syntax_error_exits_2_naming_file_and_line(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    good = project / "migrations" / "0001.sql"
    good.write_text("ALTER TABLE orders ADD COLUMN a int;\n")
    bad = project / "migrations" / "0002.sql"
    bad.write_text("-- add b\nALTER TABLE orders\n  ADD COLUMN b int;\nALTER TABEL orders ADD c;\n")
    code, out, err = gate([str(project / "workload.sql"), "--dsn", staging,
                           "--migrations", str(project / "migrations")], capsys)
    assert code == 2
    assert f"{bad}:4: syntax error at or near \"TABEL\"" in err
    assert "Traceback" not in err + out
    # a statement the server rejects: file, line and the server's words
    bad.write_text("ALTER TABLE orders ADD COLUMN b nosuchtype;\n")
    code, _, err = gate([str(project / "workload.sql"), "--dsn", staging,
                         "--migrations", str(bad)], capsys)
    assert code == 2
    assert f"{bad}:1: the server rejects it: type \"nosuchtype\" does not exist" in err


def test_accepted_regression_passes_until_it_expires(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    baseline = project / "baseline.json"
    args = [str(project / "workload.sql"), "--dsn", staging, "--baseline", str(baseline)]
    code, _, err = gate([*args, "--update-baseline"], capsys)
    assert code == 0 and "baseline of 4 statements written" in err
    first = baseline.read_text()
    assert gate([*args, "--update-baseline"], capsys)[0] == 0
    assert baseline.read_text() == first  # stable under re-runs
    doc = json.loads(first)
    key = next(s["key"] for s in doc["statements"] if "customer_id = 42" in s["text"])
    drop = project / "migrations" / "0002.sql"
    drop.write_text("SET lock_timeout = '2s';\nDROP INDEX CONCURRENTLY orders_customer_idx;\n")
    join = next(s["key"] for s in doc["statements"] if "JOIN" in s["text"])

    def accept(expires: date) -> None:
        doc["accepted"] = [
            {"statement": key, "reason": "reporting replica only", "expires": str(expires)},
            {"statement": join, "reason": "rewritten next sprint"}]
        baseline.write_text(json.dumps(doc))

    accept(date.today() + timedelta(days=30))
    code, out, _ = gate([*args, "--migrations", str(drop), "--format", "json"], capsys)
    assert code == 0, out
    accepted = [f for f in json.loads(out)["findings"] if f["accepted"]]
    assert {f["statement"] for f in accepted} == {key, join}
    assert accepted[0]["accepted"]["reason"] in ("reporting replica only",
                                                 "rewritten next sprint")
    accept(date.today() - timedelta(days=1))
    code, out, _ = gate([*args, "--migrations", str(drop), "--format", "json"], capsys)
    assert code == 1
    result = json.loads(out)
    assert any("accepted regression expired on" in n for n in result["notes"])
    assert {f["statement"] for f in result["findings"] if f["failing"]} == {key}


def test_created_indexes_are_hypothetical_and_judged(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    migration = project / "migrations" / "0004.sql"
    migration.write_text("SET lock_timeout = '1s';\n"
                         "CREATE INDEX orders_created_idx ON orders (created);\n"
                         "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);\n")
    code, out, _ = gate([str(project / "workload.sql"), "--dsn", staging,
                         "--migrations", str(migration), "--format", "json"], capsys)
    doc = json.loads(out)
    by_rule = {(f["rule"], f["message"].split(": ", 1)[0]) for f in doc["findings"]}
    assert ("IA301", f"{migration}:2") in by_rule  # no CONCURRENTLY on an existing table
    unused = [f for f in doc["findings"] if f["rule"] == "IA201"]
    assert [f["source"] for f in unused] == [f"{migration}:3"]
    changed = [f for f in doc["findings"] if f["rule"] == "IA106"]
    assert any("Index Scan using orders_created_idx" in f["message"]
               or "orders_created_idx" in f["message"] for f in changed)
    assert code == 1  # IA301 is an error by default
    assert not _index_exists(staging, "orders_created_idx")
    assert [m["action"] for m in doc["migration"]][1:] == ["hypothetical index (HypoPG)"] * 2


def test_statement_that_breaks_is_named(project: Path, staging: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    migration = project / "migrations" / "0005.sql"
    migration.write_text("SET lock_timeout = '1s';\nALTER TABLE orders DROP COLUMN created;\n")
    code, out, _ = gate([str(project / "workload.sql"), "--dsn", staging,
                         "--migrations", str(migration), "--format", "github"], capsys)
    assert code == 1
    assert ("::error file=" in out and "title=IA107 statement-fails::" in out
            and 'column \\"created\\" does not exist' not in out
            and 'column "created" does not exist' in out)


def test_stats_file_makes_an_empty_sandbox_plan_like_production(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    from indexadvisor.db.connect import Guards
    from indexadvisor.db.target import Script
    from indexadvisor.gate.stats_import import load_stats
    from indexadvisor.gate.target import open_gate_target

    stats = project / "stats.json"
    main(["stats", "export", "--dsn", staging, "-o", str(stats), "--mask", "customers.name"])
    doc = load_stats(stats)
    masked = next(c for c in doc["columns"] if c["column"] == "name")
    assert masked.get("masked") and "most_common_vals" not in masked
    queries = ["SELECT * FROM orders WHERE customer_id = 42",
               "SELECT * FROM orders WHERE status = 'pending'",
               "SELECT c.name, sum(o.total) FROM customers c JOIN orders o"
               " ON o.customer_id = c.id WHERE c.region = 3 GROUP BY c.name"]

    def plans(conn: psycopg.Connection) -> list[tuple[str, float, float]]:
        out = []
        for q in queries:
            plan = conn.execute("EXPLAIN (FORMAT JSON) " + q).fetchone()[0][0]["Plan"]
            out.append((plan["Node Type"], plan["Total Cost"], plan["Plan Rows"]))
        return out

    with psycopg.connect(staging) as conn:
        production = plans(conn)
    schema = [Script(SCHEMA, "schema.sql")]
    with open_gate_target(None, schema, guards=Guards()) as bare:
        empty = plans(bare.conn)
    with open_gate_target(None, schema, guards=Guards(), stats=doc) as target:
        imported = plans(target.conn)
    assert [p[0] for p in imported] == [p[0] for p in production]
    for (_, cost, rows), (_, want_cost, want_rows) in zip(imported, production, strict=True):
        assert rows == pytest.approx(want_rows, rel=0.01)
        assert cost == pytest.approx(want_cost, rel=0.05)
    assert [p[2] for p in empty] != [p[2] for p in production]  # without: nothing alike


ALEMBIC_ENV = '''
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config

def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()

def run_migrations_online():
    engine = engine_from_config(config.get_section(config.config_ini_section, {}),
                                prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''
REVISION = '''"""{doc}"""
from alembic import op
import sqlalchemy as sa

revision = "{rev}"
down_revision = {down!r}


def upgrade():
{body}


def downgrade():
    pass
'''


def _alembic_project(root: Path, revisions: list[tuple[str, str | None, str]]) -> Path:
    (root / "alembic" / "versions").mkdir(parents=True)
    (root / "alembic" / "env.py").write_text(ALEMBIC_ENV)
    (root / "alembic" / "script.py.mako").write_text("")
    ini = root / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {root / 'alembic'}\n"
                   "sqlalchemy.url = driver://user:pass@localhost/db\n")
    for rev, down, body in revisions:
        (root / "alembic" / "versions" / f"{rev}.py").write_text(
            REVISION.format(doc=rev, rev=rev, down=down, body=body))
    return ini


def test_alembic_revisions_are_checked(project: Path, staging: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("alembic")
    ini = _alembic_project(project / "app", [
        ("0001", None, "    op.add_column('orders', sa.Column('channel', sa.Text()))"),
        ("0002", "0001", "    op.execute(\"SET lock_timeout = '1s'\")\n"
                         "    op.drop_index('orders_customer_idx', table_name='orders')"),
    ])
    code, out, err = gate([str(project / "workload.sql"), "--dsn", staging, "--alembic",
                           str(ini), "--alembic-from", "0001", "--format", "json"], capsys)
    assert code == 1, err
    doc = json.loads(out)
    dropped = next(f for f in doc["findings"] if f["rule"] == "IA103")
    revision = project / "app" / "alembic" / "versions" / "0002.py"
    assert f"{revision}:9 drops" in dropped["message"]  # its def upgrade() line
    assert _index_exists(staging, "orders_customer_idx")


def test_alembic_revision_that_does_not_compile_exits_2(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("alembic")
    ini = _alembic_project(project / "app", [
        ("0001", None, "    op.add_column('orders', sa.Column('x', sa.Text())\n"),
    ])
    code, _, err = gate([str(project / "workload.sql"), "--dsn", staging,
                         "--alembic", str(ini)], capsys)
    assert code == 2
    assert str(project / "app" / "alembic" / "versions" / "0001.py") + ":" in err
    assert "Traceback" not in err


PLUGIN_TEST = '''
from sqlalchemy import create_engine, text

def test_app():
    engine = create_engine({url!r})
    with engine.connect() as conn:
        for customer in (42, 42, 7):
            conn.execute(text("SELECT * FROM orders WHERE customer_id = :c"), {{"c": customer}})
    engine.dispose()
'''


def test_pytest_plugin_records_the_suites_sql(staging: str, pytester: pytest.Pytester,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    parts = conninfo_to_dict(staging)
    url = URL.create("postgresql+psycopg", username="postgres", database=str(parts["dbname"]),
                     query={"host": str(parts["host"]), "port": str(parts["port"])})
    pytester.makepyfile(test_app=PLUGIN_TEST.format(url=url.render_as_string()))
    target = pytester.path / "captured" / "tests.sql"
    result = pytester.runpytest_subprocess("--indexadvisor-capture", str(target), "-q")
    result.assert_outcomes(passed=1)
    capsys.readouterr()
    text = target.read_text()
    assert "-- calls: 2\nSELECT * FROM orders WHERE customer_id = 42;" in text
    assert "SELECT * FROM orders WHERE customer_id = 7;" in text
    # and the gate reads it like any workload
    code, out, _ = gate([str(target), "--dsn", staging, "--format", "json"], capsys)
    assert code == 0
    assert len(json.loads(out)["statements"]) == 2
    # off unless enabled
    plain = pytester.runpytest_subprocess("-q")
    plain.assert_outcomes(passed=1)


def test_sandbox_with_production_stats_end_to_end(
        project: Path, staging: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The CI case: schema only, production's statistics, a migration that rewrites a table
    and runs ANALYZE (skipped: it would replace the imported statistics)."""
    stats = project / "stats.json"
    main(["stats", "export", "--dsn", staging, "-o", str(stats)])
    (project / "schema_only.sql").write_text(SCHEMA)
    migration = project / "migrations" / "0006.sql"
    migration.write_text("SET lock_timeout = '1s';\n"
                         "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);\n"
                         "ANALYZE orders;\n"
                         "DROP INDEX CONCURRENTLY orders_customer_idx;\n")
    code, out, err = gate([str(project / "workload.sql"), "--schema",
                           str(project / "schema_only.sql"), "--stats", str(stats),
                           "--migrations", str(migration), "--sandbox", "local",
                           "--format", "json"], capsys)
    assert code == 1, err
    doc = json.loads(out)
    actions = [m["action"] for m in doc["migration"]]
    assert actions[2] == "skipped: it would replace the imported statistics"
    point = next(s for s in doc["statements"] if "customer_id = 42" in s["text"])
    with psycopg.connect(staging) as conn:
        production = conn.execute("EXPLAIN (FORMAT JSON) " + point["text"]).fetchone()[0][0]
    # before the migration: production's plan; after the rewrite: still production's sizes
    assert point["before"]["plan"][0].startswith(production["Plan"]["Node Type"])
    assert point["before"]["rows"] == pytest.approx(production["Plan"]["Plan Rows"], rel=0.01)
    assert point["after"]["plan"] == ["Seq Scan on orders"]
    assert point["after"]["cost"] > 1000  # 200,000 rows' worth of pages, not an empty table
    fix = next(f for f in doc["findings"] if f["rule"] == "IA101" and f["statement"]
               == point["key"])
    assert fix["fix"].startswith("CREATE INDEX CONCURRENTLY orders_customer_id_idx")
