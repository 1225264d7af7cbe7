"""Drop advice on a real PostgreSQL: what may go, what never goes, and what a drop costs."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pglast
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.catalog import Catalog, Index, Table
from indexadvisor.catalog.read import read_catalog
from indexadvisor.db.connect import connect
from indexadvisor.drops.find import find_drop_candidates, protection, redundant_after, shape_of
from indexadvisor.drops.price import NOT_MEASURED, hide_supported, measure_drops
from indexadvisor.explain.costs import CachedCosts
from indexadvisor.explain.hypo import HypoSession
from indexadvisor.ingest.collect import collect
from indexadvisor.model import (
    AdvisorConfig,
    Candidate,
    CostedQuery,
    DropCandidate,
    DropMethod,
    DropReason,
    DropVerdict,
    Query,
    Statement,
    TableName,
    Verdict,
)
from indexadvisor.pipeline.advise import advise
from indexadvisor.report import render_json
from indexadvisor.selection.writes import btree_insert_cost

from .conftest import run_sql
from .golden_files import check_golden as compare_golden

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, a int, b int, c int, d int, email text, status text,
                period int4range);
INSERT INTO t SELECT g, g % 100, g % 7, g % 50, g % 11, 'u' || g || '@x', 's' || g % 3,
                     int4range(g * 10, g * 10 + 5)
FROM generate_series(1, 20000) g;
CREATE UNIQUE INDEX t_email_uniq ON t (email);
CREATE INDEX t_a ON t (a);
CREATE INDEX t_a_b ON t (a, b);
CREATE INDEX t_id_dup ON t (id);
CREATE INDEX t_c ON t (c);
CREATE INDEX t_c_partial ON t (c) WHERE status = 's1';
CREATE INDEX t_d ON t (d);
ALTER TABLE t ADD CONSTRAINT t_period_excl EXCLUDE USING gist (period WITH &&);
CREATE INDEX t_period_gist ON t USING gist (period);

CREATE TABLE ri (k int NOT NULL, v int);
CREATE UNIQUE INDEX ri_k_old ON ri (k);
CREATE UNIQUE INDEX ri_k_new ON ri (k);
ALTER TABLE ri REPLICA IDENTITY USING INDEX ri_k_new;

CREATE TABLE u (k int NOT NULL);
CREATE UNIQUE INDEX u_k_unique ON u (k);
ALTER TABLE u ADD CONSTRAINT u_k_key UNIQUE (k);

CREATE TABLE p (id int, v int, ts date) PARTITION BY RANGE (ts);
CREATE TABLE p_a PARTITION OF p FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
CREATE TABLE p_b PARTITION OF p FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
INSERT INTO p SELECT g, g % 10, date '2020-01-01' + g % 700 FROM generate_series(1, 5000) g;
CREATE INDEX p_v ON p (v);

CREATE TABLE inv (x int);
INSERT INTO inv VALUES (1), (1);
VACUUM ANALYZE;
"""

T = TableName("public", "t")


def _failed_concurrent_build(dsn: str) -> None:
    """A CREATE UNIQUE INDEX CONCURRENTLY that fails leaves an invalid index behind."""
    with (psycopg.connect(dsn, autocommit=True) as conn,
          pytest.raises(psycopg.errors.UniqueViolation)):
        conn.execute("CREATE UNIQUE INDEX CONCURRENTLY inv_x ON inv (x)")


@pytest.fixture
def db(fresh_db: str) -> str:
    run_sql(fresh_db, SCHEMA)
    _failed_concurrent_build(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_reset()")
        conn.execute("SET enable_seqscan = off")
        conn.execute("SELECT count(*) FROM t WHERE d = 3")  # t_d is used since the reset
        conn.execute("SELECT count(*) FROM t WHERE a = 3 AND b = 2")  # and t_a_b
    _wait_for_scan_stats(fresh_db, "t_d")
    _wait_for_scan_stats(fresh_db, "t_a_b")
    return fresh_db


def _drops(dsn: str, **kw: bool) -> dict[str, DropCandidate]:
    with connect(dsn) as conn:
        catalog = read_catalog(conn)
    return {d.index: d for d in find_drop_candidates(catalog, **kw)}


def _wait_for_scan_stats(dsn: str, index: str) -> None:
    """Cumulative statistics reach the shared view when the backend flushes them."""
    for _ in range(50):
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT idx_scan FROM pg_stat_user_indexes "
                               "WHERE indexrelname = %s", (index,)).fetchone()
        if row and row[0]:
            return
        time.sleep(0.1)
    raise AssertionError(f"no scan recorded for {index}")


