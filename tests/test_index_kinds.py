"""Issue 4's acceptance tests: each index kind proposed where it should be, and not where it
should not, end to end through `advise()` on a real PostgreSQL with HypoPG.

Every test builds a small realistic schema in `fresh_db` (generate_series, skewed where the
kind needs it), runs the advisor on a workload of `Statement`s, and where an index is proposed,
builds it for real from the recommended DDL and checks the real planner uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from indexadvisor.db.connect import connect
from indexadvisor.ingest.collect import collect
from indexadvisor.model import (
    Advice,
    AdvisorConfig,
    DropReason,
    Outcome,
    QueryResult,
    Recommendation,
    Statement,
    TableName,
    Verdict,
)
from indexadvisor.model.plan import index_names
from indexadvisor.pipeline.advise import advise

from .conftest import run_sql


def _advise(dsn: str, statements: Sequence[Statement], config: AdvisorConfig | None = None,
            *, sandbox: bool = False) -> Advice:
    with connect(dsn) as conn:
        return advise(collect(statements), conn, config or AdvisorConfig(), sandbox=sandbox)


def _result(advice: Advice, fragment: str) -> QueryResult:
    (found,) = [r for r in advice.results if fragment in r.query.text]
    return found


def _build(dsn: str, rec: Recommendation) -> None:
    """Run a recommendation's DDL for real, statement by statement, in autocommit (as a DBA
    would: CREATE INDEX CONCURRENTLY cannot run inside a transaction block)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in rec.ddl.splitlines():
            if not statement.startswith("--"):
                conn.execute(statement.encode())


def _plan(dsn: str, text: str) -> dict[str, Any]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(("EXPLAIN (FORMAT JSON) " + text).encode()).fetchone()
    assert row is not None
    plan: dict[str, Any] = row[0][0]["Plan"]
    return plan


def _nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", ()) for n in _nodes(child))]


def _index_name(rec: Recommendation) -> str:
    """The name the DDL gives the index (the first CREATE INDEX of it)."""
    words = rec.ddl.split()
    return words[3] if words[2] == "CONCURRENTLY" else words[2]


# -- 1. partial index for a rare status ------------------------------------------------------

ORDERS = """
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id int NOT NULL,
    status text NOT NULL,
    created_at timestamp NOT NULL,
    total numeric(10, 2) NOT NULL,
    note text
);
INSERT INTO orders
SELECT g, g % 5000,
       CASE WHEN g % 100 = 0 THEN 'pending'      --  1%
            WHEN g % 100 <= 60 THEN 'shipped'    -- 60%
            WHEN g % 100 <= 90 THEN 'delivered'  -- 30%
            ELSE 'cancelled' END,                --  9%
       timestamp '2024-01-01' + g * interval '1 minute', (g % 997) * 1.5, repeat('x', 40)
FROM generate_series(1, 100000) g;
VACUUM (ANALYZE) orders;
"""
ORDERS_T = TableName("public", "orders")
BY_STATUS = "SELECT id, total FROM orders WHERE status = {} ORDER BY created_at LIMIT 50"
PENDING = "status = 'pending'"


def _partials(advice: Advice) -> list[Recommendation]:
    return [r for r in advice.recommendations if r.candidate.where is not None]


def test_partial_index_for_a_rare_status(fresh_db: str) -> None:
    run_sql(fresh_db, ORDERS)
    rare = BY_STATUS.format("'pending'")
    advice = _advise(fresh_db, [Statement(rare, "app.sql:1", calls=1000)])
    (rec,) = _partials(advice)
    assert rec.candidate.table == ORDERS_T and rec.candidate.where == PENDING
    assert rec.candidate.columns == ("created_at",)  # status is constant inside the index
    assert rec.ddl.startswith("CREATE INDEX CONCURRENTLY ")
    assert rec.ddl.endswith(" WHERE status = 'pending';")
    result = _result(advice, "'pending'")
    assert result.outcome is Outcome.IMPROVED and rec.candidate.label in result.indexes_used
    # smaller than the full index on the same key: it holds 1% of the rows
    assert rec.size_bytes < 0.1 * 100_000 * 16

    # built for real, the planner picks it for the query (and not for another status)
    _build(fresh_db, rec)
    run_sql(fresh_db, "ANALYZE orders")
    assert _index_name(rec) in set(index_names(_plan(fresh_db, rare)))
    other = BY_STATUS.format("'cancelled'")
    assert _index_name(rec) not in set(index_names(_plan(fresh_db, other)))


