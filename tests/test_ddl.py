"""DDL composition: quoting, round-trip through pglast, the partitioned online sequence."""

from __future__ import annotations

from types import MappingProxyType

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.candidates.ddl import create_index_ddl
from indexadvisor.catalog import Catalog, Index, Table
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


# -- names that never clash (issue 11) -------------------------------------------------------

def _catalog(*tables: Table) -> Catalog:
    return Catalog(150000, "15", "1.3.1", None, ("public",),
                   MappingProxyType({t.name: t for t in tables}))


def _table(name: str, kind: str = "r", parent: TableName | None = None,
           partitions: tuple[TableName, ...] = (), indexes: tuple[Index, ...] = ()) -> Table:
    return Table(TableName("public", name), kind, (), indexes, 0, 0, 0, 0, parent=parent,
                 partitions=partitions)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b", "A", "a b"]),
                          st.lists(st.sampled_from(["x", "y", "z", "X"]), max_size=3,
                                   unique=True),
                          st.sampled_from([(), ("",), ("DESC",), ("DESC NULLS LAST",)])),
                min_size=1, max_size=8))
def test_a_set_of_recommendations_never_creates_a_name_twice(
        specs: list[tuple[str, list[str], tuple[str, ...]]]) -> None:
    """Variants of one key (INCLUDE lists, orders) and tables whose names slug alike
    ("A", "a", "a b" beside "a_b") all get distinct names, each within 63 bytes."""
    from indexadvisor.candidates.ddl import clashing, created_names

    t = TableName("public", "t")
    cands = {Candidate(t, ("k",), tuple(include), order=order) for _, include, order in specs}
    cands |= {Candidate(TableName("public", name), ("k",)) for name, _, _ in specs}
    catalog = _catalog(*(_table(c.table.name) for c in cands))
    hashed = clashing(cands, catalog)
    names = [n for c in cands for n in created_names(c, catalog, hashed=c in hashed)]
    assert len(names) == len(set(names))
    assert all(len(n.name.encode()) <= NAMEDATALEN for n in names)


def test_a_partitions_own_index_and_its_parents_get_distinct_names() -> None:
    """The parent's index on a partition is named like the partition's own candidate; and an
    index the schema already has takes its name."""
    from indexadvisor.candidates.ddl import clashing, create_index_ddl

    parent, leaf = TableName("public", "events"), TableName("public", "events_2024")
    existing = Index("orders_status_idx", "public", TableName("public", "orders"), ("status",),
                     (), "btree", False, False, None, "(total > 0)", "", 0, None)
    catalog = _catalog(_table("events", "p", partitions=(leaf,)),
                       _table("events_2024", parent=parent),
                       _table("orders", indexes=(existing,)))
    on_parent, on_leaf = Candidate(parent, ("kind",)), Candidate(leaf, ("kind",))
    on_orders = Candidate(TableName("public", "orders"), ("status",))
    hashed = clashing([on_parent, on_leaf, on_orders], catalog)
    assert hashed == {on_leaf, on_orders}
    ddl = "\n".join(create_index_ddl(c, catalog, hashed=c in hashed)
                    for c in (on_parent, on_leaf, on_orders))
    created = [line.split()[3] if " CONCURRENTLY " in line else line.split()[2]
               for line in ddl.splitlines() if line.startswith("CREATE INDEX")]
    assert len(created) == len(set(created)) == 4
    assert "orders_status_idx" not in created and "events_2024_kind_idx" in created