def test_catalog_reads_the_drop_flags(db: str) -> None:
    with connect(db) as conn:
        cat = read_catalog(conn)
    idx = {i.name: i for t in cat.tables.values() for i in t.indexes}
    assert idx["ri_k_new"].replica_identity and not idx["ri_k_old"].replica_identity
    assert idx["t_period_excl"].exclusion and idx["t_period_excl"].constraint == "t_period_excl"
    assert not idx["inv_x"].valid
    p_v = idx["p_v"]
    children = [i for i in idx.values() if i.parent_oid == p_v.oid]
    assert sorted(c.table.name for c in children) == ["p_a", "p_b"]
    assert cat.stats_reset is not None and cat.read_at is not None
    assert cat.read_at >= cat.stats_reset


def test_what_is_proposed_and_why(db: str) -> None:
    drops = _drops(db)
    reasons = {name: d.reason for name, d in drops.items()}
    assert reasons == {
        "public.t_id_dup": DropReason.DUPLICATE,  # keeps the primary key
        "public.t_period_gist": DropReason.DUPLICATE,  # keeps the exclusion constraint's
        "public.ri_k_old": DropReason.DUPLICATE,  # keeps the replica identity twin
        "public.u_k_unique": DropReason.DUPLICATE,  # unique twin of a unique constraint
        "public.t_a": DropReason.PREFIX_REDUNDANT,
        "public.t_c": DropReason.UNUSED,
        "public.t_c_partial": DropReason.UNUSED,
        "public.p_v": DropReason.UNUSED,  # the partitioned parent, not its partitions'
        "public.inv_x": DropReason.INVALID,
    }
    assert drops["public.t_id_dup"].kept_by == "public.t_pkey"
    assert "t_pkey" in drops["public.t_id_dup"].detail
    assert drops["public.t_period_gist"].kept_by == "public.t_period_excl"
    assert drops["public.ri_k_old"].kept_by == "public.ri_k_new"
    assert drops["public.u_k_unique"].kept_by == "public.u_k_key"
    assert drops["public.t_a"].kept_by == "public.t_a_b"
    assert "since the statistics were reset on" in drops["public.t_c"].detail
    assert "ago" in drops["public.t_c"].detail
    assert "CONCURRENTLY" in drops["public.inv_x"].detail
    for d in drops.values():
        assert d.size_bytes > 0 or d.reason is DropReason.INVALID
        assert d.ddl.startswith("DROP INDEX CONCURRENTLY IF EXISTS ") != d.partitioned


def test_never_proposed(db: str) -> None:
    drops = _drops(db)
    never = ["t_pkey", "t_period_excl", "t_email_uniq", "ri_k_new", "u_k_key", "t_d",
             "t_a_b", "p_a_v_idx", "p_b_v_idx"]
    assert not {f"public.{n}" for n in never} & set(drops)
    with connect(db) as conn:
        cat = read_catalog(conn)
    for table in cat.tables.values():
        for idx in table.indexes:
            if protection(idx) is not None:
                assert idx.qualified_name not in drops, (idx.name, protection(idx))


def test_partitioned_parent_index_drop_is_not_concurrent(db: str) -> None:
    p_v = _drops(db)["public.p_v"]
    assert p_v.partitioned and p_v.ddl == "DROP INDEX IF EXISTS public.p_v;"
    assert "refuses DROP INDEX CONCURRENTLY on a partitioned index" in p_v.detail
    assert "on any of its 2 partitions" in p_v.detail
    with connect(db) as conn:
        sizes = conn.execute("SELECT sum(pg_relation_size(inhrelid)) FROM pg_inherits "
                             "WHERE inhparent = 'public.p_v'::regclass").fetchone()
    assert sizes is not None and p_v.size_bytes == sizes[0] > 0
    assert len(p_v.hide_oids) == 2
    # PostgreSQL's own rule, which the DDL follows
    with psycopg.connect(db, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="concurrently"):
            conn.execute("DROP INDEX CONCURRENTLY public.p_v")
        with pytest.raises(psycopg.errors.DependentObjectsStillExist):
            conn.execute("DROP INDEX public.p_a_v_idx")  # a partition's index cannot go alone


