"""analyze: golden files, the fingerprint trap, the gate's errors, and properties.

Golden cases live in tests/golden/analyze as `name.sql` + `name.expected` (Analysis.lines()).
Rewrite the expected files with INDEXADVISOR_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast import keywords

from indexadvisor.analyze import SchemaMap, analyze
from indexadvisor.model import TableName
from indexadvisor.model.errors import WorkloadError
from indexadvisor.sql.expressions import key_columns
from indexadvisor.sql.parse import StatementError, parse_statement, statement_relations

from .golden_files import check_golden as compare_golden

GOLDEN = Path(__file__).parent / "golden" / "analyze"
CASES = sorted(GOLDEN.glob("*.sql"))

_T = "timestamp with time zone"
SCHEMA = SchemaMap(
    {
        TableName("public", "customers"): {
            "id": "integer", "email": "text", "name": "text", "country": "text",
            "active": "boolean", "created_at": _T, "deleted_at": _T,
        },
        TableName("public", "orders"): {
            "id": "integer", "customer_id": "integer", "status": "text", "total": "numeric",
            "created_at": _T, "shipped_at": _T,
        },
        TableName("public", "order_items"): {
            "id": "integer", "order_id": "integer", "product_id": "integer",
            "quantity": "integer", "price": "numeric",
        },
        TableName("public", "products"): {
            "id": "integer", "sku": "text", "name": "text", "category_id": "integer",
            "price": "numeric",
        },
        TableName("public", "categories"): {
            "id": "integer", "parent_id": "integer", "name": "text",
        },
        TableName("public", "shipments"): {
            "order_id": "integer", "carrier": "text", "shipped_at": _T,
        },
        TableName("public", "OrderLines"): {
            "id": "integer", "user_id": "integer", "Order Date": "date", "Qty": "integer",
        },
        TableName("public", "user"): {"id": "integer", "order": "text", "email": "text"},
        TableName("public", "events"): {
            "id": "integer", "customer_id": "integer", "ts": "timestamp without time zone",
            "payload": "jsonb", "deleted": "boolean", "a": "integer", "b": "integer",
            "code": "character varying(20)",
        },
        TableName("tpch", "lineitem"): {
            c: "numeric" for c in (
                "l_orderkey", "l_partkey", "l_suppkey", "l_linenumber", "l_quantity",
                "l_extendedprice", "l_discount", "l_tax", "l_returnflag", "l_linestatus",
                "l_shipdate", "l_commitdate", "l_receiptdate", "l_shipmode",
            )
        },
        TableName("tpch", "orders"): {
            c: "text" for c in (
                "o_orderkey", "o_custkey", "o_orderstatus", "o_totalprice", "o_orderdate",
                "o_orderpriority", "o_clerk", "o_shippriority",
            )
        },
        TableName("tpch", "customer"): {
            c: "text" for c in (
                "c_custkey", "c_name", "c_address", "c_nationkey", "c_phone", "c_acctbal",
                "c_mktsegment",
            )
        },
    },
    search_path=("public", "tpch"),
)


def check_golden(case: Path) -> None:
    """Compare analyze() of a .sql file with its .expected file (or rewrite it)."""
    actual = "\n".join(analyze(case.read_text(), SCHEMA).lines()) + "\n"
    expected = case.with_suffix(".expected")
    compare_golden(actual, expected)


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    check_golden(case)


def test_enough_golden_cases() -> None:
    assert len(CASES) >= 25


# -- the fingerprint trap ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("SELECT * FROM orders o WHERE o.id = 1", "SELECT * FROM invoices o WHERE o.id = 1"),
        ("SELECT * FROM public.orders WHERE id = 1", "SELECT * FROM archive.orders WHERE id = 1"),
        ("SELECT * FROM orders t WHERE t.id = 1", 'SELECT * FROM "Orders" t WHERE t.id = 1'),
    ],
)
def test_same_fingerprint_different_relations(one: str, other: str) -> None:
    assert parse_statement(one).fingerprint == parse_statement(other).fingerprint
    assert statement_relations(one) != statement_relations(other)


def test_same_query_with_other_constants_groups_together() -> None:
    one, other = parse_statement("SELECT 1 FROM Orders WHERE id = 1"), parse_statement(
        "select 1 from orders where id = 42"
    )
    assert (one.fingerprint, one.relations) == (other.fingerprint, other.relations)


def test_relations_skip_ctes_but_keep_shadowed_tables() -> None:
    text = (
        "WITH a AS (SELECT * FROM a) SELECT * FROM a,"
        " (WITH b AS (SELECT 1) SELECT * FROM b) s, b"
    )
    assert statement_relations(text) == ("a", "b")


def test_parsed_statement_fields() -> None:
    p = parse_statement('DELETE FROM "Sales"."Order Lines" WHERE id = $3 AND x = $1')
    assert (p.kind, p.relations, p.param_count) == ("delete", ('"Sales"."Order Lines"',), 3)
    assert parse_statement("SET work_mem = '64MB'").kind == "utility"


# -- the gate's errors ------------------------------------------------------------------------


def test_unparseable_text_has_a_position() -> None:
    with pytest.raises(StatementError) as caught:
        parse_statement("SELECT *\nFROM WHERE x")
    assert caught.value.position == 14
    assert (caught.value.line, caught.value.column) == (2, 6)
    assert "syntax error" in str(caught.value)
    assert isinstance(caught.value, WorkloadError)


def test_error_at_end_of_input() -> None:
    with pytest.raises(StatementError) as caught:
        parse_statement("SELECT * FROM")
    assert caught.value.position == len("SELECT * FROM")


@pytest.mark.parametrize("text", ["SELECT 1; SELECT 2", "", "-- nothing but a comment"])
def test_not_exactly_one_statement(text: str) -> None:
    with pytest.raises(StatementError):
        parse_statement(text)


def test_analyze_goes_through_the_gate() -> None:
    with pytest.raises(StatementError):
        analyze("SELEC id FROM orders", SCHEMA)


# -- properties -------------------------------------------------------------------------------

TEMPLATES = [
    "SELECT {a}.id FROM orders {a} WHERE {a}.status = 'x' ORDER BY {a}.created_at",
    "SELECT {a}.name FROM categories {a} JOIN categories {b} ON {b}.id = {a}.parent_id"
    " WHERE {b}.name LIKE 'a%'",
    "SELECT {a}.id FROM customers {a} WHERE EXISTS"
    " (SELECT 1 FROM orders {b} WHERE {b}.customer_id = {a}.id AND {b}.total > $1)",
    "SELECT {b}.n FROM (SELECT {a}.customer_id AS n FROM orders {a} WHERE {a}.status = 'x') {b}"
    " WHERE {b}.n = 3",
    "WITH c AS (SELECT id FROM orders) SELECT {a}.id FROM c {a}"
    " JOIN order_items {b} ON {b}.order_id = {a}.id WHERE {b}.quantity BETWEEN 1 AND 3",
    "UPDATE orders {a} SET status = 'y' FROM customers {b}"
    " WHERE {b}.id = {a}.customer_id AND {b}.country = $1",
    'SELECT {a}."Order Date" FROM "OrderLines" {a} JOIN "user" {b} ON {b}.id = {a}.user_id'
    ' WHERE {a}."Order Date" > $1 AND {b}."order" IS NULL',
    "SELECT {a}.l_orderkey FROM lineitem {a}, tpch.orders {b}"
    " WHERE {a}.l_orderkey = {b}.o_orderkey AND {b}.o_orderdate < DATE '1995-03-15'",
]

_KEYWORDS = (
    keywords.RESERVED_KEYWORDS
    | keywords.UNRESERVED_KEYWORDS
    | keywords.COL_NAME_KEYWORDS
    | keywords.TYPE_FUNC_NAME_KEYWORDS
)
_TAKEN = {t.name.lower() for t in SCHEMA.tables} | {"c"}
_plain = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda s: s not in _KEYWORDS and s not in _TAKEN
)
_quoted = st.text(
    st.sampled_from("abcXYZ _9é"), min_size=1, max_size=12
).map(lambda s: f'"{s}"').filter(lambda s: s.strip('"').lower() not in _TAKEN)
aliases = st.lists(
    st.one_of(_plain, _quoted), min_size=2, max_size=2, unique_by=lambda s: s.strip('"')
)


def _uses(text: str) -> set[tuple[TableName, str, str]]:
    return {(u.table, u.column, str(u.kind)) for u in analyze(text, SCHEMA).uses}


@settings(max_examples=60, deadline=None)
@given(template=st.sampled_from(TEMPLATES), names=aliases)
def test_renaming_aliases_never_changes_uses(template: str, names: list[str]) -> None:
    baseline = _uses(template.format(a="x1", b="x2"))
    assert baseline
    assert _uses(template.format(a=names[0], b=names[1])) == baseline


@pytest.mark.parametrize(
    "text", [c.read_text() for c in CASES] + [t.format(a="p", b="q") for t in TEMPLATES]
)
def test_every_use_is_a_schema_column(text: str) -> None:
    analysis = analyze(text, SCHEMA)
    for use in analysis.uses:
        assert all(c in SCHEMA.tables[use.table] for c in key_columns(use.column))
    assert set(analysis.tables) <= set(SCHEMA.tables)
    assert list(analysis.uses) == sorted(set(analysis.uses))
