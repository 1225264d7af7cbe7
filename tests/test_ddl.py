"""DDL composition: quoting, round-trip through pglast, the partitioned online sequence."""

from __future__ import annotations

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.candidates.ddl import create_index_ddl
from indexadvisor.catalog.read import read_catalog
from indexadvisor.db.connect import connect
from indexadvisor.model import Candidate, TableName
from indexadvisor.sql.ddl import NAMEDATALEN, check_roundtrip, index_name

from .conftest import run_sql

_names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40)
# A key "(...)" is an expression by convention (model.is_expression), never a column name.
_columns = _names.filter(lambda n: not (n.startswith("(") and n.endswith(")")))


@settings(max_examples=200, deadline=None)
@given(_names, _names, st.lists(_columns, min_size=1, max_size=3, unique=True))
def test_any_identifier_round_trips(schema: str, table: str, columns: list[str]) -> None:
    from indexadvisor.catalog import Catalog

    cand = Candidate(TableName(schema, table), tuple(columns))
    ddl = create_index_ddl(cand, Catalog(150000, "15", "1.3.1", None, ("public",)))
    assert check_roundtrip(ddl) == ddl
    assert len(index_name(cand).encode()) <= NAMEDATALEN


def test_partitioned_parent_gets_the_online_sequence_and_it_runs(fresh_db: str) -> None:
    run_sql(fresh_db, """
        CREATE TABLE "Events" (id int, "at" date) PARTITION BY RANGE ("at");
        CREATE TABLE "Events 2020" PARTITION OF "Events"
            FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
        CREATE TABLE events_2021 PARTITION OF "Events"
            FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
    """)
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
    ddl = create_index_ddl(Candidate(TableName("public", "Events"), ("id", "at")), catalog)
    lines = ddl.splitlines()
    assert lines[0].startswith('CREATE INDEX events_id_at_idx ON ONLY public."Events"')
    assert [line.split()[2] for line in lines[1:3]] == ["CONCURRENTLY"] * 2
    assert all("ATTACH PARTITION" in line for line in lines[3:])
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for line in lines:
            conn.execute(line.encode())
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'events_id_at_idx'::regclass"
        ).fetchone()
    assert valid == (True,)
