"""Issue 11: advice a DBA would sign, on a real PostgreSQL with HypoPG.

Views read through to their base tables; ORDER BY served in its own order and directions; a
parent and its partition indexed once; covering variants that pay for their bytes; the knee of
the cost curve; DDL that runs in order; outcomes from the final configuration's own EXPLAIN.
Every test that gets recommendations runs their DDL for real (`assert_ddl_runs`) and checks
the costs the JSON reports against an independent EXPLAIN (`assert_costs_match`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import psycopg

from indexadvisor.db.connect import connect
from indexadvisor.ingest.collect import collect
from indexadvisor.model import (
    Advice,
    AdvisorConfig,
    Candidate,
    Outcome,
    QueryResult,
    Statement,
    TableName,
)
from indexadvisor.pipeline.advise import advise

from .advice_checks import assert_costs_match, assert_ddl_runs
from .conftest import run_sql
from .test_index_kinds import EVENTS, EVENTS_T


def _advise(dsn: str, statements: Sequence[Statement], config: AdvisorConfig | None = None,
            *, sandbox: bool = True) -> Advice:
    with connect(dsn) as conn:
        return advise(collect(statements), conn, config or AdvisorConfig(), sandbox=sandbox)


def _result(advice: Advice, fragment: str) -> QueryResult:
    (found,) = [r for r in advice.results if fragment in r.query.text]
    return found


def _checked(dsn: str, advice: Advice) -> Advice:
    """The JSON's costs equal an independent EXPLAIN; then the printed DDL runs."""
    assert_costs_match(dsn, advice)
    assert_ddl_runs(dsn, advice)
    return advice


# -- 1. views, foreign tables, system relations ----------------------------------------------

SHOP = """
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, region text NOT NULL);
CREATE TABLE orders (
    id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
    total numeric(10, 2) NOT NULL, created_at timestamp NOT NULL
);
INSERT INTO customers SELECT g, 'user' || g || '@example.com', 'r' || (g % 20)
FROM generate_series(1, 20000) g;
INSERT INTO orders SELECT g, 1 + g % 20000, (ARRAY['new', 'paid', 'shipped'])[1 + g % 3],
       (g % 5000) / 2.0, timestamp '2024-01-01' + g * interval '1 minute'
FROM generate_series(1, 200000) g;
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 1000;
CREATE VIEW customer_orders AS
    SELECT o.id, o.total, o.status, c.email, c.region
    FROM orders o JOIN customers c ON c.id = o.customer_id;
CREATE VIEW customer_totals AS
    SELECT customer_id, count(*) AS orders, sum(total) AS total FROM orders GROUP BY customer_id;
CREATE VIEW busy_customers AS SELECT * FROM customer_totals WHERE orders > 5;
VACUUM (ANALYZE) customers, orders;
"""
ORDERS_T = TableName("public", "orders")
CUSTOMERS_T = TableName("public", "customers")


def _on(advice: Advice, table: TableName, first: str) -> list[str]:
    return [r.candidate.label for r in advice.recommendations
            if r.candidate.table == table and r.candidate.columns[0] == first]


def test_a_query_on_a_view_gets_its_base_tables_index(fresh_db: str) -> None:
    run_sql(fresh_db, SHOP)
    on_view = "SELECT id, total FROM big_orders WHERE customer_id = 42"
    on_join = "SELECT id, total FROM customer_orders WHERE email = 'user42@example.com'"
    on_aggregate = "SELECT orders, total FROM customer_totals WHERE customer_id = 4242"
    nested = "SELECT total FROM busy_customers WHERE customer_id = 77"
    advice = _checked(fresh_db, _advise(fresh_db, [
        Statement(on_view, "app.sql:1", calls=100),
        Statement(on_join, "app.sql:2", calls=100),
        Statement(on_aggregate, "app.sql:3", calls=100),
        Statement(nested, "app.sql:4", calls=100),
    ]))
    for text in (on_view, on_join, on_aggregate, nested):
        result = _result(advice, text)
        assert result.outcome is Outcome.IMPROVED, (text, result.reason)
    # the filter on a view column is a filter on its base column
    assert _on(advice, ORDERS_T, "customer_id")
    assert _on(advice, CUSTOMERS_T, "email")
    assert "public.customers(email" in _result(advice, on_join).reason
    # the aggregate view: a filter on its GROUP BY column is pushed below the aggregation
    assert "public.orders(customer_id" in _result(advice, on_aggregate).reason


