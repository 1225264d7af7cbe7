"""Capturing an application's SQL through SQLAlchemy, then advising on it."""

from __future__ import annotations

from pathlib import Path

from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from indexadvisor import advise, connect, load_workload
from indexadvisor.db.connect import normalize_dsn, redact_dsn
from indexadvisor.ingest.capture import WorkloadRecorder
from indexadvisor.model import Outcome

from .conftest import run_sql


def _engine_url(dsn: str) -> URL:
    parts = conninfo_to_dict(dsn)
    return URL.create("postgresql+psycopg", username=str(parts.get("user", "postgres")),
                      database=str(parts["dbname"]),
                      query={"host": str(parts["host"]), "port": str(parts["port"])})


def test_capture_then_advise(fresh_db: str, tmp_path: Path) -> None:
    run_sql(fresh_db, """
        CREATE TABLE users (id int PRIMARY KEY, email text, team int);
        INSERT INTO users SELECT g, 'u' || g || '@x.org', g % 300 FROM generate_series(1, 30000) g;
        VACUUM ANALYZE;
    """)
    engine = create_engine(_engine_url(fresh_db))
    recorder = WorkloadRecorder.attach(engine)
    with engine.connect() as conn:
        for team in (3, 5, 3, 3):
            conn.execute(text("SELECT id FROM users WHERE team = :team"), {"team": team})
        conn.execute(text("SELECT 'it''s  two  spaces'"))
    recorder.detach()
    engine.dispose()

    recorded = {s.text: s.calls for s in recorder.statements()}
    assert recorded["SELECT id FROM users WHERE team = 3"] == 3
    assert recorded["SELECT id FROM users WHERE team = 5"] == 1
    assert "SELECT 'it''s  two  spaces'" in recorded  # literals untouched

    path = recorder.write(tmp_path / "captured.sql")
    workload = load_workload([str(path)])
    by_team = next(q for q in workload.queries if "team" in q.text)
    assert by_team.calls == 4  # both values group into one fingerprint
    with connect(fresh_db) as conn:
        advice = advise(workload, conn)
    result = next(r for r in advice.results if r.query is by_team)
    assert result.outcome is Outcome.IMPROVED
    assert [r.candidate.columns for r in advice.recommendations] == [("team",)]


def test_urls_users_already_have() -> None:
    assert normalize_dsn("postgresql+psycopg2://app:pw@db/shop") == "postgresql://app:pw@db/shop"
    assert redact_dsn("postgresql+asyncpg://app:pw@db/shop") == \
        "postgresql+asyncpg://app:***@db/shop"
    assert "pw" not in redact_dsn("host=db user=app password='p w' dbname=shop")
