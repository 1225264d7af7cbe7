"""Issue 12: advice at scale, on a small copy of the benchmark's snowflake schema (skewed data,
5-15-way joins) in a real PostgreSQL with HypoPG.

Parallel what-if sessions choose exactly what one session chooses; a time limit returns a
valid set (its DDL runs, its costs are the planner's) with an outcome for every query; costs
derived from plans equal the planner's own; the shortcuts save EXPLAINs without changing
the advice; the probes' search space keeps what the probes' plans used.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from benchmarks.scale import snowflake
from indexadvisor.db.connect import connect
from indexadvisor.ingest.collect import collect
from indexadvisor.model import Advice, AdvisorConfig, Outcome, Statement
from indexadvisor.pipeline.advise import advice_run, advise
from indexadvisor.pipeline.choice import SHARED_NOTE
from indexadvisor.pipeline.probe import probe
from indexadvisor.selection.greedy import TIME_LIMIT_STOP

from .advice_checks import assert_costs_match, assert_ddl_runs
from .conftest import scratch_database

SCALE = 0.02  # 27 MB: the benchmark's schema and skew at 1/50 of its rows
QUERIES = 12
BUDGET = 40 << 20


@pytest.fixture(scope="module")
def snow(pg_dsn: str) -> Iterator[str]:
    """The snowflake schema with its data at SCALE, vacuumed and analyzed; its DSN.

    The same statistics on every run: ANALYZE reads every row (its sample, 300 x the target,
    exceeds the largest table's 80,000 rows; the default samples 30,000 at random), and
    autovacuum is off on these tables, so it cannot re-sample them between two tests that
    compare advice (the planner's ties, and so the advice, follow the statistics)."""
    with scratch_database(pg_dsn, "t_scale_snowflake") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(snowflake.schema_sql().encode())
            for statement in snowflake.data_sql(SCALE):
                conn.execute(statement.encode())
            tables = [name for (name,) in conn.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r'"
                " AND relnamespace = 'public'::regnamespace ORDER BY 1")]
            for table in tables:
                conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = false)")
                             .format(sql.Identifier(table)))
            conn.execute("SET default_statistics_target = 300")
            conn.execute("VACUUM ANALYZE")
        yield dsn


def _statements() -> list[Statement]:
    return [Statement(text, f"q{n:03d}.sql:1")
            for n, text in enumerate(snowflake.queries(QUERIES), start=1)]


def _advise(dsn: str, config: AdvisorConfig, jobs: int = 1) -> Advice:
    workers = [connect(dsn) for _ in range(jobs - 1)]
    try:
        with connect(dsn) as conn:
            return advise(collect(_statements()), conn, config, sandbox=True, workers=workers)
    finally:
        for worker in workers:
            worker.close()


def _ddl_runs(dsn: str, advice: Advice) -> None:
    """The printed DDL runs in order; what it built is dropped again (the database is shared
    by the module's tests)."""
    created = assert_ddl_runs(dsn, advice)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in created:
            schema, _, index = name.partition(".")
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(schema, index)))


def _chosen(advice: Advice) -> list[str]:
    return [r.ddl for r in advice.recommendations]


@pytest.fixture(scope="module")
def serial(snow: str) -> Advice:
    return _advise(snow, AdvisorConfig(budget_bytes=BUDGET, fill_budget=True))


def test_the_workload_is_wide_and_the_advice_real(snow: str, serial: Advice) -> None:
    widths = [len(r.query.relations) for r in serial.results]
    assert max(widths) >= 10 and min(widths) >= 5
    assert len(serial.recommendations) >= 5
    assert serial.cost_after < 0.9 * serial.cost_before
    assert serial.counters.by_stage and serial.counters.derived > 0
    assert sum(n for _, n in serial.counters.by_stage) == serial.counters.whatif_calls
    assert_costs_match(snow, serial)
    _ddl_runs(snow, serial)


def test_two_sessions_choose_what_one_chooses(snow: str, serial: Advice) -> None:
    """The same advice up to the planner's ties: PostgreSQL keeps one of two paths whose costs
    are within 1% of each other (add_path's fuzz factor) by the order it met them, so a plan
    costed on another session (its hypothetical indexes made in another order) or derived
    from a wider configuration may pick the twin. On the benchmark's workloads the sets are
    identical (the analytic benchmark, BENCHMARKS.md); here at least nearly so."""
    parallel = _advise(snow, AdvisorConfig(budget_bytes=BUDGET, fill_budget=True, jobs=2), 2)
    assert parallel.counters.sessions == 2 and serial.counters.sessions == 1
    same = set(_chosen(parallel)) & set(_chosen(serial))
    assert len(same) >= 0.8 * max(len(_chosen(parallel)), len(_chosen(serial)))
    assert parallel.cost_after == pytest.approx(serial.cost_after, rel=0.01)
    assert len(parallel.results) == len(serial.results)
    # (its costs against a fresh session's EXPLAIN are not asserted: a worker session's
    # index order can tip a 1% tie, as above; the serial run's are, in the first test)


