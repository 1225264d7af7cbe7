"""Our btree size estimates against indexes PostgreSQL really builds (and against HypoPG's)."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.candidates.sizes import built_btree_size, candidate_btree_size
from indexadvisor.catalog.read import read_catalog
from indexadvisor.db.connect import connect
from indexadvisor.model import Candidate, TableName

from .conftest import run_sql

T = TableName("public", "sized")

SCHEMA = """
CREATE TABLE sized (
    id integer NOT NULL,
    few integer NOT NULL,          -- 1,000 distinct values
    status text NOT NULL,          -- 5 distinct values, 1% 'pending'
    amount numeric(10, 2) NOT NULL,
    day date NOT NULL,
    code varchar(40) NOT NULL      -- 20-character strings, all distinct
);
INSERT INTO sized
SELECT g, g % 1000,
       CASE WHEN g % 100 = 0 THEN 'pending'
            ELSE (ARRAY['new', 'paid', 'sent', 'done'])[g % 4 + 1] END,
       (g % 10000) / 100.0, DATE '2024-01-01' + g % 365, md5(g::text)::varchar(20)
FROM generate_series(1, 200000) AS g;
VACUUM (ANALYZE) sized;
"""

CASES = [
    Candidate(T, ("id",)),
    Candidate(T, ("few",)),
    Candidate(T, ("status",)),
    Candidate(T, ("amount",)),
    Candidate(T, ("few", "id")),
    Candidate(T, ("code",)),
    Candidate(T, ("few",), ("amount", "day")),
    Candidate(T, ("day",), (), "status = 'pending'"),
]


def test_estimates_within_a_quarter_of_real_builds(fresh_db: str) -> None:
    run_sql(fresh_db, SCHEMA)
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
    fractions = {"status = 'pending'": 0.01}
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for n, cand in enumerate(CASES):
            estimate = candidate_btree_size(cand, catalog, fractions.get(cand.where or "", 1.0))
            assert estimate is not None, cand.label
            keys = ", ".join(cand.columns)
            ddl = f"CREATE INDEX ix{n} ON sized ({keys})"
            if cand.include:
                ddl += f" INCLUDE ({', '.join(cand.include)})"
            if cand.where:
                ddl += f" WHERE {cand.where}"
            conn.execute(ddl)
            row = conn.execute("SELECT pg_relation_size(%s)", (f"ix{n}",)).fetchone()
            assert row is not None
            real = int(row[0])
            assert 0.75 * real <= estimate <= 1.25 * real + 16384, (cand.label, estimate, real)


def test_correlated_columns_err_on_the_big_side(fresh_db: str) -> None:
    """(day, few) holds 73,000 distinct pairs, not the 154,000 independence predicts: the
    estimate may be high (no dedup assumed), never low."""
    run_sql(fresh_db, SCHEMA + "CREATE INDEX pair ON sized (day, few);")
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
        row = conn.execute("SELECT pg_relation_size('pair')").fetchone()
    assert row is not None
    estimate = candidate_btree_size(Candidate(T, ("day", "few")), catalog)
    assert estimate is not None and int(row[0]) <= estimate <= 1.5 * int(row[0])


def test_no_statistics_means_no_estimate(fresh_db: str) -> None:
    run_sql(fresh_db, "CREATE TABLE bare (a integer)")
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
    bare = Candidate(TableName("public", "bare"), ("a",))
    assert candidate_btree_size(bare, catalog) is None
    assert candidate_btree_size(Candidate(T, ("(lower(code))",)), catalog) is None


@settings(max_examples=200, deadline=None)
@given(st.floats(1, 1e8), st.floats(1, 1e8), st.integers(1, 64))
def test_repeats_never_make_an_index_bigger(rows: float, distinct: float, width: int) -> None:
    keys = [("text", width)]
    unique = built_btree_size(rows, keys)
    assert built_btree_size(rows, keys, distinct=min(distinct, rows)) <= unique
    assert built_btree_size(rows * 2, keys) >= unique


@pytest.mark.parametrize("rows", [0, 1, 10])
def test_tiny_tables_have_a_metapage_and_a_leaf(rows: int) -> None:
    assert built_btree_size(rows, [("integer", 4)]) == 2 * 8192