def test_every_ddl_runs(db: str) -> None:
    drops = _drops(db)
    with psycopg.connect(db, autocommit=True) as conn:
        for d in drops.values():
            conn.execute(d.ddl)
        left = {r[0] for r in conn.execute("SELECT indexrelid::regclass::text FROM pg_index "
                                           "JOIN pg_class c ON c.oid = indrelid "
                                           "WHERE c.relnamespace = 'public'::regnamespace")}
    assert {"t_pkey", "t_period_excl", "t_email_uniq", "ri_k_new", "u_k_key", "t_d"} <= left
    assert not {d.index.split(".")[1] for d in drops.values()} & left


def test_no_unused_in_a_sandbox_we_loaded(db: str) -> None:
    reasons = {d.reason for d in _drops(db, include_unused=False).values()}
    assert DropReason.UNUSED not in reasons and DropReason.DUPLICATE in reasons


def test_redundant_after_a_recommended_index(db: str) -> None:
    with connect(db) as conn:
        cat = read_catalog(conn)
    after = redundant_after([Candidate(T, ("c", "d")), Candidate(T, ("b",)),
                             Candidate(T, ("email", "c")), Candidate(T, ("id", "c"))], cat)
    # not t_pkey (a constraint) nor t_email_uniq (unique), nor t_c_partial (a predicate)
    assert [d.index for d in after] == ["public.t_c", "public.t_id_dup"]
    assert {d.reason for d in after} == {DropReason.SUPERSEDED}
    t_c = after[0]
    assert t_c.requires == (Candidate(T, ("c", "d")),)
    assert "after creating the recommended public.t(c, d)" in t_c.detail


# -- what-if drops ---------------------------------------------------------------------------

M = TableName("public", "m")
MEASURE = """
CREATE TABLE m (id int, a int, b int, c int);
INSERT INTO m SELECT g, g % 1000, g % 500, g FROM generate_series(1, 100000) g;
CREATE INDEX m_a ON m (a);
CREATE INDEX m_a_twin ON m (a);
CREATE INDEX m_b ON m (b);
CREATE INDEX m_c ON m (c);
VACUUM ANALYZE m;
"""


def _query(text: str, calls: int, *cols: str) -> CostedQuery:
    q = Query(fingerprint=f"fp:{text}", text=text, relations=("m",), calls=calls,
              total_time_ms=None, samples=())
    return CostedQuery(q, text, 0, None, frozenset((M, c) for c in cols))


WORKLOAD = [_query("SELECT * FROM m WHERE c = 42", 100, "c"),
            _query("SELECT count(*) FROM m WHERE b < 3", 10, "b")]


@pytest.fixture
def mdb(fresh_db: str) -> str:
    run_sql(fresh_db, MEASURE)
    return fresh_db


def _index_set(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT indexrelid::regclass::text, indisvalid::text FROM pg_index "
            "WHERE indrelid = 'public.m'::regclass ORDER BY 1")]


def _measure(conn: psycopg.Connection[Any], candidates: Sequence[DropCandidate],
             workload: Sequence[CostedQuery], *, catalog: Catalog,
             sandbox: bool) -> tuple[DropVerdict, ...]:
    """measure_drops on a HypoPG session of its own (the pipeline shares the run's)."""
    with HypoSession(conn, catalog) as session:
        return measure_drops(CachedCosts(session), candidates, workload, catalog=catalog,
                             sandbox=sandbox)


def test_sandbox_what_if_drop_demotes_a_used_index_and_drops_nothing(mdb: str) -> None:
    before = _index_set(mdb)
    with connect(mdb) as conn:
        cat = read_catalog(conn)
        found = find_drop_candidates(cat)
        by = {d.index: d for d in found}
        assert by["public.m_a_twin"].reason is DropReason.DUPLICATE
        assert by["public.m_c"].reason is DropReason.UNUSED  # idx_scan = 0: never run yet
        verdicts = {v.candidate.index: v for v in _measure(
            conn, found, WORKLOAD, catalog=cat, sandbox=True)}
        assert conn.read_only  # back to read-only after the rolled-back transactions
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    m_c = verdicts["public.m_c"]
    assert m_c.verdict is Verdict.KEEP and m_c.measured and m_c.method is DropMethod.ROLLBACK
    assert "SELECT * FROM m WHERE c = 42" in m_c.reason and "% more without it" in m_c.reason
    assert m_c.cost_change is not None and m_c.cost_change > 100 * 100  # calls-weighted
    assert m_c.queries == (WORKLOAD[0].key,)
    m_a = verdicts["public.m_a_twin"]  # no workload query filters on a: nothing changes
    assert m_a.verdict is Verdict.DROP and m_a.measured and m_a.cost_change == 0.0
    m_b = verdicts["public.m_b"]
    assert m_b.measured and m_b.cost_change is not None
    assert (m_b.verdict is Verdict.KEEP) == any(c.increase > 0.05 for c in m_b.changes)
    assert _index_set(mdb) == before  # the what-if DROP INDEX was rolled back


