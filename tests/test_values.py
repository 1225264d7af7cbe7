"""The values layer: quoting without the parser, names read back, plans as values."""

from __future__ import annotations

import subprocess
import sys

import pglast.keywords
from hypothesis import given
from hypothesis import strategies as st
from pglast.stream import maybe_double_quote_name

from indexadvisor.model import Plan, PlanNode, TableName, quote_ident
from indexadvisor.model.keywords import QUOTED_KEYWORDS
from indexadvisor.model.plan import DETAIL_KEYS, index_names

identifiers = st.one_of(
    st.sampled_from(sorted(QUOTED_KEYWORDS | pglast.keywords.UNRESERVED_KEYWORDS
                           | pglast.keywords.COL_NAME_KEYWORDS)),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=12),
    st.from_regex(r"[a-z_][a-z0-9_$]{0,10}", fullmatch=True),
)


def test_keywords_are_pglasts() -> None:
    assert QUOTED_KEYWORDS == (pglast.keywords.RESERVED_KEYWORDS
                               | pglast.keywords.TYPE_FUNC_NAME_KEYWORDS)


@given(identifiers)
def test_quote_ident_agrees_with_pglast(name: str) -> None:
    assert quote_ident(name) == maybe_double_quote_name(name)


@given(identifiers, identifiers)
def test_table_names_read_back(schema: str, name: str) -> None:
    table = TableName(schema, name)
    assert TableName.parse(str(table)) == table


def test_values_import_no_driver_or_parser() -> None:
    """Renderers and values load without psycopg, pglast or sqlglot (a saved report renders
    on a machine without them)."""
    code = ("import sys, indexadvisor.report, indexadvisor.model; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'psycopg', 'pglast', 'sqlglot', 'sqlalchemy'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _nodes(depth: int) -> st.SearchStrategy[dict[str, object]]:
    costs = st.floats(min_value=0, max_value=1e9, allow_nan=False).map(lambda x: round(x, 2))
    base = st.fixed_dictionaries(
        {"Node Type": st.sampled_from(["Seq Scan", "Index Scan", "Hash Join", "Sort",
                                       "Aggregate", "Bitmap Index Scan", "ModifyTable"]),
         "Startup Cost": costs, "Total Cost": costs,
         "Plan Rows": st.integers(0, 10**9).map(float), "Plan Width": st.integers(0, 2000)},
        optional={"Relation Name": st.text(max_size=8), "Alias": st.text(max_size=8),
                  "Index Name": st.text(min_size=1, max_size=8),
                  "Join Type": st.sampled_from(["Inner", "Left", "Semi"]),
                  **{k: st.text(max_size=20) for k in DETAIL_KEYS[:6]}})
    if depth == 0:
        return base
    return st.tuples(base, st.lists(_nodes(depth - 1), max_size=3)).map(
        lambda pair: {**pair[0], **({"Plans": pair[1]} if pair[1] else {})})


@given(_nodes(3))
def test_plans_round_trip_through_explain_json(node: dict[str, object]) -> None:
    plan = Plan.from_explain([{"Plan": node, "Planning Time": 0.5}])
    assert Plan.from_explain(plan.to_explain()) == plan
    assert plan.index_names == index_names(node)
    assert plan.cost == node["Total Cost"]


def test_hypothetical_index_names_are_renamed_for_the_reader() -> None:
    leaf = PlanNode("Index Scan", 0.4, 8.4, 1, 40, relation="orders", alias="o",
                    index_name="<13>btree_orders_customer_id")
    plan = Plan(PlanNode("Limit", 0.4, 8.4, 1, 40, children=(leaf,)))
    renamed = plan.renamed({"<13>btree_orders_customer_id": "orders_customer_id_idx"})
    (scan,) = renamed.root.children
    assert scan.describe() == "Index Scan using orders_customer_id_idx on orders o"
    assert scan.hypothetical and not renamed.root.hypothetical
    assert plan.renamed({}) == plan