def test_no_partial_index_for_a_common_status(fresh_db: str) -> None:
    run_sql(fresh_db, ORDERS)
    advice = _advise(fresh_db, [Statement(BY_STATUS.format("'shipped'"), "app.sql:1",
                                          calls=1000)])
    assert _partials(advice) == []
    # the query still gets an index: a plain one
    assert _result(advice, "'shipped'").outcome is Outcome.IMPROVED
    assert [r.candidate.where for r in advice.recommendations] == [None]


def test_no_partial_index_when_samples_use_different_constants(fresh_db: str) -> None:
    run_sql(fresh_db, ORDERS)
    # both statuses are rare (1%, 9%): each alone passes the selectivity test
    statements = [Statement(BY_STATUS.format("'pending'"), "app.sql:1", calls=500),
                  Statement(BY_STATUS.format("'cancelled'"), "app.sql:2", calls=500)]
    workload = collect(statements)
    (query,) = workload.queries
    assert len(query.samples) == 2 and query.calls == 1000  # one group, two constants
    advice = _advise(fresh_db, statements)
    assert _partials(advice) == []
    assert _result(advice, "status =").outcome is Outcome.IMPROVED
    assert {r.candidate.columns for r in advice.recommendations} == {("status", "created_at")}

    # the same with bound parameters that differ between captured calls
    param = BY_STATUS.format("$1")
    advice = _advise(fresh_db, [Statement(param, "log:1", calls=500, params=("pending",)),
                                Statement(param, "log:2", calls=500, params=("cancelled",))])
    assert _partials(advice) == []


def test_partial_index_for_a_parameter_always_bound_to_the_rare_status(fresh_db: str) -> None:
    run_sql(fresh_db, ORDERS)
    param = BY_STATUS.format("$1")
    statements = [Statement(param, f"postgresql.log:{n}", calls=300, params=("pending",))
                  for n in (10, 20, 30)]
    advice = _advise(fresh_db, statements)
    (rec,) = _partials(advice)
    assert rec.candidate.where == PENDING and rec.ddl.endswith(" WHERE status = 'pending';")
    result = _result(advice, "$1")
    assert result.outcome is Outcome.IMPROVED and rec.candidate.label in result.indexes_used
    # costed with the captured value (a custom plan): exactly what the literal query costs;
    # a generic plan could never prove the partial index's predicate
    literal = _result(_advise(fresh_db, [Statement(BY_STATUS.format("'pending'"), "x:1")]),
                      "'pending'")
    assert result.cost_before == pytest.approx(literal.cost_before)
    assert result.cost_after == pytest.approx(literal.cost_after)
    assert result.cost_after is not None and result.cost_before is not None
    assert result.cost_after < result.cost_before / 100

    # built for real, a prepared statement run with 'pending' (a custom plan) reads it
    _build(fresh_db, rec)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("ANALYZE orders")
        conn.execute(("PREPARE q(text) AS " + param).encode())
        conn.execute("SET plan_cache_mode = force_custom_plan")
        row = conn.execute("EXPLAIN (FORMAT JSON) EXECUTE q('pending')").fetchone()
    assert row is not None
    assert _index_name(rec) in set(index_names(row[0][0]["Plan"]))


# -- 2. expression index for lower(email) (tests/test_expressions.py covers it in depth) -----

USERS = """
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text);
INSERT INTO users SELECT g, 'User' || g || '@Example.com', 'n' || g
FROM generate_series(1, 50000) g;
VACUUM (ANALYZE) users;
"""


def test_expression_index_for_lower_email(fresh_db: str) -> None:
    run_sql(fresh_db, USERS)
    advice = _advise(fresh_db, [
        Statement("SELECT id, name FROM users WHERE lower(email) = 'user42@example.com'",
                  "app.sql:1", calls=100),
        Statement("SELECT id, name FROM users WHERE name = 'n42'", "app.sql:2", calls=100),
    ])
    keys = {r.candidate.columns: r for r in advice.recommendations}
    assert set(keys) == {("(lower(email))",), ("name",)}  # a plain key for the plain filter
    assert not any("email" in r.candidate.columns for r in advice.recommendations)
    lower = keys[("(lower(email))",)]
    assert "USING btree ((lower(email)))" in lower.ddl
    assert _result(advice, "lower(email)").outcome is Outcome.IMPROVED
    _build(fresh_db, lower)
    run_sql(fresh_db, "ANALYZE users")
    plan = _plan(fresh_db, "SELECT id FROM users WHERE lower(email) = 'user7@example.com'")
    assert _index_name(lower) in set(index_names(plan))


# -- 3. a parent index on a partitioned table, with the online DDL sequence ------------------