def test_duplicate_is_free_even_when_the_workload_uses_it(mdb: str) -> None:
    workload = [_query("SELECT * FROM m WHERE a = 7", 1000, "a")]
    with connect(mdb) as conn:
        cat = read_catalog(conn)
        dup = [d for d in find_drop_candidates(cat) if d.reason is DropReason.DUPLICATE]
        (verdict,) = _measure(conn, dup, workload, catalog=cat, sandbox=True)
    assert verdict.verdict is Verdict.DROP and verdict.measured
    assert verdict.cost_change == pytest.approx(0.0)
    assert "serves the same plans" in verdict.reason
    assert _index_set(mdb)[0][0] == "m_a"


def test_superseded_is_measured_with_the_new_index_live(mdb: str) -> None:
    workload = [_query("SELECT * FROM m WHERE b = 7 AND c > 10", 100, "b")]
    with connect(mdb) as conn:
        cat = read_catalog(conn)
        (sup,) = redundant_after([Candidate(M, ("b", "c"))], cat)
        assert sup.index == "public.m_b"
        (verdict,) = _measure(conn, [sup], workload, catalog=cat, sandbox=True)
        # without the new index, m_b is what serves this query
        (alone,) = _measure(conn, [replace(sup, requires=())], workload, catalog=cat,
                            sandbox=True)
    assert verdict.verdict is Verdict.DROP and alone.verdict is Verdict.KEEP


def test_a_failing_what_if_drop_is_reported_not_fatal(mdb: str) -> None:
    ghost = DropCandidate("public.ghost", M, DropReason.UNUSED, "", 0,
                          "DROP INDEX CONCURRENTLY IF EXISTS public.ghost;",
                          schema="public", name="ghost")
    with connect(mdb) as conn:
        cat = read_catalog(conn)
        (verdict,) = _measure(conn, [ghost], WORKLOAD, catalog=cat, sandbox=True)
        assert conn.read_only and conn.execute("SELECT 1").fetchone() == (1,)
    assert not verdict.measured and verdict.cost_change is None
    assert 'the what-if DROP INDEX failed: index "ghost" does not exist' in verdict.reason


def test_never_dropped_against_a_dsn_with_old_hypopg(mdb: str) -> None:
    before = _index_set(mdb)
    with connect(mdb) as conn:
        cat = read_catalog(conn)
        if hide_supported(cat.hypopg_version):
            pytest.skip("HypoPG 1.4+ hides indexes instead")
        found = find_drop_candidates(cat)
        workload = [*WORKLOAD, _query("SELECT * FROM m WHERE a = 7", 5, "a")]
        verdicts = {v.candidate.index: v for v in _measure(
            conn, found, workload, catalog=cat, sandbox=False)}
    assert _index_set(mdb) == before
    assert all(not v.measured and NOT_MEASURED in v.reason and v.cost_change is None
               and v.method is DropMethod.NONE for v in verdicts.values())
    assert "HypoPG 1.4+" in NOT_MEASURED and "--sandbox" in NOT_MEASURED
    # the current plans still show what the workload reads: such an index is kept
    m_c = verdicts["public.m_c"]
    assert m_c.verdict is Verdict.KEEP and m_c.queries == (WORKLOAD[0].key,)
    assert "SELECT * FROM m WHERE c = 42" in m_c.reason
    # ... but a duplicate's twin serves the same plans, read or not
    assert verdicts["public.m_a_twin"].verdict is Verdict.DROP


