"""Analysis in worker processes: the same verdicts, in the same order, as in one process
(the benchmark's 100-table OLTP schema, its statements with `$n` parameters among them,
and statements that fail analysis for each reason)."""

from __future__ import annotations

import threading

import pytest

from benchmarks.scale import oltp
from indexadvisor.catalog.read import read_catalog
from indexadvisor.db.connect import connect
from indexadvisor.ingest.collect import collect
from indexadvisor.model import Statement
from indexadvisor.pipeline import analysis

from .conftest import run_sql


@pytest.mark.parametrize("threads", [1, 2], ids=["forked", "spawned"])
def test_processes_analyze_as_one_does(fresh_db: str, monkeypatch: pytest.MonkeyPatch,
                                       threads: int) -> None:
    """(with another thread running, workers are spawned, not forked)"""
    run_sql(fresh_db, oltp.schema_sql())
    texts = [text for text, _ in oltp.statements()[:300]]
    texts += ["SELECT * FROM no_such_table WHERE id = 1", "SELECT 1",
              "SELECT relname FROM pg_class WHERE oid = 1",
              "SELECT * FROM t000 WHERE id = $1"]
    workload = collect(Statement(text, f"w.sql:{n}") for n, text in enumerate(texts, 1))
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
    one = analysis.analyze_workload(workload, catalog)
    monkeypatch.setattr(analysis, "PARALLEL_MIN_QUERIES", 1)
    monkeypatch.setattr(threading, "active_count", lambda: threads)
    three = analysis.analyze_workload(workload, catalog, jobs=3)
    assert len(one.reads) > 250 and len(one.problems) >= 3
    assert three.reads == one.reads
    assert three.writes == one.writes
    assert three.problems == one.problems
    assert [i.costed for i in three.reads] == [i.costed for i in one.reads]