def test_foreign_tables_and_system_catalogs_have_their_own_reasons(fresh_db: str) -> None:
    run_sql(fresh_db, SHOP + """
        CREATE EXTENSION file_fdw;
        CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
        CREATE FOREIGN TABLE remote_events (id int, kind text)
            SERVER files OPTIONS (filename '/dev/null', format 'csv');
    """)
    remote = "SELECT id FROM remote_events WHERE kind = 'x'"
    catalog = "SELECT relname FROM pg_class WHERE relname = 'orders'"
    schema = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    mixed = ("SELECT o.id FROM orders o JOIN remote_events r ON r.id = o.customer_id "
             "WHERE o.status = 'new' AND o.customer_id = 42")
    missing = "SELECT * FROM shipments WHERE id = 1"
    advice = _checked(fresh_db, _advise(fresh_db, [
        Statement(text, f"app.sql:{n}") for n, text in
        enumerate((remote, catalog, schema, mixed, missing), 1)]))
    found = _result(advice, remote)
    assert found.outcome is Outcome.NOT_ADVISED
    assert "foreign tables (public.remote_events)" in found.reason
    assert "remote server" in found.reason
    for text in (catalog, schema):
        found = _result(advice, text)
        assert found.outcome is Outcome.NOT_ADVISED and "system catalogs" in found.reason
    assert "pg_catalog.pg_class" in _result(advice, catalog).reason
    # a query joining a table with a foreign table is advised on its table
    assert _result(advice, mixed).outcome is Outcome.IMPROVED
    assert all(r.candidate.table != TableName("public", "remote_events")
               for r in advice.recommendations)
    # a relation that does not exist is still "unknown"
    assert _result(advice, missing).outcome is Outcome.UNKNOWN_TABLE


# -- 2. sort order and direction -------------------------------------------------------------

POSTS = """
CREATE TABLE posts (
    id bigint PRIMARY KEY, user_id int NOT NULL, blog_id int NOT NULL,
    created_at timestamp NOT NULL, score int, body text NOT NULL
);
INSERT INTO posts SELECT g, g % 1000, g % 37, timestamp '2024-01-01' + g * interval '1 minute',
       CASE WHEN g % 10 = 0 THEN NULL ELSE g % 997 END, repeat('x', 60)
FROM generate_series(1, 200000) g;
VACUUM (ANALYZE) posts;
"""
POSTS_T = TableName("public", "posts")


def test_order_by_gets_its_own_column_order(fresh_db: str) -> None:
    run_sql(fresh_db, POSTS)
    text = "SELECT id FROM posts ORDER BY user_id, blog_id LIMIT 20"
    advice = _checked(fresh_db, _advise(fresh_db, [Statement(text, "app.sql:1", calls=50)]))
    assert _result(advice, text).outcome is Outcome.IMPROVED
    (rec,) = advice.recommendations
    assert rec.candidate.columns[:2] == ("user_id", "blog_id") and not rec.candidate.order


