"""HTML, Markdown and DDL reports from values alone (a saved demo run, validated): content,
size limits, escaping of hostile workload text, the node-level plan diff, the JSON Schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.model import Advice, PlanNode, Query, QueryResult, TableName
from indexadvisor.report import (
    advice_to_dict,
    load_advice,
    render_ddl,
    render_html,
    render_json,
    render_markdown,
)
from indexadvisor.report.markdown import LIMIT
from indexadvisor.report.plandiff import diff_nodes
from indexadvisor.sql.mask import mask_advice

GOLDEN = Path(__file__).parent / "golden" / "advice"
SAVED = GOLDEN / "demo.json"  # `indexadvisor demo`, validated in its sandbox
SCHEMA = Path(__file__).parent.parent / "docs" / "advice.schema.json"
HOSTILE = ('</script><script>window.__pwned=1</script>'
           '<img src=x onerror="window.__pwned=2;document.title=\'PWNED\'">')


def many_queries(advice: Advice, n: int) -> Advice:
    """The advice with `n` queries: the demo's, repeated with distinct fingerprints."""
    results = []
    for i in range(n):
        r = advice.results[i % len(advice.results)]
        q = replace(r.query, fingerprint=f"{r.query.fingerprint}-{i}",
                    text=f"{r.query.text} /* copy {i} */")
        results.append(replace(r, query=q))
    workload = replace(advice.workload, queries=tuple(r.query for r in results))
    return replace(advice, results=tuple(results), workload=workload)


def hostile(advice: Advice) -> Advice:
    """The advice with hostile text in query texts, a table name, reasons and skipped text."""
    bad_table = TableName("public", HOSTILE)
    results = tuple(replace(r, reason=r.reason + " " + HOSTILE,
                            query=replace(r.query, text=r.query.text + " -- " + HOSTILE))
                    for r in advice.results)
    recs = tuple(replace(rec, candidate=replace(rec.candidate, table=bad_table),
                         ddl=rec.ddl + " -- " + HOSTILE) for rec in advice.recommendations)
    skipped = tuple(replace(s, text=HOSTILE, detail=HOSTILE) for s in advice.workload.skipped)
    workload = replace(advice.workload, queries=tuple(r.query for r in results),
                       skipped=skipped)
    return replace(advice, results=results, recommendations=recs, workload=workload,
                   selection_stop=HOSTILE, server_version=HOSTILE)


@pytest.fixture(scope="module")
def saved() -> Advice:
    return load_advice(SAVED)


def test_html_has_every_part_and_nothing_from_outside(saved: Advice) -> None:
    page = render_html(saved)
    for part in ('id="summary"', 'id="curve"', "<svg", 'id="recommendations"',
                 'id="validation"', 'id="drops"', 'id="queries"', "knee:", "budget 61.0 MiB",
                 "CREATE INDEX CONCURRENTLY", "Index Only Scan using", "Runners-up"):
        assert part in page, part
    assert len(re.findall(r"<script\b", page)) == 1 and len(re.findall(r"<style\b", page)) == 1
    # no network reference at all: no URL, no resource attribute, no CSS import or url()
    assert not re.search(r"https?:|//[a-z]|\bsrc=|@import|url\(|<link\b|<iframe\b", page, re.I)
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))
    assert "default-src 'none'" in page and "'unsafe-inline'" not in page


def test_html_of_500_queries_renders_and_stays_small(saved: Advice) -> None:
    page = render_html(many_queries(saved, 500))
    assert page.count('<details class="row" data-outcome=') >= 500
    assert len(page) < 8_000_000  # about 9 KB a query with both plans and their diff


def test_hostile_text_is_escaped_everywhere(saved: Advice) -> None:
    bad = hostile(saved)
    page = render_html(bad)
    body = page.split("<script>")[0] + page.split("</script>")[-1]
    assert "<img" not in page and "</script><script>window" not in page
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=1" in body
    md = render_markdown(bad)
    # code blocks are shown as text by any Markdown renderer; outside them nothing is raw
    prose = re.sub(r"^(`{3,})[a-z]*\n.*?^\1$", "", md, flags=re.S | re.M)
    assert "```" not in prose and "<img" not in prose and "</script>" not in prose
    assert "&lt;img src=x onerror=" in md
    assert "window\\.\\_\\_pwned" in md  # Markdown punctuation escaped too
    sql = render_ddl(bad)  # a comment line may hold it, but it cannot end the comment
    assert all(line.startswith("--") or HOSTILE not in line.split("--")[0]
               for line in sql.splitlines())


def test_markdown_fits_a_pull_request_comment(saved: Advice) -> None:
    small = render_markdown(saved)
    assert "## Index advice: 12 new indexes" in small
    assert "<details><summary>DDL for all 12, in order</summary>" in small
    assert "### Validation by real execution" in small and "```diff" in small
    big = render_markdown(many_queries(saved, 500))
    assert len(big) <= LIMIT
    assert "more queries in the HTML report" in big
    assert big.count("<details>") == big.count("</details>")


