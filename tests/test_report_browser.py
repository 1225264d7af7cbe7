"""The HTML report as a person sees it: headless Chromium opens it from file:// with the network
off, and the tests read what is on screen, click, filter, sort, take a screenshot, and prove
that hostile workload text is shown as text and runs nothing."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from indexadvisor import AdvisorConfig, advise, connect, load_workload
from indexadvisor.model import Advice
from indexadvisor.report import load_advice, render_html
from indexadvisor.report.facts import ReportOptions
from indexadvisor.report.html_assets import content_security_policy
from indexadvisor.sql.mask import mask_advice

from .browser import CHROMIUM, Browser
from .conftest import run_sql
from .test_reports import SAVED, many_queries

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                 "(Debian: apt-get install chromium)")]

# Every payload sets window.__pwned (and the first the title): a script that ran is seen.
TABLE = "<img src=x onerror=\"window.__pwned=1;document.title='PWNED'\">"
COMMENT = "</script><script>window.__pwned=2</script>"
MISSING = "</script><script>window.__pwned=3</script>"
LITERAL = "<img src=y onerror=window.__pwned=4>"
SCHEMA = f"""
CREATE TABLE "{TABLE.replace('"', '""')}" (id int, v int, note text);
INSERT INTO "{TABLE.replace('"', '""')}" SELECT g, g % 5000, 'n' || g
  FROM generate_series(1, 100000) g;
VACUUM ANALYZE "{TABLE.replace('"', '""')}";
"""
WORKLOAD = f"""
-- calls: 500
SELECT id, note /* {COMMENT} */ FROM "{TABLE.replace('"', '""')}"
 WHERE v = 42 AND note <> '{LITERAL}';
SELECT 1 FROM "{MISSING}" WHERE x = 1;
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser(1280, 900) as b:
        yield b


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("html") / "demo.html"
    page.write_text(render_html(mask_advice(load_advice(SAVED)),
                                ReportOptions(literals_masked=True)), encoding="utf-8")
    return page


def _clean_load(browser: Browser, page: Path) -> None:
    browser.goto(page)
    assert browser.eval("window.indexadvisorReady") is True  # our script ran: CSP hash right
    assert browser.requests() == [page.resolve().as_uri()]  # nothing else was fetched
    assert browser.complaints() == []  # no CSP violation, no script error


def test_the_demo_report_shows_its_parts(browser: Browser, demo_page: Path,
                                         tmp_path: Path) -> None:
    _clean_load(browser, demo_page)
    text = browser.eval("document.body.innerText")
    for seen in ("Index advice: 12 new indexes", "Recommended indexes", "Cost against storage",
                 "Validation by real execution", "public.orders(customer_id, created_at)",
                 "Existing indexes to drop", "33 rows"):
        assert seen in text, seen
    chart = browser.eval("document.querySelector('svg.chart').textContent")
    assert "budget 61.0 MiB" in chart and "knee:" in chart and "chosen:" in chart
    assert browser.eval("document.querySelectorAll('svg.chart g.point').length") >= 10
    # a query row opens to its plan diff, with a changed access path on screen
    browser.mouse_click("#qs > details.row > summary")
    changed = browser.eval("""Array.from(document.querySelectorAll(
        '#qs > details[open] li.n.changed > .what')).filter(n => n.offsetParent !== null)
        .map(n => n.innerText)""")
    assert any(c.startswith("Seq Scan on orders → Index Only Scan using") for c in changed)
    browser.screenshot(tmp_path / "demo.png")
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # printable: the print style sheet hides the controls, the PDF has pages
    pdf = browser.call("Page.printToPDF", session=True, printBackground=False)["data"]
    assert base64.b64decode(pdf)[:5] == b"%PDF-"


def test_filter_and_sort(browser: Browser, demo_page: Path) -> None:
    _clean_load(browser, demo_page)
    browser.eval("""(() => { const box = document.querySelector('[data-filter="qs"]');
        box.value = 'payments'; box.dispatchEvent(new Event('input')); })()""")
    count = browser.eval("document.querySelector('[data-count=\"qs\"]').textContent")
    assert count.endswith("of 33") and not count.startswith("33")
    browser.mouse_click('#qs button[data-sort="calls"]')
    calls = browser.eval("""Array.from(document.querySelectorAll('#qs > details.row'))
        .map(r => Number(r.getAttribute('data-calls')))""")
    assert calls == sorted(calls, reverse=True)


def test_500_queries_open(browser: Browser, tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    page.write_text(render_html(many_queries(load_advice(SAVED), 500)), encoding="utf-8")
    _clean_load(browser, page)
    assert browser.eval("document.querySelectorAll('#qs > details.row').length") >= 500


def _hostile_advice(dsn: str, tmp_path: Path) -> Advice:
    run_sql(dsn, SCHEMA)
    source = tmp_path / "hostile.sql"
    source.write_text(WORKLOAD)
    with connect(dsn) as conn:
        return advise(load_workload([str(source)]), conn, AdvisorConfig())


def test_hostile_workload_text_is_shown_as_text(browser: Browser, fresh_db: str,
                                                tmp_path: Path) -> None:
    advice = _hostile_advice(fresh_db, tmp_path)
    assert advice.recommendations  # the hostile table got an index: its name is everywhere
    for name, shown in (("literal.html", advice), ("masked.html", mask_advice(advice))):
        page = tmp_path / name
        page.write_text(render_html(shown), encoding="utf-8")
        browser.goto(page)
        assert browser.eval("typeof window.__pwned") == "undefined", name
        assert browser.eval("document.title").startswith("Index advice"), name
        assert browser.eval("document.images.length") == 0, name
        assert browser.eval("document.scripts.length") == 1, name
        text = browser.eval("document.body.textContent")
        assert TABLE in text and MISSING in text and COMMENT in text, name
        assert (LITERAL in text) is (name == "literal.html")
        assert browser.complaints() == [], name


def test_the_detector_and_the_policy_work(browser: Browser, tmp_path: Path) -> None:
    """Positive controls: unescaped, the payload runs on a page without our policy (so the
    checks above can see a script that ran), and our policy blocks it even unescaped."""
    bare = tmp_path / "bare.html"
    bare.write_text(f"<!doctype html><title>t</title><p>{TABLE}</p>")
    browser.goto(bare)
    assert browser.eval("window.__pwned") == 1
    guarded = tmp_path / "guarded.html"
    guarded.write_text(f'<!doctype html><meta http-equiv="Content-Security-Policy" '
                       f'content="{html.escape(content_security_policy())}"><title>t</title>'
                       f"<p>{TABLE}</p><script>window.__pwned=5</script>")
    browser.goto(guarded)
    assert browser.eval("typeof window.__pwned") == "undefined"
    assert any("Content Security Policy" in c for c in browser.complaints())