def test_mixed_directions_get_a_mixed_direction_index(fresh_db: str) -> None:
    run_sql(fresh_db, POSTS)
    mixed = "SELECT id FROM posts ORDER BY blog_id DESC, created_at LIMIT 20"
    nulls = "SELECT id FROM posts ORDER BY score DESC NULLS LAST LIMIT 10"
    advice = _checked(fresh_db, _advise(fresh_db, [Statement(mixed, "app.sql:1", calls=50),
                                                   Statement(nulls, "app.sql:2", calls=50)]))
    for text in (mixed, nulls):
        assert _result(advice, text).outcome is Outcome.IMPROVED
    labels = {r.candidate.label.split(" INCLUDE")[0] for r in advice.recommendations}
    # a backward scan of (blog_id, created_at DESC) reads blog_id DESC, created_at ASC
    assert "public.posts(blog_id, created_at DESC)" in labels
    assert "public.posts(score DESC NULLS LAST)" in labels
    # built for real, the planner reads the order from the index: no Sort node
    with psycopg.connect(fresh_db) as conn:
        conn.execute("ANALYZE posts")
        for text in (mixed, nulls):
            row = conn.execute(("EXPLAIN (FORMAT JSON) " + text).encode()).fetchone()
            assert row is not None
            assert '"Sort"' not in str(row[0]).replace("'", '"'), text


def test_an_existing_descending_index_serves_its_order(fresh_db: str) -> None:
    run_sql(fresh_db, POSTS + "CREATE INDEX posts_recent ON posts (score DESC NULLS LAST, id);"
                              "ANALYZE posts;")
    text = "SELECT id FROM posts ORDER BY score DESC NULLS LAST LIMIT 10"
    advice = _advise(fresh_db, [Statement(text, "app.sql:1", calls=50)])
    found = _result(advice, text)
    assert found.outcome is Outcome.ALREADY_OPTIMAL and "posts_recent" in found.reason
    assert not advice.recommendations


# -- 3. a partitioned parent and its partition, together -------------------------------------

def test_parent_and_partition_get_one_index_and_ddl_that_runs(fresh_db: str) -> None:
    run_sql(fresh_db, EVENTS)
    on_parent = "SELECT id, kind FROM events WHERE tenant_id = 42"
    on_leaf = "SELECT id, kind FROM events_2024q1 WHERE tenant_id = 7"
    advice = _checked(fresh_db, _advise(fresh_db, [Statement(on_parent, "app.sql:1", calls=200),
                                                   Statement(on_leaf, "app.sql:2", calls=200)]))
    for text in (on_parent, on_leaf):
        assert _result(advice, text).outcome is Outcome.IMPROVED
    family = [r for r in advice.recommendations if r.candidate.table.name.startswith("events")]
    # one index, on the parent: it is an index on the partition too
    assert [r.candidate.table for r in family] == [EVENTS_T]
    assert family[0].candidate.columns[0] == "tenant_id"
    fingerprints = {r.query.fingerprint for r in advice.results
                    if r.query.text in (on_parent, on_leaf)}
    assert set(family[0].queries) == fingerprints


# -- 4. covering variants that pay for their bytes -------------------------------------------

DOCS = """
SET synchronous_commit = on;  -- VACUUM sets the visibility map only after the WAL flush
CREATE TABLE docs (
    id bigint PRIMARY KEY, ref int NOT NULL, title text NOT NULL,
    body jsonb, meta json, spot point
);
INSERT INTO docs SELECT g, g % 10000, 'title ' || g, NULL, NULL, NULL
FROM generate_series(1, 100000) g;
VACUUM (ANALYZE) docs;
"""


def test_no_covering_variant_counts_null_sampled_json_as_narrow(fresh_db: str) -> None:
    run_sql(fresh_db, DOCS)
    text = "SELECT * FROM docs WHERE ref = 42"
    advice = _checked(fresh_db, _advise(fresh_db, [Statement(text, "app.sql:1", calls=100)]))
    assert _result(advice, text).outcome is Outcome.IMPROVED
    assert advice.recommendations
    assert not [r for r in advice.recommendations if r.candidate.include]


ACCOUNTS = """
SET synchronous_commit = on;
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,
                       plan text NOT NULL);
INSERT INTO accounts SELECT g, 'a' || g || '@example.com', 'name ' || g, 'free'
FROM generate_series(1, 100000) g;
CREATE INDEX accounts_email_idx ON accounts (email);  -- not unique, but every value is
VACUUM (ANALYZE) accounts;
"""


