"""Greedy selection as a pure pass over a synthetic cost model (no database involved:
the algorithm's contract holds for any cost function)."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.model import Candidate, Cost, CostedQuery, Query, TableName
from indexadvisor.selection import Limits, SearchSpace, greedy

T = TableName("public", "t")


class TableCosts:
    """Cost of a query = base * product of the factors of the usable indexes (min one)."""

    def __init__(self, base: dict[str, float], factors: dict[tuple[str, Candidate], float]):
        self.base = base
        self.factors = factors

    def cost(self, query: CostedQuery, config: Iterable[Candidate]) -> Cost:
        best = min((self.factors.get((query.key, c), 1.0) for c in config), default=1.0)
        return Cost(self.base[query.key] * best, frozenset(), ())


def _query(key: str, cols: Iterable[str], calls: int = 1) -> CostedQuery:
    q = Query(key, key, ("t",), calls, None, ())
    return CostedQuery(q, key, 0, None, frozenset((T, c) for c in cols))


CANDS = [Candidate(T, cols) for cols in
         [("a",), ("b",), ("c",), ("a", "b"), ("b", "c"), ("a", "b", "c")]]
cand_st = st.sampled_from(CANDS)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(1, 1e6), st.sets(cand_st, min_size=1, max_size=3),
                       st.floats(0.01, 1.0), st.integers(1, 100)), min_size=1, max_size=6),
    st.dictionaries(cand_st, st.integers(1, 10**6), min_size=6, max_size=6),
    st.one_of(st.none(), st.integers(0, 2 * 10**6)),
    st.one_of(st.none(), st.integers(0, 4)),
)
def test_greedy_respects_limits_and_never_worsens(spec, sizes, budget, max_indexes) -> None:
    queries, base, factors = [], {}, {}
    for n, (cost, cands, factor, calls) in enumerate(spec):
        key = f"q{n}"
        base[key] = cost
        queries.append(_query(key, {c.columns[0] for c in cands}, calls))
        for c in cands:
            factors[(key, c)] = factor
    model = TableCosts(base, factors)
    candidates = sorted(sizes)
    sel = greedy(queries, candidates, sizes, model, Limits(budget, max_indexes, 0.0))
    assert budget is None or sum(sizes[c] for c in sel.chosen) <= budget
    assert max_indexes is None or len(sel.chosen) <= max_indexes
    assert len(set(sel.chosen)) == len(sel.chosen)
    for q in queries:
        assert sel.costs[q.key] <= base[q.key] + 1e-9


def test_widening_replaces_the_prefix() -> None:
    a, ab = Candidate(T, ("a",)), Candidate(T, ("a", "b"))
    q1, q2 = _query("q1", ["a"]), _query("q2", ["a"])
    model = TableCosts({"q1": 100.0, "q2": 100.0},
                       {("q1", a): 0.5, ("q1", ab): 0.5, ("q2", a): 0.9, ("q2", ab): 0.1})
    sel = greedy([q1, q2], [a, ab], {a: 100, ab: 150}, model, Limits(None, None, 0.0))
    assert sel.chosen == (ab,)


def test_write_cost_can_veto_an_index() -> None:
    a = Candidate(T, ("a",))
    model = TableCosts({"q": 100.0}, {("q", a): 0.1})
    sel = greedy([_query("q", ["a"])], [a], {a: 10}, model,
                 Limits(None, None, 0.0, write_cost={a: 500.0}))
    assert sel.chosen == () and a in sel.rejected_write


class Counted(TableCosts):
    """TableCosts that counts what it is asked (a what-if EXPLAIN each, for a real model)."""

    def __init__(self, base: dict[str, float], factors: dict[tuple[str, Candidate], float]):
        super().__init__(base, factors)
        self.calls: set[tuple[str, frozenset[Candidate]]] = set()

    def cost(self, query: CostedQuery, config: Iterable[Candidate]) -> Cost:
        self.calls.add((query.key, frozenset(config)))
        return super().cost(query, config)


def test_floors_leave_moves_that_cannot_win_uncosted() -> None:
    """One index halves the only costly query; the others can gain at most a little (their
    floors say so): the first round costs the winner and stops, where the unbounded search
    costs every move."""
    cols = [(c,) for c in "abcdefgh"]
    cands = [Candidate(T, c) for c in cols]
    queries = [_query("big", ["a"])] + [_query(f"small{c}", [c]) for c in "bcdefgh"]
    base = {"big": 1000.0} | {f"small{c}": 10.0 for c in "bcdefgh"}
    factors = {("big", cands[0]): 0.5} | {(f"small{c}", cand): 0.9
                                            for c, cand in zip("bcdefgh", cands[1:], strict=True)}
    sizes = {c: 100 for c in cands}
    limits = Limits(None, 1, 0.0)
    plain, bounded = Counted(base, factors), Counted(base, factors)
    floor = {q.key: plain.cost(q, cands).cost for q in queries}
    plain.calls.clear()
    sel = greedy(queries, cands, sizes, plain, limits, SearchSpace.build(queries, cands))
    sel_bounded = greedy(queries, cands, sizes, bounded, limits,
                         SearchSpace.build(queries, cands, floor=floor))
    assert sel.chosen == sel_bounded.chosen == (cands[0],)
    assert len(bounded.calls) < len(plain.calls)


U = TableName("public", "u")
SWAP_CANDS = [Candidate(t, (c,)) for t in (T, U) for c in ("a", "b", "c")]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([T, U]), st.sets(st.sampled_from("abc"), min_size=1),
                       st.floats(1, 1e4), st.integers(1, 5)), min_size=1, max_size=6),
    st.dictionaries(st.tuples(st.integers(0, 5), st.sampled_from(SWAP_CANDS)),
                    st.floats(0.05, 1.0), max_size=20),
    st.lists(st.sampled_from(SWAP_CANDS), min_size=1, max_size=3, unique=True),
)
def test_a_swap_is_the_best_pair(spec, factor_spec, chosen_spec) -> None:
    """The swap taken is the best (out, in) pair by the workload's cost: pairs whose indexes
    share no query are priced from one index's loss and the other's gain, the rest query by
    query, and both agree with costing every pair's configuration in full."""
    from indexadvisor.selection.refine import Tally, swap

    queries, base, factors = [], {}, {}
    for n, (table, cols, cost, calls) in enumerate(spec):
        q = Query(f"q{n}", f"q{n}", (table.name,), calls, None, ())
        queries.append(CostedQuery(q, q.fingerprint, 0, None, frozenset((table, c) for c in cols)))
        base[q.fingerprint] = cost
    for (n, cand), factor in factor_spec.items():
        if n < len(queries) and cand.lead in queries[n].leading:
            factors[(queries[n].key, cand)] = factor
    model = TableCosts(base, factors)
    affects = {c: [q for q in queries if c.lead in q.leading] for c in SWAP_CANDS}
    chosen = list(chosen_spec)
    pool = [c for c in SWAP_CANDS if c not in chosen]
    sizes = {c: 1 for c in SWAP_CANDS}
    now = {q.key: model.cost(q, chosen).cost for q in queries}
    total = sum(q.weight * now[q.key] for q in queries)

    def workload(config: list[Candidate]) -> float:
        return sum(q.weight * model.cost(q, config).cost for q in queries)

    deltas = {(out, inn): total - workload([inn if c == out else c for c in chosen])
              for out in chosen for inn in pool}
    steps = swap(list(chosen), pool, sizes, model, affects, {}, Limits(None, None, 0.0),
                 Tally(queries, model, now), lambda: False)
    best = max(deltas.values())
    if best <= 1e-9 * total:
        assert not steps or steps[0].gain <= 1e-6 * total
    else:
        first = steps[0]
        assert first.replaced is not None
        assert abs(first.gain - deltas[first.replaced, first.added]) <= 1e-6 * total
        assert first.gain >= best - 1e-6 * total
