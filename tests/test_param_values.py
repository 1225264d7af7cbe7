"""$n statements costed with pg_stats values: the mapping (pure) and the costing (real server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexadvisor import AdvisorConfig, advise, connect, load_workload
from indexadvisor.analyze import SchemaMap
from indexadvisor.analyze.params import ParamUse, catalog_stats, param_uses, synthesize
from indexadvisor.catalog import ColumnStats
from indexadvisor.catalog.read import read_catalog
from indexadvisor.explain.errors import StatementNotCostable
from indexadvisor.explain.hypo import HypoSession
from indexadvisor.model import Outcome, TableName

from .conftest import run_sql

ORDERS = TableName("public", "orders")
ITEMS = TableName("public", "items")
SCHEMA = SchemaMap({
    ORDERS: {"id": "integer", "status": "text", "created": "timestamp with time zone",
             "total": "numeric"},
    ITEMS: {"order_id": "integer", "sku": "text", "qty": "integer"},
})


def _uses(text: str) -> list[tuple[int, str, str | None, str | None]]:
    return [(u.number, u.kind, u.table.name if u.table else None, u.column)
            for u in param_uses(text, SCHEMA).values()]


GOLDEN = [
    ("SELECT * FROM orders WHERE status = $1", [(1, "eq", "orders", "status")]),
    # $1 and $10 are different parameters (not a prefix match)
    ("SELECT * FROM orders WHERE id = $10 AND status = $1",
     [(1, "eq", "orders", "status"), (10, "eq", "orders", "id")]),
    ("SELECT * FROM orders o JOIN items i ON i.order_id = o.id WHERE i.sku = $1 AND o.id > $2",
     [(1, "eq", "items", "sku"), (2, "lower", "orders", "id")]),
    ("SELECT * FROM orders WHERE $1 >= created", [(1, "upper", "orders", "created")]),
    ("SELECT * FROM orders WHERE status IN ($1, $2)",
     [(1, "eq", "orders", "status"), (2, "eq", "orders", "status")]),
    ("SELECT * FROM orders WHERE created BETWEEN $2 AND $3 LIMIT $4 OFFSET $1",
     [(1, "offset", None, None), (2, "lower", "orders", "created"),
      (3, "upper", "orders", "created"), (4, "limit", None, None)]),
    ("SELECT * FROM orders WHERE status LIKE $1", [(1, "like", "orders", "status")]),
    ("SELECT * FROM orders WHERE created >= $1::date", [(1, "lower", "orders", "created")]),
    # a subquery is a scope of its own; a correlated column is found in the outer one
    ("SELECT * FROM orders o WHERE EXISTS (SELECT 1 FROM items i WHERE i.order_id = o.id "
     "AND i.qty > $1 AND o.status = $2)",
     [(1, "lower", "items", "qty"), (2, "eq", "orders", "status")]),
    ("SELECT * FROM orders WHERE id IN (SELECT order_id FROM items WHERE sku = $1)",
     [(1, "eq", "items", "sku")]),
    ("WITH recent AS (SELECT * FROM orders WHERE created > $1) SELECT * FROM recent",
     [(1, "lower", "orders", "created")]),
    ("SELECT * FROM orders WHERE status = $1 OR total > $2",
     [(1, "eq", "orders", "status"), (2, "lower", "orders", "total")]),
    ("UPDATE orders SET status = $1 WHERE id = $2",
     [(1, "eq", "orders", "status"), (2, "eq", "orders", "id")]),
    ("DELETE FROM orders o WHERE o.created < $1", [(1, "upper", "orders", "created")]),
    ("INSERT INTO items (sku, qty) VALUES ($1, $2)",
     [(1, "eq", "items", "sku"), (2, "eq", "items", "qty")]),
    # unknown: an expression, an array, another parameter, a column of no table
    ("SELECT * FROM orders WHERE lower(status) = $1", []),
    ("SELECT * FROM orders WHERE id = ANY($1)", []),
    ("SELECT * FROM orders WHERE $1 = $2", []),
    ("SELECT * FROM orders WHERE nope = $1", []),
    ("SELECT $1::int", []),
]


@pytest.mark.parametrize(("text", "expected"), GOLDEN)
def test_param_uses_golden(text: str, expected: list[Any]) -> None:
    assert _uses(text) == expected


def test_unparseable_statement_maps_nothing() -> None:
    assert param_uses("SELECT * FROM WHERE $1", SCHEMA) == {}


@given(st.lists(st.sampled_from(["id", "status", "total"]), min_size=1, max_size=12))
def test_each_number_maps_to_its_own_column(columns: list[str]) -> None:
    """$1..$n in any order and any count (two digits included) keep their own columns."""
    where = " AND ".join(f"{c} = ${i}" for i, c in reversed(list(enumerate(columns, 1))))
    uses = param_uses(f"SELECT * FROM orders WHERE {where}", SCHEMA)
    assert [(u.number, u.column) for u in uses.values()] == list(enumerate(columns, 1))


def test_values_follow_the_stated_choices() -> None:
    hist = tuple(f"2024-01-{d:02d}" for d in range(1, 32))  # 31 bounds, 30 buckets
    stats = {
        (ORDERS, "status"): ColumnStats(0, 3, 5, None, ("done", "new"), (0.9, 0.1)),
        (ORDERS, "created"): ColumnStats(0, -1, 8, 1.0, (), (), hist),
    }
    text = ("SELECT * FROM orders WHERE status IN ($1, $2) AND created >= $3 AND created < $4"
            " AND status LIKE $5 LIMIT $6")
    binding = synthesize(param_uses(text, SCHEMA), 6, lambda t, c: stats.get((t, c)))
    assert binding.params == ("new", "done", "2024-01-16", "2024-01-17", "new%", "20")
    assert binding.describe().startswith("status='new' (MCV), status='done' (MCV), "
                                         "created>='2024-01-16' (histogram)")
    # no MCVs: the histogram's middle for equality; no statistics at all: nothing
    eq = {1: ParamUse(1, "eq", ORDERS, "created")}
    assert synthesize(eq, 1, lambda t, c: stats.get((t, c))).params == ("2024-01-16",)
    nothing = synthesize({1: ParamUse(1, "eq", ORDERS, "total")}, 2, lambda t, c: None)
    assert nothing.params is None and nothing.missing == (1, 2)


# -- against a real server ------------------------------------------------------------------
SKEWED = """
CREATE TABLE tickets (id serial PRIMARY KEY, status text NOT NULL, body text);
INSERT INTO tickets (status, body)
SELECT CASE WHEN g % 100 = 0 THEN 'pending' WHEN g % 50 = 0 THEN 'failed' ELSE 'done' END,
       repeat('x', 40)