def test_literals_are_masked_in_shared_documents(saved: Advice) -> None:
    masked = mask_advice(saved)
    texts = [r.query.text for r in masked.results]
    assert any("LIMIT ?" in t for t in texts)
    assert not any("'pending'" in t for t in texts)
    assert all(not s.params for r in masked.results for s in r.query.samples)
    conds = [v for r in masked.results if r.plan_before
             for n in r.plan_before.root.walk() for k, v in n.details if k == "Filter"]
    assert conds and not any(re.search(r"'[^']*'", c) for c in conds)
    # the DDL keeps its predicate: it is what to build
    assert any("WHERE status = 'pending'" in r.ddl for r in masked.recommendations)


def test_ddl_file_orders_creates_before_drops(saved: Advice) -> None:
    text = render_ddl(saved)
    creates = [i for i, line in enumerate(text.splitlines()) if line.startswith("CREATE")]
    drops = [i for i, line in enumerate(text.splitlines()) if line.startswith("DROP")]
    assert len(creates) >= len(saved.recommendations) and drops
    assert max(creates) < min(drops)
    assert "psql -v ON_ERROR_STOP=1" in text


def test_the_json_schema_holds_for_saved_runs(saved: Advice) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    validator.check_schema(validator.schema)
    for doc in (json.loads(SAVED.read_text()), advice_to_dict(hostile(saved)),
                advice_to_dict(replace(saved, validation=None))):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, [f"{e.json_path}: {e.message[:120]}" for e in errors[:5]]
    broken = json.loads(SAVED.read_text())
    broken["recommendations"][0]["size_bytes"] = "big"
    assert list(validator.iter_errors(broken))


def test_report_command_renders_each_format(tmp_path: Path) -> None:
    for suffix, marker in ((".html", "<!doctype html>"), (".md", "## Index advice"),
                           (".sql", "CREATE INDEX CONCURRENTLY")):
        out = tmp_path / f"again{suffix}"
        done = subprocess.run([sys.executable, "-m", "indexadvisor", "report", str(SAVED),
                               "-o", str(out)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert out.read_text(encoding="utf-8").startswith(marker) or \
            marker in out.read_text(encoding="utf-8")
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    done = subprocess.run([sys.executable, "-m", "indexadvisor", "report", str(SAVED),
                           "--format", "json", "--step-summary"], capture_output=True,
                          text=True, timeout=60,
                          env={"GITHUB_STEP_SUMMARY": str(summary), "PATH": "/usr/bin"})
    assert done.returncode == 0, done.stderr
    assert summary.read_text().startswith("earlier step\n## Index advice")
    assert json.loads(done.stdout)["schema_version"] == 2
    assert render_json(load_advice(SAVED)) == SAVED.read_text()


# -- the plan diff ---------------------------------------------------------------------------

_TYPES = ("Seq Scan", "Index Scan", "Sort", "Hash Join", "Nested Loop", "Limit", "Hash")
_RELS = ("orders", "customers", "items")


@st.composite
def plans(draw: st.DrawFn, depth: int = 0) -> PlanNode:
    kind = draw(st.sampled_from(_TYPES))
    scan = kind.endswith("Scan")
    kids = () if scan or depth > 2 else tuple(
        draw(st.lists(plans(depth + 1), min_size=1, max_size=2)))
    return PlanNode(kind, 0.0, draw(st.floats(1, 1e6)), draw(st.floats(1, 1e5)), 8,
                    relation=draw(st.sampled_from(_RELS)) if scan else None,
                    index_name="x_idx" if kind == "Index Scan" else None, children=kids)


@settings(max_examples=200, deadline=None)
@given(plans(), plans())
def test_the_diff_shows_every_node_of_both_plans_once(before: PlanNode,
                                                      after: PlanNode) -> None:
    diff = diff_nodes(before, after)
    shown_before = [d.before for d in diff.walk() if d.before is not None]
    shown_after = [d.after for d in diff.walk() if d.after is not None]
    assert sorted(map(id, shown_before)) == sorted(map(id, before.walk()))
    assert sorted(map(id, shown_after)) == sorted(map(id, after.walk()))
    assert all((d.before is None) == (d.status == "added") for d in diff.walk())


def test_an_unchanged_plan_diffs_as_same() -> None:
    scan = PlanNode("Seq Scan", 0, 10, 5, 8, relation="t")
    root = PlanNode("Sort", 10, 12, 5, 8, children=(scan,))
    assert {d.status for d in diff_nodes(root, root).walk()} == {"same"}


def test_a_query_result_without_plans_renders(saved: Advice) -> None:
    bare = QueryResult(Query("f", "SELECT 1", (), 1, None, ()), saved.results[0].outcome, "r")
    page = render_html(replace(saved, results=(bare,), validation=None))
    assert "SELECT 1" in page
