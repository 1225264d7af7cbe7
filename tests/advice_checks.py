"""Checks every test that runs the advisor can apply to what it printed.

* `assert_ddl_runs`: every DDL statement the advice prints (recommendations, not-costed GIN
  proposals, drops), run in order on the database it was made for, as a DBA pastes it
  (autocommit: CREATE INDEX CONCURRENTLY refuses a transaction block). Test databases only.
* `assert_costs_match`: each query's cost after, as the JSON says it, equals an independent
  EXPLAIN in a fresh HypoPG session with exactly the recommended indexes (within 0.5%).
"""

from __future__ import annotations

import psycopg
import pytest

from indexadvisor.catalog.read import read_catalog
from indexadvisor.db.connect import connect
from indexadvisor.explain.costs import CachedCosts
from indexadvisor.explain.hypo import HypoSession
from indexadvisor.model import Advice, Verdict
from indexadvisor.pipeline.analysis import analyze_workload
from indexadvisor.pipeline.baseline import cost_baseline
from indexadvisor.report import advice_to_dict

TOLERANCE = 0.005


def ddl_statements(advice: Advice) -> list[str]:
    """Every statement the reports print for the user to run, in the order they print them."""
    texts = [r.ddl for r in advice.recommendations]
    texts += [n.ddl for n in advice.not_costed]
    texts += [d.candidate.ddl for d in advice.drops if d.verdict is Verdict.DROP]
    return [line for text in texts for line in text.splitlines()
            if line.strip() and not line.startswith("--")]


def assert_ddl_runs(dsn: str, advice: Advice) -> set[str]:
    """Run the advice's DDL in order; every statement must succeed. Returns the names of the
    indexes it created."""
    query = ("SELECT n.nspname || '.' || c.relname FROM pg_class c "
             "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('i', 'I')")
    with psycopg.connect(dsn, autocommit=True) as conn:
        before = {row[0] for row in conn.execute(query)}
        for statement in ddl_statements(advice):
            try:
                conn.execute(statement.encode())
            except psycopg.Error as exc:
                pytest.fail(f"printed DDL failed: {statement}\n{exc}")
        after = {row[0] for row in conn.execute(query)}
    created = after - before
    assert len(created) >= len(advice.recommendations)
    return created


def assert_costs_match(dsn: str, advice: Advice) -> int:
    """The JSON's cost_after of every costed query equals an EXPLAIN in a fresh HypoPG session
    with exactly the recommended indexes (the same statement text and $n values the advisor
    settled on). Returns how many queries were compared."""
    doc = {q["fingerprint"]: q for q in advice_to_dict(advice)["queries"] if q["fingerprint"]}
    compared = 0
    with connect(dsn) as conn:
        catalog = read_catalog(conn)
        analyzed = analyze_workload(advice.workload, catalog)
        with HypoSession(conn, catalog) as session:
            baseline = cost_baseline(analyzed, CachedCosts(session))
            session.use([r.candidate for r in advice.recommendations])
            for item in baseline.reads:
                expected = doc[item.key]["cost_after"]
                if expected is None:
                    continue
                costed = item.costed
                plan = session.explain(costed.text, costed.params, costed.param_count)
                assert plan.cost == pytest.approx(expected, rel=TOLERANCE, abs=0.01), \
                    item.query.text
                compared += 1
    return compared
