"""HypoPG session: costs, generic plans, OID budget, partitioned parents, bad statements."""

from __future__ import annotations

import psycopg
import pytest

from indexadvisor.catalog.read import read_catalog
from indexadvisor.db.connect import connect
from indexadvisor.explain.errors import CandidateRefused, StatementNotCostable
from indexadvisor.explain.hypo import HypoSession
from indexadvisor.model import Candidate, TableName
from indexadvisor.model.errors import ExtensionMissing

from .conftest import run_sql

SCHEMA = """
CREATE TABLE items (id int, grp int, name text);
INSERT INTO items SELECT g, g % 1000, 'n' || g FROM generate_series(1, 50000) g;
CREATE TABLE ev (id int, ts date) PARTITION BY RANGE (ts);
CREATE TABLE ev_a PARTITION OF ev FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE ev_b PARTITION OF ev FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
INSERT INTO ev SELECT g, date '2020-01-01' + g % 700 FROM generate_series(1, 40000) g;
CREATE INDEX items_name_partial ON items (name) WHERE grp > 10;
VACUUM ANALYZE;
"""

ITEMS = TableName("public", "items")


@pytest.fixture
def db(fresh_db: str) -> str:
    run_sql(fresh_db, SCHEMA)
    return fresh_db


def test_catalog_reads_partitions_partial_indexes_and_stats(db: str) -> None:
    with connect(db) as conn:
        cat = read_catalog(conn)
    ev = cat.tables[TableName("public", "ev")]
    assert ev.kind == "p" and len(ev.partitions) == 2 and ev.rows == pytest.approx(40000, 0.1)
    assert cat.tables[TableName("public", "ev_a")].parent == ev.name
    items = cat.tables[ITEMS]
    (partial,) = items.indexes
    assert partial.predicate == "(grp > 10)" and partial.columns == ("name",)
    grp = items.column("grp")
    assert grp is not None and grp.stats is not None
    assert grp.stats.distinct_values(items.rows) == pytest.approx(1000, rel=0.2)
    assert items.inserts == 50000
    assert cat.hypopg_version


def test_hypothetical_index_lowers_cost_and_is_named_in_plan(db: str) -> None:
    with connect(db) as conn, HypoSession(conn, read_catalog(conn)) as w:
        before = w.explain("SELECT * FROM items WHERE grp = 5")
        cand = Candidate(ITEMS, ("grp",))
        w.use([cand])
        after = w.explain("SELECT * FROM items WHERE grp = 5")
        assert after.cost < before.cost
        assert [w.candidate_for(n) for n in after.index_names] == [cand]
        assert w.size(cand) > 0
        # generic plan for $n (PREPARE + force_generic_plan on 15)
        generic = w.explain("SELECT * FROM items WHERE grp = $1", param_count=1)
        assert w.candidate_for(generic.index_names[0]) == cand
        # real captured values give a custom plan
        custom = w.explain("SELECT * FROM items WHERE grp = $1", params=("7",))
        assert custom.cost == pytest.approx(after.cost, rel=0.5)
        w.use([])
        assert w.explain("SELECT * FROM items WHERE grp = 5").cost == pytest.approx(before.cost)


def test_bad_statement_does_not_poison_the_session(db: str) -> None:
    with connect(db) as conn, HypoSession(conn, read_catalog(conn)) as w:
        with pytest.raises(StatementNotCostable, match="does not exist"):
            w.explain("SELECT * FROM nope")
        with pytest.raises(StatementNotCostable):
            w.explain("SELECT nope FROM items WHERE grp = $1", param_count=1)
        assert w.explain("SELECT * FROM items WHERE grp = $1", param_count=1).cost > 0
        # captured values that do not fit the statement: its fault, not a lost connection
        with pytest.raises(StatementNotCostable, match="1 parameter values for 2"):
            w.explain("SELECT * FROM items WHERE grp = $1 AND id = $2", params=("7",),
                      param_count=2)
        with pytest.raises(StatementNotCostable, match="requires 2"):  # a count we missed
            w.explain("SELECT * FROM items WHERE grp = $1 AND id = $2", params=("7",))
        assert w.explain("SELECT * FROM items WHERE grp = $1", params=("7",)).cost > 0


def test_oid_budget_resets_and_recreates(db: str) -> None:
    cands = [Candidate(ITEMS, cols) for cols in
             [("grp",), ("id",), ("name",), ("id", "name"), ("id", "grp"), ("name", "id")]]
    with connect(db) as conn, HypoSession(conn, read_catalog(conn), oid_budget=4) as w:
        for cand in cands:
            w.use([cands[0], cand])
            plan = w.explain("SELECT * FROM items WHERE grp = 5")
            assert cands[0] in {w.candidate_for(n) for n in plan.index_names}
        assert w.resets >= 2


def test_a_refused_index_in_a_change_leaves_exactly_what_is_tracked(db: str) -> None:
    """Drops and creates go in one round trip; when the server refuses a create, what the
    batch made is dropped, the indexes it was to drop are gone, and the session goes on."""
    grp, ident, name = (Candidate(ITEMS, (c,)) for c in ("grp", "id", "name"))
    volatile = Candidate(ITEMS, ("(random() * id)",))

    def live(conn: psycopg.Connection, w: HypoSession) -> list[Candidate | None]:
        rows = conn.execute("SELECT index_name FROM hypopg_list_indexes").fetchall()
        return sorted((w.candidate_for(n) for (n,) in rows), key=str)

    with connect(db) as conn, HypoSession(conn, read_catalog(conn)) as w:
        w.use([grp, ident])
        with pytest.raises(CandidateRefused, match="IMMUTABLE"):
            w.use([grp, name, volatile])  # drops id, creates name and the refused one
        # id dropped, nothing of the failed batch left: what lives is what the session knows
        assert live(conn, w) in ([grp], [grp, name])
        w.use([grp, name])
        assert live(conn, w) == [grp, name]
        plan = w.explain("SELECT * FROM items WHERE grp = 5")
        assert {w.candidate_for(n) for n in plan.index_names} == {grp}


def test_partitioned_parent_becomes_one_index_per_leaf(db: str) -> None:
    ev = Candidate(TableName("public", "ev"), ("id",))
    with connect(db) as conn, HypoSession(conn, read_catalog(conn)) as w:
        before = w.explain("SELECT * FROM ev WHERE id = 5").cost
        w.use([ev])
        plan = w.explain("SELECT * FROM ev WHERE id = 5")
        assert plan.cost < before
        assert len(plan.index_names) == 2
        assert {w.candidate_for(n) for n in plan.index_names} == {ev}
        leaf = Candidate(TableName("public", "ev_a"), ("id",))
        assert w.size(ev) > w.size(leaf) > 0


def test_missing_hypopg_is_reported_with_a_way_out(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("DROP EXTENSION hypopg")
    with connect(db) as conn:
        cat = read_catalog(conn)
        with pytest.raises(ExtensionMissing) as err:
            HypoSession(conn, cat)
    assert err.value.hint and "CREATE EXTENSION hypopg" in err.value.hint


def test_connection_is_read_only_and_guarded(db: str) -> None:
    with connect(db) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
        assert conn.execute("SHOW lock_timeout").fetchone() == ("1s",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE should_fail (x int)")
