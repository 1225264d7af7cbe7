"""Write costs (writes.py): lost HOT updates, DELETE's VACUUM work, table counters; the math
by hypothesis, the rest on a real PostgreSQL whose counters come from real writes."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor import AdvisorConfig, advise, connect, load_workload
from indexadvisor.catalog.read import read_catalog
from indexadvisor.model import Candidate, Outcome, TableName
from indexadvisor.report import advice_to_dict
from indexadvisor.selection.writes import (
    TableWrites,
    WriteLoad,
    btree_insert_cost,
    configuration_write_cost,
    vacuum_cost,
    write_overhead,
)

from .conftest import run_sql

T = TableName("public", "t")
COLS = ["a", "b", "c", "d"]
_cands = st.lists(st.builds(lambda cols: Candidate(T, tuple(cols)),
                            st.lists(st.sampled_from(COLS), min_size=1, max_size=2, unique=True)),
                  min_size=1, max_size=4, unique=True)
_loads = st.lists(st.builds(
    lambda kind, cols, rows, calls: WriteLoad(T, kind, rows, calls, frozenset(cols)),
    st.sampled_from(["insert", "update", "delete"]), st.sets(st.sampled_from(COLS)),
    st.floats(0, 100), st.integers(0, 10_000)), max_size=5)
_info = st.builds(lambda idx, upd, hot: {T: TableWrites(1e5, tuple(frozenset(i) for i in idx),
                                                         upd, min(hot, upd))},
                  st.lists(st.sets(st.sampled_from(COLS), min_size=1), max_size=3),
                  st.integers(0, 10_000), st.integers(0, 10_000))


@settings(max_examples=200, deadline=None)
@given(_cands, _loads, _info)
def test_configuration_cost_is_order_free(
        cands: list[Candidate], loads: list[WriteLoad], info: dict[TableName, TableWrites]) -> None:
    joint = configuration_write_cost(cands, loads, info)
    assert joint == pytest.approx(configuration_write_cost(cands[::-1], loads, info))
    alone = [write_overhead(c, loads, info) for c in cands]
    assert all(min(a.inserts, a.updates, a.lost_hot, a.deletes) >= 0 for a in alone)
    # several candidates on the same updated columns: the standalone charges overcount HOT
    if all(x.columns & set(c.columns) for x in loads if x.kind == "update" for c in cands):
        assert joint <= sum(a.total for a in alone) + 1e-6


@given(_cands, _loads, _info)
def test_no_lost_hot_without_an_update_of_its_columns(
        cands: list[Candidate], loads: list[WriteLoad], info: dict[TableName, TableWrites]) -> None:
    for cand in cands:
        touching = [x for x in loads if x.kind == "update" and x.columns & set(cand.columns)]
        if not touching:
            assert write_overhead(cand, loads, info).lost_hot == 0


def test_delete_charges_vacuum_work_per_index() -> None:
    load = WriteLoad(T, "delete", 1.0, 100_000, frozenset())
    cost = write_overhead(Candidate(T, ("a",)), [load], {T: TableWrites(rows=1e6)})
    assert cost.deletes == pytest.approx(100_000 * vacuum_cost(1e6))
    assert cost.inserts == cost.updates == cost.lost_hot == 0
    assert 0 < vacuum_cost(1e6) < btree_insert_cost(1e6) / 20  # small, but not free


# -- real PostgreSQL -------------------------------------------------------------------------

ITEMS = """
CREATE TABLE items (id int PRIMARY KEY, sku text, status int, category int, name text)
    WITH (fillfactor = 70);
CREATE INDEX items_sku_idx ON items (sku);
INSERT INTO items SELECT g, 'S' || g, g % 1000, g % 997, 'n' FROM generate_series(1, 50000) g;
CREATE TABLE queue (id int PRIMARY KEY, kind int, body text);
INSERT INTO queue SELECT g, g % 500, 'x' FROM generate_series(1, 50000) g;
"""

WORKLOAD = """
-- calls: 20000
UPDATE items SET status = $1 WHERE id = $2;
-- calls: 50000
SELECT id, name FROM items WHERE status = $1;
-- calls: 50000
SELECT id, name FROM items WHERE category = $1;
-- calls: 20000
SELECT id, body FROM queue WHERE kind = $1;
-- calls: 100000
DELETE FROM queue WHERE id = $1;
"""


def _wait_for_counters(dsn: str, table: str, column: str, at_least: int) -> None:
    """Block until the cumulative statistics show the writes (flushed by the writer)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute(f"SELECT {column} FROM pg_stat_user_tables "
                               "WHERE relname = %s", (table,)).fetchone()
            if row and row[0] >= at_least:
                return
            time.sleep(0.2)
    raise AssertionError(f"{table}.{column} never reached {at_least}")


