"""`advise` on a log a real server wrote gives the same advice as on the equivalent .sql file,
and the logged bind values reach `Query.samples[*].params`."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexadvisor import AdvisorConfig, advise, connect, load_workload

from .conftest import run_sql
from .pg_logs import SHOP, WORKLOAD, real_logs


@pytest.fixture
def shop(fresh_db: str) -> str:
    run_sql(fresh_db, (SHOP / "schema.sql").read_text())
    return fresh_db


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    return str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'"


def equivalent_sql() -> str:
    """WORKLOAD as a .sql file, the bound values written in as literals (the same values the
    log's DETAIL lines carry, so both are costed with them)."""
    out = []
    for text, params, _ in WORKLOAD:
        literals = [_literal(v) for v in params or ()]
        out.append(text.replace("%s", "{}").format(*literals) + ";\n")
    return "".join(out)


def test_log_and_sql_give_the_same_advice(shop: str, tmp_path_factory: pytest.TempPathFactory,
                                          tmp_path: Path) -> None:
    log = real_logs(tmp_path_factory.getbasetemp()) / "debian.log"
    sql = tmp_path / "workload.sql"
    sql.write_text(equivalent_sql())
    from_log, from_sql = load_workload([str(log)]), load_workload([str(sql)])
    assert sorted((q.fingerprint, q.calls) for q in from_log.queries) == \
        sorted((q.fingerprint, q.calls) for q in from_sql.queries)
    with connect(shop) as conn:
        on_log = advise(from_log, conn, AdvisorConfig())
        on_sql = advise(from_sql, conn, AdvisorConfig())
    assert on_log.recommendations, "the workload should need an index"
    assert [r.ddl for r in on_log.recommendations] == [r.ddl for r in on_sql.recommendations]
    assert sorted((r.query.fingerprint, r.outcome) for r in on_log.results) == \
        sorted((r.query.fingerprint, r.outcome) for r in on_sql.results)
    # the logged bind values are the samples the advisor costs with
    bound = next(q for q in from_log.queries if "status = $2" in q.text)
    assert [s.params for s in bound.samples] == [("7", "shipped"), ("8", "x, 'y'\nz")]
    assert bound.total_time_ms is not None and bound.max_time_ms is not None
    nulls = next(q for q in from_log.queries if "FROM audit WHERE" in q.text)
    assert nulls.samples[0].params == ("3", None)