EVENTS = """
CREATE TABLE events (
    id bigint NOT NULL,
    tenant_id int NOT NULL,
    kind text NOT NULL,
    created_at timestamp NOT NULL
) PARTITION BY RANGE (created_at);
CREATE TABLE events_2024q1 PARTITION OF events
    FOR VALUES FROM ('2024-01-01') TO ('2024-04-01');
CREATE TABLE events_2024q2 PARTITION OF events
    FOR VALUES FROM ('2024-04-01') TO ('2024-07-01');
CREATE TABLE events_2024q3 PARTITION OF events
    FOR VALUES FROM ('2024-07-01') TO ('2024-10-01');
INSERT INTO events
SELECT g, g % 2000, 'k' || g % 7, timestamp '2024-01-01' + (g % 270) * interval '1 day'
FROM generate_series(1, 90000) g;
CREATE TABLE tenants (id int PRIMARY KEY, region text NOT NULL);
INSERT INTO tenants SELECT g, 'r' || g % 9 FROM generate_series(1, 20000) g;
VACUUM (ANALYZE) events, tenants;
"""
EVENTS_T = TableName("public", "events")
LEAVES = ("events_2024q1", "events_2024q2", "events_2024q3")


def test_parent_index_on_a_partitioned_table_with_the_online_ddl(fresh_db: str) -> None:
    run_sql(fresh_db, EVENTS)
    by_tenant = "SELECT id, kind FROM events WHERE tenant_id = 42"
    advice = _advise(fresh_db, [
        Statement(by_tenant, "app.sql:1", calls=500),
        Statement("SELECT count(*) FROM tenants WHERE region = 'r4'", "app.sql:2", calls=100),
    ])
    (rec,) = [r for r in advice.recommendations if r.candidate.table.name.startswith("events")]
    # on the parent, never on a leaf: HypoPG costed it in every partition
    assert rec.candidate.table == EVENTS_T and rec.candidate.columns == ("tenant_id",)
    # vacuumed leaves: the parent index may cover the query (INCLUDE) for index-only scans
    keys = "(tenant_id)" + (" INCLUDE (id, kind)" if rec.candidate.include else "")
    assert _result(advice, by_tenant).outcome is Outcome.IMPROVED
    lines = rec.ddl.splitlines()
    assert len(lines) == 1 + 2 * len(LEAVES)
    name = _index_name(rec)
    assert lines[0] == f"CREATE INDEX {name} ON ONLY public.events USING btree {keys};"
    for line, leaf in zip(lines[1:4], LEAVES, strict=True):
        assert line.startswith("CREATE INDEX CONCURRENTLY ")
        assert f" ON public.{leaf} USING btree {keys};" in line
    for line, leaf in zip(lines[4:], LEAVES, strict=True):
        assert line.startswith(f"ALTER INDEX public.{name} ATTACH PARTITION public.{leaf}")
    leaf_names = [line.split()[3] for line in lines[1:4]]
    assert [line.split()[-1].rstrip(";") for line in lines[4:]] == \
        [f"public.{n}" for n in leaf_names]
    # an ordinary table gets one plain concurrent build, no ON ONLY, no ATTACH
    others = [r for r in advice.recommendations if r is not rec]
    assert others and all(r.candidate.table.name == "tenants" for r in others)
    for other in others:
        assert other.ddl.startswith("CREATE INDEX CONCURRENTLY ")
        assert "ON ONLY" not in other.ddl and "ATTACH" not in other.ddl
        assert len(other.ddl.splitlines()) == 1

    # run for real, one statement at a time: the parent's index turns valid after the last
    # ATTACH, and the planner reads the partitions' indexes
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(lines[0].encode())
        (valid,) = conn.execute("SELECT indisvalid FROM pg_index "
                                "WHERE indexrelid = %s::regclass", (name,)).fetchone() or ()
        assert valid is False  # ON ONLY: invalid until every partition's index is attached
        for statement in lines[1:]:
            conn.execute(statement.encode())
        rows = conn.execute(
            "SELECT i.indisvalid, count(*) FROM pg_index i "
            "JOIN pg_inherits h ON h.inhrelid = i.indexrelid "
            "WHERE h.inhparent = %s::regclass GROUP BY 1", (name,)).fetchall()
        (valid,) = conn.execute("SELECT indisvalid FROM pg_index "
                                "WHERE indexrelid = %s::regclass", (name,)).fetchone() or ()
        conn.execute("ANALYZE events")
    assert valid is True and rows == [(True, len(LEAVES))]
    used = set(index_names(_plan(fresh_db, by_tenant)))
    assert used and used <= set(leaf_names)
    # a new partition now gets the parent's index automatically
    run_sql(fresh_db, "CREATE TABLE events_2024q4 PARTITION OF events "
                      "FOR VALUES FROM ('2024-10-01') TO ('2025-01-01')")
    with psycopg.connect(fresh_db) as conn:
        (count,) = conn.execute("SELECT count(*) FROM pg_inherits "
                                "WHERE inhparent = %s::regclass", (name,)).fetchone() or ()
    assert count == len(LEAVES) + 1


