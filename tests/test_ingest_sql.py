"""Splitting .sql files and grouping statements (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexadvisor.ingest.collect import collect
from indexadvisor.ingest.sql_files import read_sql_paths, split_sql
from indexadvisor.model import Skipped, Statement
from indexadvisor.model.errors import SourceError
from indexadvisor.sql.parse import parse_statement


def test_split_keeps_sources_weights_and_tricky_literals() -> None:
    text = (
        "-- calls: 5\nSELECT ';' AS semi FROM t;\n"
        "/* block */ SELECT $$a;b$$;\n"
        "-- indexadvisor: calls=12\nSELECT 1\n"
    )
    got = split_sql(text, "f.sql")
    assert got == [
        Statement("SELECT ';' AS semi FROM t", "f.sql:2", calls=5),
        Statement("SELECT $$a;b$$", "f.sql:3"),
        Statement("SELECT 1", "f.sql:5", calls=12),
    ]


def test_unterminated_literal_is_skipped_and_earlier_statements_kept() -> None:
    got = split_sql("SELECT 1;\nSELECT 2;\nSELECT 'oops;\nSELECT 3", "f.sql")
    assert [s.text for s in got if isinstance(s, Statement)] == ["SELECT 1", "SELECT 2"]
    (skipped,) = [s for s in got if isinstance(s, Skipped)]
    assert skipped.source == "f.sql:3" and "unterminated" in skipped.reason
    assert skipped.text.startswith("SELECT 'oops")


def test_files_directories_and_bad_files(tmp_path: Path) -> None:
    (tmp_path / "b.sql").write_text("SELECT 2;")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.sql").write_text("SELECT 1;")
    (tmp_path / "bin.sql").write_bytes(b"\x00\x01\x02garbage")
    (tmp_path / "latin.sql").write_bytes(b"SELECT 'caf\xe9';")
    items = list(read_sql_paths([tmp_path]))
    texts = [i.text for i in items if isinstance(i, Statement)]
    assert "SELECT 2" in texts and "SELECT 1" in texts
    reasons = [i.reason for i in items if isinstance(i, Skipped)]
    assert any("binary" in r for r in reasons) and any("UTF-8" in r for r in reasons)
    with pytest.raises(SourceError, match="no such file"):
        list(read_sql_paths([tmp_path / "nope.sql"]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match=r"no \.sql files"):
        list(read_sql_paths([tmp_path / "empty"]))


def test_different_tables_never_merge_same_shape_does() -> None:
    a = "SELECT * FROM orders o WHERE o.id = 1"
    b = "SELECT * FROM invoices o WHERE o.id = 1"
    assert parse_statement(a).fingerprint == parse_statement(b).fingerprint  # the trap
    workload = collect([
        Statement(a, "x:1", calls=2),
        Statement(b, "x:2", calls=3),
        Statement("SELECT * FROM orders o WHERE o.id = 42", "x:3", calls=5),
        Statement("SELECT * FROM app.orders o WHERE o.id = 1", "x:4"),
    ])
    by_rel = {q.relations: q for q in workload.queries}
    assert by_rel[("orders",)].calls == 7
    assert len(by_rel[("orders",)].samples) == 2
    assert by_rel[("invoices",)].calls == 3
    assert ("app.orders",) in by_rel
    assert len({q.fingerprint for q in workload.queries}) == 3


def test_collect_reports_unparseable_and_utility() -> None:
    workload = collect([Statement("SELEC 1", "f:1"), Statement("SET x = 1", "f:2"),
                        Skipped("f:3", "cannot be scanned", "'")])
    assert workload.statements == 2 and not workload.queries
    assert [s.source for s in workload.skipped] == ["f:1", "f:2", "f:3"]
    assert "syntax error" in workload.skipped[0].reason


_ident = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_literal = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                          blacklist_characters="\x00"), max_size=12)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_ident, _ident, _literal, st.integers(1, 10**6)),
                min_size=1, max_size=8))
def test_split_never_loses_a_statement(parts: list[tuple[str, str, str, int]]) -> None:
    statements = []
    for table, col, literal, calls in parts:
        quoted = "'" + literal.replace("'", "''") + "'"
        statements.append((f'SELECT * FROM "{table}" WHERE "{col}" = {quoted}', calls))
    script = "\n".join(f"-- calls: {calls}\n{text};" for text, calls in statements)
    got = split_sql(script, "p.sql")
    assert [(s.text, s.calls) for s in got if isinstance(s, Statement)] == statements


def test_param_count_sees_values_lists() -> None:
    parsed = parse_statement("INSERT INTO t (a, b) VALUES ($1, $2), ($3, (SELECT max(x) FROM u))")
    assert parsed.param_count == 3 and parsed.relations == ("t", "u")