def _write(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())
        conn.execute("SELECT pg_stat_force_next_flush()")


@pytest.fixture
def items_db(fresh_db: str, tmp_path: Path) -> str:
    run_sql(fresh_db, ITEMS)
    # real HOT evidence: 2000 updates of an unindexed column on pages with room
    _write(fresh_db, "UPDATE items SET name = 'm' WHERE id <= 2000", "ANALYZE")
    _wait_for_counters(fresh_db, "items", "n_tup_upd", 2000)
    return fresh_db


def test_lost_hot_charged_for_every_existing_index(items_db: str, tmp_path: Path) -> None:
    path = tmp_path / "w.sql"
    path.write_text(WORKLOAD)
    config = AdvisorConfig(partial=False, covering=False)
    with connect(items_db) as conn:
        advice = advise(load_workload([str(path)]), conn, config)
        catalog = read_catalog(conn)
    items = catalog.tables[TableName("public", "items")]
    hot = items.hot_updates / items.updates
    assert hot > 0.3, "the table must be HOT today"  # one big UPDATE fills pages: ~0.45
    assert len(items.indexes) == 2  # items_pkey, items_sku_idx
    unit = btree_insert_cost(items.rows)
    by_cols = {r.candidate.columns: r for r in advice.recommendations}

    status = by_cols[("status",)].write_detail  # updated by the frequent UPDATE
    assert status is not None
    assert status.updates == pytest.approx(20_000 * unit, rel=0.01)
    assert status.lost_hot == pytest.approx(20_000 * hot * (2 * unit + 4.0), rel=0.01)

    category = by_cols[("category",)].write_detail  # never updated: no lost HOT
    assert category is not None
    assert category.lost_hot == 0
    assert category.updates == pytest.approx(20_000 * (1 - hot) * unit, rel=0.01)
    assert category.total < status.total / 3

    kind = by_cols[("kind",)].write_detail  # DELETE-heavy queue: VACUUM work per row
    assert kind is not None
    queue_rows = catalog.tables[TableName("public", "queue")].rows
    assert kind.deletes == pytest.approx(100_000 * vacuum_cost(queue_rows), rel=0.01)
    assert kind.inserts == kind.updates == kind.lost_hot == 0

    rec = next(r for r in advice_to_dict(advice)["recommendations"] if r["columns"] == ["status"])
    assert set(rec["write_overhead_detail"]) == {"inserts", "updates", "lost_hot", "deletes"}
    assert rec["write_overhead"] == pytest.approx(sum(rec["write_overhead_detail"].values()),
                                                  rel=1e-6)


def test_counters_stand_in_for_missing_writes_outside_a_sandbox(fresh_db: str,
                                                                tmp_path: Path) -> None:
    run_sql(fresh_db, "CREATE TABLE ledger (id int PRIMARY KEY, account int, note text)")
    # a busy table: 100,000 rows inserted, 80,000 deleted again (no write in the workload)
    _write(fresh_db,
           "INSERT INTO ledger SELECT g, g % 5000, 'x' FROM generate_series(1, 100000) g",
           "DELETE FROM ledger WHERE id <= 80000", "VACUUM ANALYZE ledger")
    _wait_for_counters(fresh_db, "ledger", "n_tup_del", 80_000)
    path = tmp_path / "w.sql"
    path.write_text("-- calls: 5\nSELECT note FROM ledger WHERE account = $1;\n")
    workload = load_workload([str(path)])
    with connect(fresh_db) as conn:
        live = advise(workload, conn)
        sandbox = advise(workload, conn, sandbox=True)
    [read] = live.results
    assert read.outcome is Outcome.WRITE_COST, read.reason
    assert not live.recommendations
    # the same database taken for a sandbox: counters are only our data load, not used
    [read] = sandbox.results
    assert read.outcome is Outcome.IMPROVED, read.reason
    [rec] = sandbox.recommendations
    assert rec.write_overhead == 0
    # and a zero counter_weight turns them off outside a sandbox too
    with connect(fresh_db) as conn:
        off = advise(workload, conn, AdvisorConfig(counter_weight=0.0))
    assert off.results[0].outcome is Outcome.IMPROVED