def test_no_covering_twin_beside_an_index_that_serves_a_one_row_lookup(fresh_db: str) -> None:
    run_sql(fresh_db, ACCOUNTS)
    text = "SELECT id, name FROM accounts WHERE email = 'a42@example.com'"
    advice = _advise(fresh_db, [Statement(text, "app.sql:1", calls=100_000)])
    found = _result(advice, text)
    assert not advice.recommendations
    assert found.outcome is Outcome.ALREADY_OPTIMAL
    assert "accounts_email_idx" in found.reason


# -- 5. the knee ----------------------------------------------------------------------------

WIDE = """
SET synchronous_commit = on;
CREATE TABLE ledger (
    id bigint PRIMARY KEY, account int NOT NULL, kind int NOT NULL, amount numeric NOT NULL,
    memo text NOT NULL, booked date NOT NULL
);
INSERT INTO ledger SELECT g, g % 50000, g % 7, (g % 1000) / 10.0, repeat(md5(g::text), 2),
       date '2020-01-01' + (g % 1500)
FROM generate_series(1, 400000) g;
VACUUM (ANALYZE) ledger;
"""


def test_gains_that_saturate_stop_at_the_knee_well_under_the_budget(fresh_db: str) -> None:
    run_sql(fresh_db, WIDE)
    hot = Statement("SELECT amount FROM ledger WHERE account = 4242", "app.sql:1", calls=5000)
    # what no index helps: a scan of every memo, 50 times
    scan = Statement("SELECT sum(length(memo)) FROM ledger", "app.sql:2", calls=50)
    # an index on memo (more than half the table's size) helps this one a little
    by_memo = Statement("SELECT count(*) FROM ledger WHERE memo > 'f'", "app.sql:3", calls=1)
    statements = [hot, scan, by_memo]
    budget = 10**10
    knee = _advise(fresh_db, statements, AdvisorConfig(budget_bytes=budget))
    full = _advise(fresh_db, statements, AdvisorConfig(budget_bytes=budget, fill_budget=True))
    free = _advise(fresh_db, statements)  # no budget at all
    assert knee.selection_stop.startswith("knee of the cost curve: the best index left, "
                                          "public.ledger(memo)")
    assert "no budget" not in knee.selection_stop and "budget used" in knee.selection_stop
    assert _result(knee, "account = 4242").outcome is Outcome.IMPROVED
    assert knee.index_bytes < full.index_bytes < budget
    assert [r.candidate.columns for r in full.recommendations if r not in
            knee.recommendations] == [("memo",)]
    # what the knee left out was worth little: under 2% of what the workload still costs
    assert knee.cost_after - full.cost_after < 0.02 * knee.cost_after
    # with no budget at all the same rule picks the same knee, and says so
    assert free.selection_stop.startswith("knee of the cost curve")
    assert "no budget given" in free.selection_stop
    assert free.index_bytes == knee.index_bytes
    _checked(fresh_db, knee)


# -- 6 and 7. every printed DDL runs; covering variants of one key merge ---------------------

SALES = """
SET synchronous_commit = on;
CREATE TABLE sales (
    id bigint PRIMARY KEY, sold_date int NOT NULL, a numeric NOT NULL, b numeric NOT NULL,
    c numeric NOT NULL, d numeric NOT NULL, store int NOT NULL, note text NOT NULL
);
INSERT INTO sales SELECT g, g % 2000, g % 11, g % 13, g % 17, g % 19, g % 50, repeat('n', 80)
FROM generate_series(1, 300000) g;
VACUUM (ANALYZE) sales;
"""


def _sales_workload() -> list[Statement]:
    return [Statement(f"SELECT sum({col}) FROM sales WHERE sold_date BETWEEN 100 AND 160",
                      f"q.sql:{n}", calls=10) for n, col in enumerate("abc", 1)]