FROM generate_series(1, 50000) g;
CREATE TABLE typed (d date, n numeric(10, 2), ts timestamptz, code text);
INSERT INTO typed SELECT date '2024-01-01' + g % 365, (g % 997) / 7.0,
       timestamptz '2024-01-01 00:00+00' + g * interval '7 minutes', 'c' || (g % 10)
FROM generate_series(1, 20000) g;
ANALYZE;
"""

EVENTS = """
CREATE TABLE events (id bigint, at timestamptz NOT NULL, kind int, payload text)
    PARTITION BY RANGE (at);
""" + "".join(
    f"CREATE TABLE events_2024_{m:02d} PARTITION OF events FOR VALUES FROM "
    f"('2024-{m:02d}-01 00:00+00') TO ('{2024 + m // 12}-{m % 12 + 1:02d}-01 00:00+00');\n"
    for m in range(1, 13)
) + """
INSERT INTO events SELECT g, timestamptz '2024-01-01 00:00+00' + (g % 525000) * interval '1 minute',
       g % 2000, repeat('p', 60)
FROM generate_series(1, 240000) g;
ANALYZE;
"""


@pytest.fixture
def skewed(fresh_db: str) -> str:
    run_sql(fresh_db, SKEWED)
    return fresh_db


@pytest.fixture
def events(fresh_db: str) -> str:
    run_sql(fresh_db, EVENTS)
    return fresh_db


def _advise(dsn: str, tmp_path: Path, text: str) -> Any:
    path = tmp_path / "workload.sql"
    path.write_text(text)
    with connect(dsn) as conn:
        return advise(load_workload([str(path)]), conn, AdvisorConfig())


def _explain(dsn: str, text: str, params: tuple[str, ...] | None, count: int) -> Any:
    with connect(dsn) as conn:
        catalog = read_catalog(conn)
        with HypoSession(conn, catalog) as whatif:
            return whatif.explain(text, params, count)


def _binding(dsn: str, text: str, count: int) -> Any:
    with connect(dsn) as conn:
        catalog = read_catalog(conn)
    schema = SchemaMap(catalog.schema_columns, catalog.search_path)
    return synthesize(param_uses(text, schema), count, catalog_stats(catalog))



def test_status_param_costed_with_a_typical_value(skewed: str, tmp_path: Path) -> None:
    """Not the commonest status (96% 'done' would make any lookup a sequential scan): the
    middle of the most-common list, and the plan is a real custom plan for it."""
    text = "SELECT id, body FROM tickets WHERE status = $1"
    with connect(skewed) as conn:
        catalog = read_catalog(conn)
    stats = catalog.table(TableName("public", "tickets")).column("status").stats  # type: ignore[union-attr]
    assert stats is not None and not stats.histogram_bounds
    expected = stats.most_common_vals[len(stats.most_common_vals) // 2]
    binding = _binding(skewed, text, 1)
    assert binding.params == (expected,)
    custom = _explain(skewed, text, binding.params, 1)
    share = stats.most_common_freqs[len(stats.most_common_vals) // 2]
    assert custom.rows == pytest.approx(share * 50000, rel=0.2)  # its estimate, not 1/n_distinct
    advice = _advise(skewed, tmp_path, text + ";\n")
    (result,) = advice.results
    assert f"costed with pg_stats values: status='{expected}' (MCV)" in result.reason


def test_dates_numerics_and_timestamps_coerce(skewed: str) -> None:
    text = ("SELECT * FROM typed WHERE d >= $1 AND d < $2 AND n = $3 AND ts > $4 "
            "AND code LIKE $5 LIMIT $6 OFFSET $7")
    binding = _binding(skewed, text, 7)
    assert binding.params is not None, binding.describe()
    plan = _explain(skewed, text, binding.params, 7)
    assert 0 < plan.rows < 20000


def test_partition_key_range_prunes_and_the_parent_is_indexed(events: str,
                                                              tmp_path: Path) -> None:
    text = "SELECT id, payload FROM events WHERE at >= $1 AND at < $2 AND kind = $3"
    binding = _binding(events, text, 3)
    assert binding.params is not None, binding.describe()
    custom = _explain(events, text, binding.params, 3)
    generic = _explain(events, text, None, 3)
    leaves = {n.relation for n in custom.root.walk() if n.relation}
    assert 1 <= len(leaves) <= 2  # pruned at plan time
    assert custom.cost < generic.cost / 4  # the generic plan costs all 12 leaves

    advice = _advise(events, tmp_path, text + ";\n")
    (result,) = advice.results
    assert result.outcome is Outcome.IMPROVED, result.reason
    assert "costed with pg_stats values: at>=" in result.reason and "(histogram)" in result.reason
    (rec,) = advice.recommendations
    assert rec.candidate.table == TableName("public", "events")
    assert "ON ONLY public.events" in rec.ddl and "ATTACH PARTITION" in rec.ddl


def test_values_that_break_explain_fall_back_to_the_generic_plan(skewed: str,
                                                                 tmp_path: Path) -> None:
    # `code` holds 'c0'..'c9': its MCV is no integer, so EXECUTE cannot read it as $1's type
    text = "SELECT * FROM typed WHERE code::int = $1"
    binding = _binding(skewed, text, 1)
    assert binding.params is not None and binding.params[0].startswith("c")
    with pytest.raises(StatementNotCostable):
        _explain(skewed, text, binding.params, 1)
    advice = _advise(skewed, tmp_path, text + ";\n")
    (result,) = advice.results
    assert result.outcome is not Outcome.NOT_COSTABLE
    assert "generic plan: EXPLAIN with pg_stats values (code='c" in result.reason
    assert "invalid input syntax for type integer" in result.reason


def test_captured_params_are_preferred(skewed: str, tmp_path: Path) -> None:
    advice = _advise(skewed, tmp_path,
                     "SELECT id FROM tickets WHERE status = $1;\n"
                     "SELECT id FROM tickets WHERE id = $1 AND status = $2;\n"
                     "SELECT id FROM tickets WHERE lower(status) = $1;\n")
    first, second, third = advice.results
    assert "(MCV)" in first.reason
    assert "id='" in second.reason and "(histogram)" in second.reason
    assert third.reason.endswith("generic plan: no representative value for $1")
