"""The whole pipeline on a real PostgreSQL with HypoPG: outcomes, reasons, DDL, read-only."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import psycopg
import pytest
from rich.console import Console

from indexadvisor import AdvisorConfig, advise, connect, load_workload
from indexadvisor.model import Advice, Outcome
from indexadvisor.report import advice_to_dict, load_advice, render_json, render_table
from indexadvisor.sql.ddl import check_roundtrip

from .conftest import run_sql

SHOP_DIR = Path(__file__).parent.parent / "workloads" / "shop"
SHOP = (SHOP_DIR / "schema.sql").read_text()

WORKLOAD = (SHOP_DIR / "workload.sql").read_text()


@pytest.fixture
def shop(fresh_db: str) -> str:
    run_sql(fresh_db, SHOP)
    return fresh_db


@pytest.fixture
def workload_file(tmp_path: Path) -> Path:
    path = tmp_path / "workload.sql"
    path.write_text(WORKLOAD)
    return path


def _by_text(advice, fragment: str):  # type: ignore[no-untyped-def]
    found = [r for r in advice.results if fragment in r.query.text]
    assert len(found) == 1, fragment
    return found[0]


def test_pipeline_outcomes_and_reasons(shop: str, workload_file: Path) -> None:
    workload = load_workload([str(workload_file)])
    with connect(shop) as conn:
        advice = advise(workload, conn, AdvisorConfig())

    # $n statement costed with a generic plan, and improved by a customer_id index
    by_customer = _by_text(advice, "customer_id = $1")
    assert by_customer.outcome is Outcome.IMPROVED
    assert by_customer.cost_before is not None and by_customer.cost_after is not None
    assert by_customer.cost_after < by_customer.cost_before / 10
    assert any("customer_id" in name for name in by_customer.indexes_used)

    # quoted identifiers resolved and indexed
    lines = _by_text(advice, '"orderId" = 4242')
    assert lines.outcome is Outcome.IMPROVED
    assert any('"orderId"' in name or '"user"' in name for name in lines.indexes_used)

    # primary key already serves it
    pk = _by_text(advice, "WHERE id = 7")
    assert pk.outcome is Outcome.ALREADY_OPTIMAL
    assert "orders_pkey" in pk.reason

    # unknown table: reported with a reason, the run went on
    missing = _by_text(advice, "shipments")
    assert missing.outcome is Outcome.UNKNOWN_TABLE
    assert "shipments" in missing.reason and "search_path" in missing.reason

    # a table written 200,000 times and read twice gets no index
    audit = _by_text(advice, "FROM audit WHERE entity_id")
    assert audit.outcome is Outcome.WRITE_COST
    assert not any(r.candidate.table.name == "audit" for r in advice.recommendations)

    # unparseable and utility statements: skipped with where they came from
    reasons = {s.reason.split(":")[0]: s for s in advice.workload.skipped}
    assert reasons["unparseable"].source == f"{workload_file}:15"
    assert "SELEC" in reasons["unparseable"].text
    assert any("utility" in s.reason for s in advice.workload.skipped)

    # every query has an outcome and a reason
    assert len(advice.results) == len(advice.workload.queries)
    assert all(r.reason for r in advice.results)

    # and the terminal report renders all of them
    console = Console(file=io.StringIO(), width=160)
    render_table(advice, console)
    shown = console.file.getvalue()
    assert all(r.outcome.value in shown for r in advice.results)


def test_recommended_ddl_round_trips_and_builds(shop: str, workload_file: Path) -> None:
    with connect(shop) as conn:
        advice = advise(load_workload([str(workload_file)]), conn, AdvisorConfig())
    assert advice.recommendations
    quoted = [r for r in advice.recommendations if r.candidate.table.name == "Order Lines"]
    assert quoted, "the quoted table must get an index"
    assert 'ON public."Order Lines"' in quoted[0].ddl
    for rec in advice.recommendations:
        for statement in rec.ddl.splitlines():
            check_roundtrip(statement)
    # the DDL is what a DBA runs: build it for real (test database only), it must work
    with psycopg.connect(shop, autocommit=True) as conn:
        for rec in advice.recommendations:
            for statement in rec.ddl.splitlines():
                conn.execute(statement.encode())
        names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
    assert all(any(part in names for part in (rec.ddl.split()[3],))
               for rec in advice.recommendations)


def test_budget_and_max_indexes_are_respected(shop: str, workload_file: Path) -> None:
    workload = load_workload([str(workload_file)])
    with connect(shop) as conn:
        free = advise(workload, conn, AdvisorConfig())
        assert len(free.recommendations) >= 2
        smallest = min(r.size_bytes for r in free.recommendations)
        tight = advise(workload, conn, AdvisorConfig(budget_bytes=smallest))
        one = advise(workload, conn, AdvisorConfig(max_indexes=1))
    assert tight.index_bytes <= smallest
    assert len(one.recommendations) == 1
    assert any(r.outcome is Outcome.OVER_BUDGET for r in one.results)
    # baselines bound the result
    assert free.bounds.all_candidates <= free.cost_after + 1e-6 <= free.bounds.no_index + 1e-6


def test_json_contract(shop: str, workload_file: Path) -> None:
    with connect(shop) as conn:
        doc = advice_to_dict(advise(load_workload([str(workload_file)]), conn))
    assert doc["schema_version"] == 2
    assert set(doc) >= {"tool", "server", "settings", "workload", "summary", "recommendations",
                        "drops", "queries"}
    assert doc["server"]["hypopg"]
    assert set(doc["summary"]) >= {"cost_before", "cost_after", "improvement_pct",
                                   "index_bytes", "whatif_calls", "cache_hits", "elapsed_s"}
    assert doc["summary"]["whatif_calls"] > 0 and doc["summary"]["cache_hits"] > 0
    rec = doc["recommendations"][0]
    assert set(rec) >= {"table", "columns", "include", "where", "method", "ddl", "size_bytes",
                        "benefit", "write_overhead", "queries"}
    assert rec["size_bytes"] > 0 and rec["queries"]
    outcomes = {q["outcome"] for q in doc["queries"]}
    assert {"improved", "unknown_table", "unparseable"} <= outcomes
    assert all(q["reason"] for q in doc["queries"])
    assert doc["workload"]["statements"] == 10
    for q in doc["queries"]:  # plans travel with every costed query, in EXPLAIN's own shape
        if q["outcome"] == "improved":
            before, after = q["plan_before"][0]["Plan"], q["plan_after"][0]["Plan"]
            assert before["Total Cost"] == pytest.approx(q["cost_before"], abs=0.01)
            assert after["Total Cost"] == pytest.approx(q["cost_after"], abs=0.01)


def test_catalog_unchanged_by_a_run(shop: str, workload_file: Path) -> None:
    snapshot = """
        SELECT c.relname, c.relkind, c.relpages, c.reltuples, c.relhasindex
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        ORDER BY 1
    """
    with psycopg.connect(shop) as conn:
        before = conn.execute(snapshot).fetchall()
        indexes_before = conn.execute("SELECT indexdef FROM pg_indexes ORDER BY 1").fetchall()
    with connect(shop) as conn:
        advice = advise(load_workload([str(workload_file)]), conn)
    assert advice.recommendations
    with psycopg.connect(shop) as conn:
        assert conn.execute(snapshot).fetchall() == before
        assert conn.execute("SELECT indexdef FROM pg_indexes ORDER BY 1").fetchall() == \
            indexes_before
        # nothing hypothetical leaks into other sessions either
        assert conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone() == (0,)


def test_every_outcome_has_a_style() -> None:
    from indexadvisor.report.table import _STYLE

    assert set(_STYLE) == set(Outcome)


def test_a_saved_advice_renders_like_the_live_one(shop: str, workload_file: Path,
                                                  tmp_path: Path) -> None:
    """JSON back to values loses nothing a report shows."""
    with connect(shop) as conn:
        advice = advise(load_workload([str(workload_file)]), conn)
    saved = tmp_path / "advice.json"
    saved.write_text(render_json(advice))
    again = load_advice(saved)
    assert render_json(again) == saved.read_text()

    def table(value: Advice) -> str:
        console = Console(width=120, record=True, color_system=None)
        render_table(value, console)
        return console.export_text()

    assert table(again) == table(advice)


def test_selection_steps_trace_the_cost_curve(shop: str, workload_file: Path) -> None:
    """Each accepted move is a point (bytes, workload cost); the last is the advice."""
    with connect(shop) as conn:
        advice = advise(load_workload([str(workload_file)]), conn)
    steps = advice.steps
    assert steps and advice.recommendations
    adds = [s for s in steps if s.extra_bytes > 0 and s.replaced is None]
    assert all(later.cost_after < earlier.cost_after for earlier, later in itertools.pairwise(adds))
    assert steps[-1].bytes_after == advice.index_bytes
    assert steps[-1].cost_after == pytest.approx(advice.cost_after, rel=1e-9)
    assert steps[0].cost_after < advice.bounds.no_index