def test_the_shortcuts_save_explains_and_change_nothing(snow: str, serial: Advice) -> None:
    runs = {name: _advise(snow, AdvisorConfig(budget_bytes=BUDGET, fill_budget=True, **off))
            for name, off in (("derive", {"derive_costs": False}),
                              ("bounds", {"bound_moves": False}),
                              ("probes", {"probe_rounds": 0}))}
    for name, plain in runs.items():
        if name != "bounds":
            assert plain.counters.whatif_calls > serial.counters.whatif_calls, name
        # (the bounds save a few percent, on a path a planner tie can divert: here they can
        # cost more, so their saving is shown on a fixed cost model, test_selection, and
        # measured on the benchmark's workloads, BENCHMARKS.md)
        # Close, not equal: the planner is not an exact cost minimiser (add_path's 1% fuzz;
        # a sub-join keeps only its cheapest paths, which a LIMIT above may not have chosen),
        # so a floor from the probes can sit above what some configuration reaches, and a
        # derived cost can be a twin's. Fresh clones' statistics gave sets 2.3% (no
        # derivation) and 11% (no bounds) cheaper than the default's; known, in BENCHMARKS.md.
        assert plain.cost_after == pytest.approx(serial.cost_after, rel=0.2), name
    assert runs["derive"].counters.derived == 0


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_time_limit_returns_a_valid_set_with_every_outcome(snow: str, serial: Advice,
                                                             jobs: int) -> None:
    limited = _advise(snow, AdvisorConfig(budget_bytes=BUDGET, fill_budget=True, jobs=jobs,
                                          time_limit_s=0.3), jobs)
    assert limited.counters.timed_out
    assert limited.selection_stop.startswith(TIME_LIMIT_STOP)
    # the search had no time for a move: what the probed queries' cheapest plans read fills
    # the budget, priced by the final EXPLAINs like any set (asserted below)
    assert limited.recommendations and "not weighed" in limited.selection_stop
    assert limited.cost_after < limited.cost_before
    # benefits past the limit are shared from the final plans: they add up to the saving of
    # the queries whose plans read a new index
    assert SHARED_NOTE in limited.selection_stop
    served = {key for rec in limited.recommendations for key in rec.queries}
    saving = sum(r.query.calls * (r.cost_before - r.cost_after) for r in limited.results
                 if r.query.fingerprint in served)
    assert sum(rec.benefit for rec in limited.recommendations) == pytest.approx(
        saving, abs=0.01 * (len(limited.recommendations) + len(served)))  # to the cent
    assert len(limited.results) == len(serial.results)
    assert all(r.outcome in Outcome for r in limited.results)
    assert all(r.reason for r in limited.results)
    assert limited.index_bytes <= BUDGET
    assert limited.cost_after <= limited.cost_before
    assert_costs_match(snow, limited)
    _ddl_runs(snow, limited)


def test_no_time_limit_is_not_reported_as_one(serial: Advice) -> None:
    assert not serial.counters.timed_out
    assert serial.selection_stop != TIME_LIMIT_STOP


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_derived_costs_are_the_planners(snow: str, data: st.DataObject) -> None:
    """A plan under configuration C that reads only U ⊆ C answers every C' between U and C
    without an EXPLAIN; what it answers equals an EXPLAIN of C' itself."""
    with connect(snow) as conn, advice_run(collect(_statements()), conn,
                                           AdvisorConfig(budget_bytes=BUDGET)) as run:
        queries = [item.costed for item in run.baseline.reads]
        candidates = list(run.pool.candidates)
        query = data.draw(st.sampled_from(queries))
        full = run.costs.cost(query, candidates)
        relevant = sorted(c for c in candidates if c.table in query.scope)
        extra = data.draw(st.lists(st.sampled_from(relevant), unique=True)) if relevant else []
        middle = set(full.used) | set(extra)
        before = run.costs.derived
        derived = run.costs.cost(query, middle)
        if run.costs.derived > before:  # answered from the plan of `candidates`
            planned = run.costs.exact(query, middle)
            # equal, up to add_path's 1% fuzz between twin paths (see the test above)
            assert derived.cost == pytest.approx(planned.cost, rel=0.011)


def test_probes_keep_what_the_plans_used(snow: str) -> None:
    with connect(snow) as conn, advice_run(collect(_statements()), conn,
                                           AdvisorConfig(budget_bytes=BUDGET)) as run:
        queries = [item.costed for item in run.baseline.reads]
        candidates = list(run.pool.candidates)
        space = probe(queries, candidates, run.costs, run.baseline.base, rounds=3)
        for q in queries:
            kept = space.kept.get(q.key, frozenset())
            assert kept <= set(candidates)
            assert space.floor[q.key] <= run.baseline.base[q.key] * (1 + 1e-9)
            for cand in kept:
                assert q in space.evaluated[cand]
        # a query is costed against far fewer candidates than are relevant to it
        evaluated = sum(len(v) for v in space.evaluated.values())
        relevant = sum(len(v) for v in space.relevant.values())
        assert evaluated < relevant / 2



def test_a_time_limit_restarts_for_each_selection(snow: str) -> None:
    """Validation selects again after minutes of building and measuring: that selection has
    the whole limit again, not what the first one left."""
    config = AdvisorConfig(budget_bytes=BUDGET, time_limit_s=60)
    with connect(snow) as conn, advice_run(collect(_statements()), conn, config) as run:
        first = run.advice()
        run.started -= 3600  # as if the first selection and its measuring took an hour
        again = run.advice(frozenset({first.recommendations[0].candidate}))
    assert not first.counters.timed_out and not again.counters.timed_out
    assert again.recommendations