def test_advise_reports_drops(mdb: str) -> None:
    workload = collect([Statement("SELECT * FROM m WHERE c = 42", "app.sql:1", calls=50),
                        Statement("SELECT * FROM m WHERE a = 3 AND b = 2", "app.sql:2"),
                        Statement("INSERT INTO m VALUES (1, 2, 3, 4)", "app.sql:3", calls=900),
                        Statement("UPDATE m SET c = c + 1 WHERE c = 5", "app.sql:4", calls=7),
                        Statement("SELECT * FROM m WHERE b = 7 AND c BETWEEN 10 AND 900",
                                  "app.sql:5", calls=500)])
    with connect(mdb) as conn:
        # plain btree keys only: the (b, c) recommendation is what supersedes m_b
        config = AdvisorConfig(partial=False, covering=False)
        advice = advise(workload, conn, config, sandbox=True)
    by = {d.candidate.index: d for d in advice.drops}
    assert by["public.m_a_twin"].verdict is Verdict.DROP
    assert "public.m_c" not in by  # in a sandbox the usage counters mean nothing
    # every INSERT row maintains it; the UPDATE of c does not touch it
    assert by["public.m_a_twin"].write_saving == pytest.approx(
        900 * btree_insert_cost(100_000), rel=0.01)
    # the recommended (b, c) makes m_b redundant: measured with (b, c) live
    assert [r.candidate for r in advice.recommendations] == [Candidate(M, ("b", "c"))]
    m_b = by["public.m_b"]
    assert m_b.candidate.reason is DropReason.SUPERSEDED and m_b.measured
    assert m_b.candidate.requires == (Candidate(M, ("b", "c")),)
    assert m_b.verdict is Verdict.DROP and m_b.cost_change is not None
    assert m_b.cost_change < m_b.write_saving  # writes save more than the reads lose
    for verdict in advice.drops:  # each kept index is named by no other drop
        assert verdict.candidate.index not in {d.candidate.kept_by for d in advice.drops}
    doc = json.loads(render_json(advice))
    (entry,) = [d for d in doc["drops"] if d["index"] == "public.m_a_twin"]
    assert {"index", "table", "reason", "detail", "ddl", "size_bytes", "cost_change",
            "measured", "verdict"} <= set(entry)
    assert entry["reason"] == "duplicate" and entry["measured"] is True
    assert entry["ddl"] == "DROP INDEX CONCURRENTLY IF EXISTS public.m_a_twin;"


# -- golden files on the pure logic ---------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden" / "drops"
CASES = sorted(GOLDEN.glob("*.idx"))


def _golden_catalog(text: str) -> Catalog:
    """`name | flags | definition` lines: a catalog without a server (oids in line order)."""
    tables: dict[TableName, list[Index]] = {}
    for oid, line in enumerate(text.splitlines(), 100):
        if not line.strip() or line.startswith("#"):
            continue
        name, flags, definition = (part.strip() for part in line.split("|"))
        words = dict(w.partition("=")[::2] for w in flags.split())
        stmt = pglast.parse_sql(definition)[0].stmt
        table = TableName(stmt.relation.schemaname or "public", stmt.relation.relname)
        shape = shape_of(definition)
        assert shape is not None
        tables.setdefault(table, []).append(Index(
            name=name, schema="public", table=table, columns=(), include=(),
            method=shape.method, unique=shape.unique, primary="primary" in words,
            constraint=words.get("constraint"), predicate=shape.where, definition=definition,
            size_bytes=8192, scans=int(words["scans"]), valid="invalid" not in words, oid=oid,
            parent_oid=1 if "child" in words else None, replica_identity="replident" in words,
            clustered="clustered" in words,
            foreign_keys=(words["fk"],) if "fk" in words else ()))
    return Catalog(150000, "15", "1.3.1", None, ("public",), {
        name: Table(name, "r", (), tuple(idx), 1000, 10, 0, 81920)
        for name, idx in tables.items()})


def check_golden(case: Path) -> None:
    catalog = _golden_catalog(case.read_text())
    drops = find_drop_candidates(catalog)
    lines = []
    for d in drops:
        lines.append(f"{d.index} {d.reason.value}"
                     + (f" kept_by={d.kept_by}" if d.kept_by else ""))
        lines.append(f"  {d.detail}")
    gone = {d.index for d in drops}
    for table in catalog.tables.values():
        for idx in table.indexes:
            if idx.qualified_name not in gone:
                lines.append(f"{idx.qualified_name} stays"
                             + (f": {why}" if (why := protection(idx)) else ""))
    actual = "\n".join(lines) + "\n"
    expected = case.with_suffix(".expected")
    compare_golden(actual, expected)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    check_golden(case)


# -- property tests on the pure logic ---------------------------------------------------------

_COLS = ("a", "b", "c", "d")