def test_covering_variants_get_distinct_names_and_their_ddl_runs(fresh_db: str) -> None:
    """Three covering variants of one key, each the cheapest for its query: three indexes,
    three names (one name three times before), and the DDL runs in order."""
    run_sql(fresh_db, SALES)
    advice = _checked(fresh_db, _advise(fresh_db, _sales_workload()))
    names = [r.ddl.split()[3] for r in advice.recommendations]
    assert len(names) == len(set(names)) >= 2
    for text in ("sum(a)", "sum(b)", "sum(c)"):
        assert _result(advice, text).outcome is Outcome.IMPROVED


def test_covering_variants_of_one_key_merge_where_the_budget_binds(fresh_db: str) -> None:
    """With room for about two variants, one index INCLUDE-ing all their columns serves all
    three queries with an index-only scan: one copy of the key, not two."""
    run_sql(fresh_db, SALES)
    budget = 15_000_000  # a variant is about 7 MB, the three together 21 MB
    advice = _checked(fresh_db, _advise(fresh_db, _sales_workload(),
                                        AdvisorConfig(budget_bytes=budget)))
    leading = [r.candidate for r in advice.recommendations
               if r.candidate.columns[0] == "sold_date"]
    assert len(leading) == 1, [c.label for c in leading]
    assert set(leading[0].include) >= {"a", "b", "c"}
    for text in ("sum(a)", "sum(b)", "sum(c)"):
        assert _result(advice, text).outcome is Outcome.IMPROVED


def test_chosen_variants_merge_when_the_bytes_are_worth_more_than_the_loss() -> None:
    """The merge after the search (selection.merge), on a cost model given by hand: two
    variants whose union costs their queries a little more, and frees a lot of bytes."""
    from indexadvisor.model import Cost, CostedQuery, Query
    from indexadvisor.selection.merge import merge_covering

    t = TableName("public", "sales")
    a, b = Candidate(t, ("d",), ("a",)), Candidate(t, ("d",), ("b",))
    union = Candidate(t, ("d",), ("a", "b"))
    queries = [CostedQuery(Query(f"q{n}", f"SELECT {n}", ("sales",), 1, None, ()),
                           f"SELECT {n}", 0, None,
                           frozenset({(t, "d")})) for n in (1, 2)]

    class Model:
        def cost(self, query: CostedQuery, configuration: Iterable[Candidate]) -> Cost:
            return Cost(100.0 if union in set(configuration) else 90.0, frozenset(), ())

    sizes = {a: 1000, b: 1000, union: 1200}
    chosen, merges = merge_covering([a, b], queries, Model(), sizes.__getitem__,
                                    lambda c: 0.0, rate=1.0)  # 800 bytes worth 800 units
    assert chosen == [union] and merges[0].freed_bytes == 800 and merges[0].loss == 20.0
    kept, none = merge_covering([a, b], queries, Model(), sizes.__getitem__, lambda c: 0.0,
                                rate=0.01)  # worth 8 units, the loss is 20
    assert kept == [a, b] and not none


# -- 8. no phantom write load ----------------------------------------------------------------

def test_a_read_only_workload_never_gets_a_write_cost_verdict(fresh_db: str) -> None:
    """ANALYZE estimates a large table's row count, a little under the rows inserted; that
    difference is not write load. (The estimate is set here as ANALYZE would leave it on a
    table too large to count: 123 rows short.)"""
    run_sql(fresh_db, SHOP)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        conn.execute("UPDATE pg_class SET reltuples = reltuples - 123 "
                     "WHERE oid = 'orders'::regclass")
        row = conn.execute("SELECT n_tup_ins FROM pg_stat_user_tables "
                           "WHERE relname = 'orders'").fetchone()
    assert row is not None and row[0] == 200_000
    statements = [Statement("SELECT id FROM orders WHERE customer_id = 42", "r.sql:1", calls=3),
                  Statement("SELECT id FROM orders WHERE status = 'new' AND total > 2400",
                            "r.sql:2", calls=1)]
    advice = _checked(fresh_db, _advise(fresh_db, statements, sandbox=False))
    assert all(r.outcome is not Outcome.WRITE_COST for r in advice.results)
    assert all(r.write_overhead == 0 for r in advice.recommendations)