# -- 4. INCLUDE for an index-only scan -------------------------------------------------------

READINGS = """
-- The sandbox runs with synchronous_commit = off: a row's commit hint bit waits for the WAL
-- flush, and VACUUM marks no page all-visible before it. run_script keeps one session.
SET synchronous_commit = on;
CREATE TABLE readings (
    id bigint PRIMARY KEY,
    sensor_id int NOT NULL,
    ts timestamp NOT NULL,
    value float8 NOT NULL,
    unit text NOT NULL,
    payload text NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO readings
SELECT g, g % 300, timestamp '2024-01-01' + g * interval '1 minute', (g % 1000) / 10.0, 'C',
       repeat(md5(g::text), 3)
FROM generate_series(1, 120000) g;
"""
SUM_RANGE = ("SELECT sum(value) FROM readings "
             "WHERE ts >= '2024-01-10' AND ts < '2024-01-30'")  # ~29,000 rows


def _covering(advice: Advice) -> list[Recommendation]:
    return [r for r in advice.recommendations if r.candidate.include]


def _visibility(dsn: str) -> tuple[int, int]:
    """relpages and relallvisible of readings."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT relpages, relallvisible FROM pg_class "
                           "WHERE oid = 'readings'::regclass").fetchone()
    assert row is not None
    return row[0], row[1]


def test_include_for_an_index_only_scan_on_a_vacuumed_table(fresh_db: str) -> None:
    run_sql(fresh_db, READINGS + "VACUUM (ANALYZE) readings;")
    pages, visible = _visibility(fresh_db)
    assert pages > 0 and visible == pages
    advice = _advise(fresh_db, [Statement(SUM_RANGE, "app.sql:1", calls=200)])
    (rec,) = advice.recommendations
    assert rec.candidate.columns == ("ts",) and rec.candidate.include == ("value",)
    assert rec.ddl.endswith("USING btree (ts) INCLUDE (value);")
    assert _result(advice, "sum(value)").outcome is Outcome.IMPROVED
    plain = _advise(fresh_db, [Statement(SUM_RANGE, "app.sql:1", calls=200)],
                    AdvisorConfig(covering=False))
    assert advice.bounds.candidates == plain.bounds.candidates + 1  # the INCLUDE twin
    _build(fresh_db, rec)
    run_sql(fresh_db, "ANALYZE readings")
    scans = [n for n in _nodes(_plan(fresh_db, SUM_RANGE)) if n.get("Index Name")]
    assert [(n["Node Type"], n["Index Name"]) for n in scans] == \
        [("Index Only Scan", _index_name(rec))]


def test_no_include_where_the_visibility_map_is_not_set(fresh_db: str) -> None:
    # vacuumed once, then every row updated: the visibility map is cleared again
    run_sql(fresh_db, READINGS + "VACUUM (ANALYZE) readings; "
                                 "UPDATE readings SET value = value + 1; ANALYZE readings;")
    pages, visible = _visibility(fresh_db)
    assert pages > 0 and visible < 0.5 * pages
    workload = [Statement(SUM_RANGE, "app.sql:1", calls=200)]
    advice = _advise(fresh_db, workload)
    assert _covering(advice) == []
    # not even costed: INCLUDE variants on changes nothing in the candidate set
    plain = _advise(fresh_db, workload, AdvisorConfig(covering=False))
    assert advice.bounds.candidates == plain.bounds.candidates
    # the range still gets a plain index on its key
    assert [r.candidate.columns for r in advice.recommendations] == [("ts",)]


# -- 5. no index on a write-heavy table whose reads are rare ---------------------------------

AUDIT = """
CREATE TABLE audit_log (
    id bigint PRIMARY KEY,
    entity_id int NOT NULL,
    action text NOT NULL,
    at timestamp NOT NULL
);
INSERT INTO audit_log
SELECT g, g % 20000, 'a' || g % 5, timestamp '2024-01-01' + g * interval '1 second'
FROM generate_series(1, 100000) g;
VACUUM (ANALYZE) audit_log;
"""
AUDIT_READ = "SELECT id, action, at FROM audit_log WHERE entity_id = 4242"
AUDIT_WRITES = [
    Statement("INSERT INTO audit_log (id, entity_id, action, at) VALUES ($1, $2, $3, now())",
              "pg_stat_statements", calls=400_000),
    Statement("UPDATE audit_log SET entity_id = $1, action = $2 WHERE id = $3",
              "pg_stat_statements", calls=200_000),
]


def test_no_index_on_a_write_heavy_table_whose_reads_are_rare(fresh_db: str) -> None:
    run_sql(fresh_db, AUDIT)
    advice = _advise(fresh_db, [*AUDIT_WRITES,
                                Statement(AUDIT_READ, "pg_stat_statements", calls=3)])
    read = _result(advice, "entity_id = 4242")
    assert read.outcome is Outcome.WRITE_COST, read.reason
    assert "cost more to keep up" in read.reason and "entity_id" in read.reason
    assert not [r for r in advice.recommendations if r.candidate.table.name == "audit_log"]

    # the same writes, but the read runs often: now the index pays for its upkeep
    advice = _advise(fresh_db, [*AUDIT_WRITES,
                                Statement(AUDIT_READ, "pg_stat_statements", calls=200_000)])
    assert _result(advice, "entity_id = 4242").outcome is Outcome.IMPROVED
    (rec,) = advice.recommendations
    assert rec.candidate.columns[0] == "entity_id" and rec.write_overhead > 0
    assert rec.benefit > rec.write_overhead


# -- 6. drop advice: a redundant index goes, a constraint-backed one never ------------------

ACCOUNTS = """
CREATE TABLE accounts (
    id bigint PRIMARY KEY,
    email text NOT NULL CONSTRAINT accounts_email_key UNIQUE,
    plan text NOT NULL,
    region int NOT NULL
);
INSERT INTO accounts SELECT g, 'a' || g || '@x.org', 'p' || g % 4, g % 50
FROM generate_series(1, 30000) g;
CREATE INDEX accounts_id_dup ON accounts (id);           -- the primary key's twin
CREATE INDEX accounts_email_idx ON accounts (email);     -- the unique constraint's twin
CREATE INDEX accounts_region ON accounts (region);       -- a prefix of the next one
CREATE INDEX accounts_region_plan ON accounts (region, plan);
VACUUM (ANALYZE) accounts;
"""


def test_redundant_index_dropped_constraint_backed_never(fresh_db: str) -> None:
    run_sql(fresh_db, ACCOUNTS)
    advice = _advise(fresh_db, [
        Statement("SELECT * FROM accounts WHERE id = 77", "app.sql:1", calls=1000),
        Statement("SELECT * FROM accounts WHERE email = 'a9@x.org'", "app.sql:2", calls=1000),
        Statement("SELECT count(*) FROM accounts WHERE region = 7 AND plan = 'p1'",
                  "app.sql:3", calls=100),
    ], sandbox=True)
    by = {d.candidate.index: d for d in advice.drops}
    dup = by["public.accounts_id_dup"]
    assert dup.candidate.reason is DropReason.DUPLICATE and dup.verdict is Verdict.DROP
    assert dup.candidate.kept_by == "public.accounts_pkey"
    assert dup.candidate.ddl == "DROP INDEX CONCURRENTLY IF EXISTS public.accounts_id_dup;"
    assert dup.candidate.size_bytes > 0 and dup.measured
    email = by["public.accounts_email_idx"]
    assert email.candidate.reason is DropReason.DUPLICATE and email.verdict is Verdict.DROP
    assert email.candidate.kept_by == "public.accounts_email_key"
    region = by["public.accounts_region"]
    assert region.candidate.reason is DropReason.PREFIX_REDUNDANT
    assert region.candidate.kept_by == "public.accounts_region_plan"
    # the constraint-backed twins and the wider index that serves instead never go
    assert not {"public.accounts_pkey", "public.accounts_email_key",
                "public.accounts_region_plan"} & set(by)
    # what existing indexes already serve gets nothing new
    assert _result(advice, "id = 77").outcome is Outcome.ALREADY_OPTIMAL
    assert _result(advice, "email =").outcome is Outcome.ALREADY_OPTIMAL
    assert not [r for r in advice.recommendations if r.candidate.columns[0] in ("id", "email")]

    # dropping what was advised leaves every query's plan on an index that stays
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for verdict in advice.drops:
            if verdict.verdict is Verdict.DROP:
                conn.execute(verdict.candidate.ddl.encode())
    for text in ("SELECT * FROM accounts WHERE id = 77",
                 "SELECT * FROM accounts WHERE email = 'a9@x.org'"):
        assert set(index_names(_plan(fresh_db, text))) <= {
            "accounts_pkey", "accounts_email_key"}
        assert set(index_names(_plan(fresh_db, text)))
