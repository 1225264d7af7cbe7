"""The advisor as a short sequence of named stages, each taking and returning frozen values:

    catalog -> analysis -> proposals -> baseline -> pool -> choice -> drops -> verdicts

Every query leaves with exactly one `Outcome` and a reason a DBA can act on (`verdicts`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

from .._version import __version__
from ..analyze.gin import query_gin_uses
from ..candidates.gin import gin_note, gin_proposals
from ..catalog import Catalog
from ..catalog.read import read_catalog
from ..drops.price import advise_drops
from ..explain.costs import PARALLEL_MIN_TABLES, CachedCosts
from ..explain.hypo import HypoSession
from ..model import Advice, AdvisorConfig, Candidate, CostedQuery, Counters, Plan, Workload
from .analysis import Analyzed, analyze_workload
from .baseline import Baseline, cost_baseline
from .choice import Choice, check_algorithm, choose
from .pool import Pool, build_pool
from .proposals import Proposals, beside_existing, propose, refuse
from .verdicts import Costs, Facts, decide

if TYPE_CHECKING:
    import psycopg


#: What a time limit keeps back from the search, to price and explain what it chose: a share
#: of the limit, and passes over the statements as long as the baseline's (the search's set
#: priced, merged, priced with all of it live, drops: each EXPLAIN slower with indexes).
RESERVE_SHARE = 0.05
RESERVE_BASELINES = 6.0


def reserve(limit_s: float, baseline_s: float) -> float:
    """Seconds of a `limit_s` time limit not given to the search (at most half of it).

    >>> reserve(10.0, 0.5), reserve(120.0, 0.5), reserve(10.0, 5.0)
    (3.5, 9.0, 5.0)
    """
    return min(limit_s / 2, RESERVE_SHARE * limit_s + RESERVE_BASELINES * baseline_s)


def advise(workload: Workload, conn: psycopg.Connection,
           config: AdvisorConfig | None = None,
           progress: Callable[[str], None] | None = None, *, sandbox: bool = False,
           workers: Sequence[psycopg.Connection] = (), started: float | None = None) -> Advice:
    """Run the whole advisor on `workload` against the database behind `conn`.

    `conn` must be a connection from `indexadvisor.db.connect.connect` (read-only, guarded);
    nothing is written to the database. `progress` is told the stage being worked on.
    `sandbox=True` only when `conn` is a throwaway database we created: drop advice may then
    simulate a DROP INDEX in a rolled-back transaction there. `workers` are more guarded
    connections (to the same database, or to its read replicas): each gets its own HypoPG
    session and what-if EXPLAINs are spread over all of them. `config.time_limit_s` counts
    from `started` (time.perf_counter(); default: now).
    """
    with advice_run(workload, conn, config, progress, sandbox=sandbox,
                    workers=workers, started=started) as run:
        return run.advice()


@contextmanager
def advice_run(workload: Workload, conn: psycopg.Connection,
               config: AdvisorConfig | None = None,
               progress: Callable[[str], None] | None = None, *,
               sandbox: bool = False,
               workers: Sequence[psycopg.Connection] = (),
               started: float | None = None) -> Iterator[AdviceRun]:
    """The stages up to the candidate pool, done once, with the HypoPG session kept open, so
    the choice can run again without some candidates (`AdviceRun.advice`): what validation
    does after an index turned out slower for real. Arguments as for `advise`."""
    config = config or AdvisorConfig()
    say = progress or (lambda _message: None)
    check_algorithm(config)
    started = time.perf_counter() if started is None else started
    say("reading the catalog")
    catalog = read_catalog(conn)
    say(f"analyzing {len(workload.queries)} queries")
    analyzed = analyze_workload(workload, catalog, config.jobs)
    proposals = propose(analyzed, catalog, config)
    if not any(len(item.costed.scope) >= PARALLEL_MIN_TABLES for item in analyzed.reads):
        workers = ()  # no join to cost: the sessions would idle, their bookkeeping would not
    with ExitStack() as stack:
        session = stack.enter_context(HypoSession(conn, catalog))
        helpers = [stack.enter_context(HypoSession(worker, catalog)) for worker in workers]
        costs = CachedCosts(session, workers=helpers, derive=config.derive_costs)
        stack.callback(costs.close)
        proposals = refuse(proposals, session)
        say(f"costing {len(analyzed.reads)} queries without new indexes")
        costs.stage = "baseline"
        clock = time.perf_counter()
        baseline = cost_baseline(analyzed, costs)
        baseline_s = time.perf_counter() - clock
        proposals = beside_existing(proposals, baseline, costs, catalog)
        say(f"sizing {len(proposals.candidates)} candidate indexes")
        costs.stage = "sizes"
        pool = build_pool(proposals, baseline, catalog, session, config, workload,
                          sandbox=sandbox)
        yield AdviceRun(workload, config, catalog, analyzed, proposals, baseline, pool, costs,
                        say, started, sandbox, baseline_s)


class AdviceRun:
    """An advisor run after the pool stage: `advice()` chooses, prices drops and decides
    every verdict; `advice(excluded)` does it again with some candidates taken out."""

    def __init__(self, workload: Workload, config: AdvisorConfig, catalog: Catalog,
                 analyzed: Analyzed, proposals: Proposals, baseline: Baseline, pool: Pool,
                 costs: CachedCosts, say: Callable[[str], None], started: float,
                 sandbox: bool, baseline_s: float = 0.0) -> None:
        self.workload, self.config, self.catalog = workload, config, catalog
        self.analyzed, self.proposals, self.baseline, self.pool = (analyzed, proposals,
                                                                   baseline, pool)
        self.costs, self.say, self.started, self.sandbox = costs, say, started, sandbox
        self.baseline_s = baseline_s  # one EXPLAIN of each statement, no new index
        self.choices = 0  # advice() calls so far: a time limit restarts for each after the
        # first (validation selects again after minutes of measuring)

    @property
    def statements(self) -> dict[str, CostedQuery]:
        """The costable statements advised on, by query key: what validation runs."""
        return {item.key: item.costed for item in self.baseline.reads}

    @property
    def server_version_num(self) -> int:
        return self.catalog.server_version_num

    def plan(self, key: str, configuration: Iterable[Candidate]) -> Plan:
        """The what-if plan of a statement under a configuration (hypothetical names renamed
        to the names our DDL gives)."""
        return self.costs.plan(self.statements[key], configuration)

    def advice(self, excluded: Collection[Candidate] = frozenset(),
               notes: Mapping[str, str] | None = None) -> Advice:
        """Choice, drops and verdicts, with `excluded` out of the pool. `notes` (query key ->
        text) are said in those queries' reasons; a query with a note that is no longer
        improved is `withdrawn`."""
        config, catalog, baseline, costs = self.config, self.catalog, self.baseline, self.costs
        pool = self.pool
        if excluded:
            pool = replace(pool, candidates=tuple(c for c in pool.candidates
                                                  if c not in excluded))
        notes = notes or {}
        self.say(f"selecting among {len(pool.candidates)} candidates ({config.algorithm})")
        start = self.started if self.choices == 0 else time.perf_counter()
        self.choices += 1
        deadline = (None if config.time_limit_s is None
                    else start + config.time_limit_s
                    - reserve(config.time_limit_s, self.baseline_s))
        choice = choose(baseline, pool, costs, catalog, config, deadline=deadline)
        self.say("pricing index drops")
        costs.stage = "drops"
        drops = advise_drops(costs, catalog, [item.costed for item in baseline.reads],
                             [r.candidate for r in choice.recommendations],
                             sandbox=self.sandbox,
                             tables={item.key: item.analysis.tables for item in baseline.reads},
                             loads=pool.loads)
        serving: dict[str, set[Candidate]] = {}  # query key -> the recommendations it uses
        for rec in choice.recommendations:
            for key in rec.queries:
                serving.setdefault(key, set()).add(rec.candidate)
        measured = {item.key: _costs(item.costed, costs, baseline, choice,
                                     serving.get(item.key, set()))
                    for item in baseline.reads}
        analyzed, proposals, workload = self.analyzed, self.proposals, self.workload
        gin = {item.key: query_gin_uses(item.query, analyzed.schema) for item in analyzed.reads}
        not_costed = gin_proposals(gin, catalog)
        chosen = choice.selection
        facts = {}
        for query in workload.queries:
            key = query.fingerprint
            problem = baseline.problems.get(key) or analyzed.problems.get(key)
            proposed = proposals.fresh.get(key, ())
            facts[key] = Facts(
                query, problem=problem, costs=measured.get(key),
                proposed=proposed, covered=tuple(proposals.covered.get(key, {}).values()),
                refused=proposals.refused_for(key),
                write_losers=tuple(sorted(c.label for c in proposed
                                          if c in chosen.rejected_write)),
                stop_reason=chosen.stop_reason, gin_note=gin_note(not_costed, key),
                values_note=baseline.notes.get(key, ""), withdrawn_note=notes.get(key, ""))
        return Advice(
            tool_version=__version__,
            server_version=catalog.server_version,
            server_version_num=catalog.server_version_num,
            hypopg_version=catalog.hypopg_version or "",
            config=config,
            workload=workload,
            results=tuple(decide(facts[q.fingerprint], config) for q in workload.queries),
            recommendations=choice.recommendations,
            bounds=choice.bounds,
            selection_stop=chosen.stop_reason,
            counters=Counters(costs.explain_calls, costs.requests, costs.hits,
                              time.perf_counter() - self.started, costs.derived,
                              tuple(sorted(costs.by_stage.items())), len(costs.sessions),
                              chosen.timed_out),
            steps=chosen.steps,
            drops=drops,
            not_costed=not_costed,
        )


def _costs(query: CostedQuery, costs: CachedCosts, baseline: Baseline, choice: Choice,
           new: set[Candidate]) -> Costs:
    """A costable query's costs and plans before and with the recommended set (`new`: the
    recommendations that serve it)."""
    key = query.key
    final = choice.final[key]
    labels = tuple(sorted(c.label for c in final.used | new))
    before = costs.plan(query, ())
    after = costs.plan(query, choice.selection.chosen, exact=True)
    if choice.renames:
        after = after.renamed(choice.renames)
    return Costs(baseline.base[key], final.cost, choice.best[key], labels, final.existing,
                 before, after if after != before else None)