@st.composite
def _indexes(draw: st.DrawFn) -> list[Index]:
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        keys = tuple(draw(st.lists(st.sampled_from(_COLS), min_size=1, max_size=3,
                                   unique=True)))
        include = tuple(draw(st.lists(st.sampled_from([c for c in _COLS if c not in keys]),
                                      max_size=2, unique=True)))
        method = draw(st.sampled_from(["btree", "btree", "hash"])) if len(keys) == 1 \
            else "btree"
        if method == "hash":
            include = ()
        where = draw(st.sampled_from([None, None, "(a > 1)"]))
        unique = method == "btree" and draw(st.booleans())
        constraint = f"c{i}" if unique and draw(st.booleans()) else None
        text = (f"CREATE {'UNIQUE ' if unique else ''}INDEX i{i} ON public.t USING {method} "
                f"({', '.join(keys)})")
        if include:
            text += f" INCLUDE ({', '.join(include)})"
        if where:
            text += f" WHERE {where}"
        out.append(Index(
            name=f"i{i}", schema="public", table=T, columns=keys, include=include,
            method=method, unique=unique, primary=False, constraint=constraint,
            predicate=where, definition=text, size_bytes=8192,
            scans=draw(st.sampled_from([0, 3])),
            oid=1000 + i, replica_identity=unique and constraint is None and draw(
                st.booleans()),
            parent_oid=draw(st.sampled_from([None, None, None, 5])),
        ))
    return out


@settings(max_examples=300, deadline=None)
@given(_indexes())
def test_property_drops_are_always_backed_by_an_index_that_stays(indexes: list[Index]) -> None:
    table = Table(T, "r", (), tuple(indexes), 1000, 10, 0, 81920)
    cat = Catalog(150000, "15", "1.3.1", None, ("public",), {T: table})
    drops = find_drop_candidates(cat)
    proposed = {d.index for d in drops}
    by_name = {i.qualified_name: i for i in indexes}
    for d in drops:
        idx = by_name[d.index]
        assert protection(idx) is None  # never a constraint, replica identity, partition's
        if idx.unique:
            assert d.reason is DropReason.DUPLICATE and by_name[d.kept_by or ""].unique
        if d.reason in (DropReason.DUPLICATE, DropReason.PREFIX_REDUNDANT):
            assert d.kept_by not in proposed  # never both twins; the wider one stays
            kept, gone = shape_of(by_name[d.kept_by or ""].definition), shape_of(idx.definition)
            assert kept is not None and gone is not None
            if d.reason is DropReason.DUPLICATE:
                assert kept.lookup == gone.lookup
            else:
                assert kept.covers(gone)
        if d.reason is DropReason.UNUSED:
            assert idx.scans == 0
    # what stays still serves every lookup of what goes
    for d in drops:
        gone = shape_of(by_name[d.index].definition)
        if d.reason in (DropReason.DUPLICATE, DropReason.PREFIX_REDUNDANT):
            assert gone is not None and any(
                (s := shape_of(i.definition)) is not None
                and (s.lookup == gone.lookup or s.covers(gone))
                for i in indexes if i.qualified_name not in proposed)


def test_verdict_weighs_what_reads_lose_against_what_writes_save() -> None:
    from indexadvisor.drops.price import verdict_from_changes
    from indexadvisor.model import QueryChange

    cand = DropCandidate("public.m_b", M, DropReason.UNUSED, "", 8192, "DROP INDEX ...")
    hurt = (QueryChange("q1", "SELECT 1", "a.sql:1", 10, 100.0, 150.0),
            QueryChange("q2", "SELECT 2", "a.sql:2", 5, 100.0, 100.0))
    kept = verdict_from_changes(cand, hurt, DropMethod.ROLLBACK, 0.05)
    assert kept.verdict is Verdict.KEEP and kept.cost_change == 500.0
    assert kept.reason.startswith("keep: SELECT 1 (a.sql:1) costs 50% more without it")
    assert kept.queries == ("q1",)
    dropped = verdict_from_changes(cand, hurt, DropMethod.ROLLBACK, 0.05, saving=501.0)
    assert dropped.verdict is Verdict.DROP and "writes save more" in dropped.reason
    small = (QueryChange("q1", "SELECT 1", "a.sql:1", 10, 100.0, 104.0),)
    assert verdict_from_changes(cand, small, DropMethod.ROLLBACK, 0.05).verdict is Verdict.DROP
