"""Properties of the gate's pure parts: baselines round-trip and render deterministically,
GitHub escaping is undone by the runner's unescaping, locations round-trip."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from indexadvisor.model.baseline import (
    Baseline,
    BaselineEntry,
    baseline_from_dict,
    render_baseline,
)
from indexadvisor.model.gate import Acceptance, Location
from indexadvisor.model.shape import PlanShape, ShapeNode
from indexadvisor.report.gate.github import escape_data, escape_property

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                max_size=12)
floats = st.floats(min_value=0, max_value=1e9, allow_nan=False)
nodes = st.builds(ShapeNode, st.integers(0, 5), st.sampled_from(["Seq Scan", "Index Scan",
                                                                    "Hash Join", "Sort"]),
                  st.none() | names, st.none() | names, floats, st.integers(0, 2000),
                  st.none() | st.sampled_from(["Hashed", "Sorted"]))
shapes = st.builds(PlanShape, st.lists(nodes, max_size=6).map(tuple), floats, floats)
entries = st.builds(BaselineEntry, names, names, names, st.integers(1, 10**6),
                    st.none() | shapes, st.lists(st.none() | names, max_size=3).map(tuple),
                    st.none() | names)


def _unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


@given(st.lists(entries, max_size=5, unique_by=lambda e: e.key),
       st.lists(st.tuples(names, names), max_size=3, unique_by=lambda t: t[0]))
def test_baseline_round_trips_and_renders_sorted(items: list[BaselineEntry],
                                                 settings: list[tuple[str, str]]) -> None:
    ok = [BaselineEntry(e.key, e.source, e.text, e.calls, e.plan, e.params,
                        None if e.plan is not None else e.error) for e in items]
    base = Baseline("15.8", 150008, tuple(sorted(settings)), tuple(sorted(ok, key=lambda e: e.key)),
                    (Acceptance("known", "k", "IA101"),))
    text = render_baseline(base)
    assert render_baseline(baseline_from_dict(json.loads(text))) == text
    again = baseline_from_dict(json.loads(text))
    assert {e.key: e.plan for e in again.entries} == {e.key: e.plan for e in ok}
    reordered = Baseline(base.server_version, base.server_version_num, base.settings,
                         tuple(reversed(base.entries)), base.accepted)
    assert render_baseline(reordered) == text


@given(st.text())
def test_github_escaping_is_undone_by_the_runner(text: str) -> None:
    data, prop = escape_data(text), escape_property(text)
    assert "\n" not in data and "\r" not in data
    assert ":" not in prop and "," not in prop
    assert _unescape_data(data) == text
    assert _unescape_property(prop) == text


@given(names, st.none() | st.integers(1, 10**6))
def test_locations_round_trip(file: str, line: int | None) -> None:
    loc = Location(file, line)
    if line is not None or not file.rstrip("0123456789").endswith(":"):
        assert Location.parse(str(loc)) == loc
