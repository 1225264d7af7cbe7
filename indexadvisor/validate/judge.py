"""Judging measurements (pure): which estimates were wrong, which statements regressed, and which
index to blame for a regression.

>>> from indexadvisor.model import Measurement, ValidationSettings
>>> s = ValidationSettings(tolerance=0.1, min_ms=1.0)
>>> flags, regressed = judge(Measurement((100.0,)), Measurement((150.0,)), 200.0, 20.0,
...                          ("t(a)",), ("t(a)",), s, 0.05)
>>> flags, regressed
(('slower',), True)
>>> judge(Measurement((0.2,)), Measurement((0.5,)), 10.0, 1.0, ("t(a)",), ("t(a)",), s, 0.05)
(('not faster',), False)
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ..model import Candidate, Flag, Measurement, Plan, ValidationSettings


def judge(before: Measurement, after: Measurement, estimated_before: float | None,
          estimated_after: float | None, expected: Sequence[str], used: Sequence[str],
          settings: ValidationSettings, min_improvement: float) -> tuple[tuple[str, ...], bool]:
    """The flags of one statement's check, and whether it regressed beyond the tolerance.

    Slower means: the best measured run with the indexes is more than `tolerance` slower than
    the best without, and by more than `min_ms` (a 0.2 ms statement varies by more than 10%
    from run to run); or it timed out with them and finished without. The best run, because
    noise on a shared machine only ever adds time.
    """
    flags: list[str] = []
    if any(label not in used for label in expected):
        flags.append(Flag.NOT_USED)
    if before.timed_out or after.timed_out:
        flags.append(Flag.TIMEOUT)
    if before.error is not None or after.error is not None:
        flags.append(Flag.NOT_MEASURED)
    regressed = False
    b, a = before.best_ms, after.best_ms
    if after.timed_out and before.finished:
        regressed = True
    elif b is not None and a is not None:
        regressed = a > b * (1 + settings.tolerance) and a - b > settings.min_ms
        promised = (estimated_before is not None and estimated_after is not None
                    and estimated_before > 0
                    and estimated_after <= estimated_before * (1 - min_improvement))
        if not regressed and promised and a >= b:
            flags.append(Flag.NOT_FASTER)
    if regressed:
        flags.append(Flag.SLOWER)
    return tuple(flags), regressed


def culprit(plan: Plan | None, used: Collection[Candidate],
            names: Mapping[str, Candidate]) -> Candidate | None:
    """The new index to blame for a regression: of those the measured plan reads, the one
    whose scans took the most time (inclusive time per loop times loops), else the first.

    >>> from indexadvisor.model import PlanNode, TableName, Actual
    >>> t = TableName("public", "t")
    >>> a, b = Candidate(t, ("a",)), Candidate(t, ("b",))
    >>> scan = lambda name, ms: PlanNode("Index Scan", 0, 1, 1, 4, relation="t",
    ...                                  index_name=name, actual=Actual(0, ms, 1, 10))
    >>> plan = Plan(PlanNode("Nested Loop", 0, 9, 1, 4, children=(scan("t_a", 1.0),
    ...                                                           scan("t_b", 5.0))))
    >>> culprit(plan, [a, b], {"t_a": a, "t_b": b}) == b
    True
    """
    if not used:
        return None
    spent: dict[Candidate, float] = dict.fromkeys(used, 0.0)
    if plan is not None:
        for node in plan.root.walk():
            cand = names.get(node.index_name or "")
            if cand in spent and node.actual is not None:
                spent[cand] += node.actual.total_ms * max(node.actual.loops, 1.0)
    return max(sorted(spent), key=lambda c: spent[c])


def describe_change(before: Measurement, after: Measurement) -> str:
    """Measured before -> after, as a reason says it.

    >>> describe_change(Measurement((612.0,)), Measurement((1345.0,)))
    'measured 612 ms -> 1,345 ms (+120%)'
    >>> describe_change(Measurement((612.0,)), Measurement((), timed_out=True))
    'measured 612 ms -> timed out'
    """
    def ms(m: Measurement) -> str:
        if m.timed_out:
            return "timed out"
        best = m.best_ms
        return "not measured" if best is None else f"{best:,.{0 if best >= 10 else 2}f} ms"

    text = f"measured {ms(before)} -> {ms(after)}"
    b, a = before.best_ms, after.best_ms
    if b and a is not None:
        text += f" ({100 * (a - b) / b:+.0f}%)"
    return text