# -- 9. outcomes from the final configuration's own EXPLAIN ------------------------------------

def test_exact_costs_see_an_index_the_relevance_test_misses(fresh_db: str) -> None:
    """The search costs a query with the candidates relevant to it (its leading keys); the
    final set is EXPLAINed with all of it live, so an index the relevance test missed still
    shows in the cost every outcome is decided from."""
    from indexadvisor.catalog.read import read_catalog
    from indexadvisor.explain.costs import CachedCosts
    from indexadvisor.explain.hypo import HypoSession
    from indexadvisor.model import CostedQuery, Query

    run_sql(fresh_db, POSTS)
    text = "SELECT id FROM posts WHERE user_id = 7"
    query = CostedQuery(Query("q", text, ("posts",), 1, None, ()), text, 0, None,
                        frozenset())  # as if the analysis had missed `user_id`
    index = Candidate(POSTS_T, ("user_id",))
    with connect(fresh_db) as conn, HypoSession(conn, read_catalog(conn)) as session:
        costs = CachedCosts(session)
        none = costs.cost(query, []).cost
        assert costs.cost(query, [index]).cost == none  # no relevant candidate: not costed
        exact = costs.exact(query, [index])
    assert exact.cost < none / 5 and index in exact.used


# -- 9. the demo: its DDL runs and its costs are the final configuration's own -----------------

def test_the_demo_ddl_runs_and_its_costs_match_an_independent_explain(fresh_db: str) -> None:
    from indexadvisor import demo
    from indexadvisor.cli.demo import DEMO_BUDGET
    from indexadvisor.ingest import read_sources

    run_sql(fresh_db, demo.schema_sql())
    run_sql(fresh_db, demo.data_sql())
    workload = collect(list(read_sources([str(demo.workload_dir())])))
    with connect(fresh_db) as conn:
        advice = advise(workload, conn, AdvisorConfig(budget_bytes=DEMO_BUDGET), sandbox=True)
    assert advice.recommendations
    assert assert_costs_match(fresh_db, advice) >= 10
    assert_ddl_runs(fresh_db, advice)


def test_counters_read_estimate_error_as_no_inserts() -> None:
    """Inserts a little above ANALYZE's row estimate are its error; inserts deleted again, or
    far beyond the rows (a TRUNCATE and reload), are write load."""
    from types import MappingProxyType

    from indexadvisor.catalog import Catalog, Table
    from indexadvisor.selection.writes import counter_loads

    def loads(**counters: int) -> list[tuple[str, float]]:
        t = TableName("public", "t")
        table = Table(t, "r", (), (), 11_700_000.0, 100, 100, 8192, **counters)
        catalog = Catalog(150000, "15", "1.3.1", None, ("public",), MappingProxyType({t: table}))
        return [(load.kind, load.rows_per_call) for load in counter_loads(catalog, [])]

    assert loads(inserts=11_700_123) == []
    assert loads(inserts=11_700_123, deletes=100) == [("insert", 100.0), ("delete", 100.0)]
    assert loads(inserts=23_400_000) == [("insert", 11_700_000.0)]


def test_a_document_without_key_orders_or_knee_reads_back_with_defaults() -> None:
    """Documents written before `order`, `knee` and `fill_budget` existed still load."""
    import json
    from pathlib import Path

    from indexadvisor.report.advice_json import advice_from_dict

    saved = Path(__file__).parent / "golden" / "advice" / "demo.json"
    doc = json.loads(saved.read_text())

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items()
                    if k not in ("order", "knee", "fill_budget")}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    old = advice_from_dict(strip(doc))
    new = advice_from_dict(doc)
    assert old.config == new.config == AdvisorConfig(**{
        **{f: getattr(new.config, f) for f in ("budget_bytes", "max_indexes", "max_width")}})
    assert [r.candidate for r in old.recommendations] == \
        [r.candidate for r in new.recommendations]
