"""pg_stat_statements: read live from a real server started with the library preloaded, and
from CSV / JSON exports that server wrote; column discovery across extension versions.

Golden exports live in tests/golden/pgss as `name.csv|json|jsonl` + `name.expected.json`.
Rewrite the expected files with INDEXADVISOR_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from dataclasses import fields as dataclass_fields
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql
from psycopg.conninfo import make_conninfo

from indexadvisor.db.sandbox import LocalSandbox
from indexadvisor.ingest.collect import collect
from indexadvisor.ingest.pg_stat_statements import (
    discover_columns,
    looks_like_pgss_export,
    read_pgss_export,
    read_pgss_live,
)
from indexadvisor.model import Outcome, Skipped, Statement
from indexadvisor.model.errors import ExtensionMissing, SourceError

GOLDEN = Path(__file__).parent / "golden" / "pgss"

WORKLOAD = [
    ("SELECT * FROM orders WHERE customer_id = %s", [(i % 7,) for i in range(20)]),
    ("SELECT count(*) FROM orders WHERE status = %s AND created_at > now() - interval '1 day'",
     [("new",), ("paid",), ("new",)]),
    ("UPDATE orders SET status = %s WHERE id = %s", [("paid", i) for i in range(1, 6)]),
]


@pytest.fixture(scope="module")
def pgss() -> Iterator[LocalSandbox]:
    """A server with pg_stat_statements preloaded, the extension created, a workload run.

    Database ``shop`` holds the workload (as role ``app``); ``other`` holds one query that
    must not show up unless all databases are asked for.
    """
    settings_ = {"shared_preload_libraries": "pg_stat_statements",
                 "pg_stat_statements.track_utility": True}
    with LocalSandbox.start(settings_) as sandbox:
        with psycopg.connect(sandbox.dsn, autocommit=True) as admin:
            admin.execute("CREATE ROLE app LOGIN")
            admin.execute("CREATE ROLE viewer LOGIN")
            admin.execute("CREATE DATABASE shop OWNER app")
            admin.execute("CREATE DATABASE other")
        with psycopg.connect(db(sandbox, "shop"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        with psycopg.connect(db(sandbox, "shop", user="app"), autocommit=True) as app:
            app.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text,"
                        " created_at timestamptz DEFAULT now())")
            app.execute("INSERT INTO orders (id, customer_id, status)"
                        " SELECT g, g % 100, 'new' FROM generate_series(1, 5000) g")
            for text, params in WORKLOAD:
                for p in params:
                    app.execute(text, p, prepare=False)
            app.execute("VACUUM orders")
        with psycopg.connect(db(sandbox, "other"), autocommit=True) as conn:
            conn.execute("SELECT 42 AS only_in_other")
        yield sandbox


def db(sandbox: LocalSandbox, name: str, user: str = "postgres") -> str:
    return make_conninfo(sandbox.dsn, dbname=name, user=user)


def workload_rows(items: list[Statement | Skipped]) -> dict[str, Statement]:
    return {i.text: i for i in items if isinstance(i, Statement) and "orders" in i.text
            and not i.text.startswith(("CREATE", "INSERT"))}


# --- live -------------------------------------------------------------------------------------


def test_live_reads_the_workload_with_counts_times_users_and_blocks(pgss: LocalSandbox) -> None:
    items = list(read_pgss_live(db(pgss, "shop")))
    rows = workload_rows(items)
    by_calls = {s.calls: s for s in rows.values()}
    assert set(by_calls) == {20, 3, 5}
    select = by_calls[20]
    assert select.text == "SELECT * FROM orders WHERE customer_id = $1"
    assert select.user == "app" and select.database == "shop"
    assert select.queryid is not None and select.source == f"pg_stat_statements:{select.queryid}"
    assert select.total_time_ms is not None and select.total_time_ms > 0
    assert select.max_time_ms is not None and 0 < select.max_time_ms <= select.total_time_ms
    assert select.rows == 20 * 50  # each customer_id has 50 rows
    assert (select.shared_blks_hit or 0) + (select.shared_blks_read or 0) > 0
    update = by_calls[5]
    assert update.text == "UPDATE orders SET status = $1 WHERE id = $2" and update.rows == 5
    # Most expensive first, then the skipped ones; utility statements are skipped with a reason.
    statements = [i for i in items if isinstance(i, Statement)]
    times = [s.total_time_ms or 0 for s in statements]
    assert times == sorted(times, reverse=True)
    assert items.index(statements[-1]) < min(
        items.index(i) for i in items if isinstance(i, Skipped))
    vacuum = [i for i in items if isinstance(i, Skipped) and i.text == "VACUUM orders"]
    assert vacuum and vacuum[0].reason == "utility statement: nothing to index"
    assert vacuum[0].outcome is Outcome.NOT_ADVISED
    assert not any("only_in_other" in i.text for i in items)


def test_live_other_databases_min_calls_and_collect(pgss: LocalSandbox) -> None:
    everything = list(read_pgss_live(db(pgss, "shop"), all_databases=True))
    other = [i for i in everything if isinstance(i, Statement) and "only_in_other" in i.text]
    assert len(other) == 1 and other[0].database == "other" and other[0].user == "postgres"
    frequent = workload_rows(list(read_pgss_live(db(pgss, "shop"), min_calls=4)))
    assert sorted(s.calls for s in frequent.values()) == [5, 20]
    workload = collect(read_pgss_live(db(pgss, "shop"), min_calls=3))
    query = next(q for q in workload.queries if q.calls == 20)
    assert query.text == "SELECT * FROM orders WHERE customer_id = $1"
    assert query.total_time_ms is not None and query.total_time_ms > 0


def test_hidden_texts_are_skipped_until_pg_read_all_stats(pgss: LocalSandbox) -> None:
    viewer = db(pgss, "shop", user="viewer")
    hidden = [i for i in read_pgss_live(viewer)
              if isinstance(i, Skipped) and "not visible" in i.reason]
    assert hidden and all("pg_read_all_stats" in i.reason for i in hidden)
    assert not workload_rows(list(read_pgss_live(viewer)))
    with psycopg.connect(pgss.dsn, autocommit=True) as admin:
        admin.execute("GRANT pg_read_all_stats TO viewer")
    try:
        assert len(workload_rows(list(read_pgss_live(viewer)))) == 3
    finally:
        with psycopg.connect(pgss.dsn, autocommit=True) as admin:
            admin.execute("REVOKE pg_read_all_stats FROM viewer")


def test_live_read_is_read_only_and_guarded(pgss: LocalSandbox) -> None:
    list(read_pgss_live(db(pgss, "shop"), statement_timeout_ms=5000))
    with psycopg.connect(db(pgss, "shop"), autocommit=True) as conn:
        texts = {r[0] for r in conn.execute(
            "SELECT query FROM pg_stat_statements WHERE query ~ '^(SET|BEGIN)'")}
    assert {"SET statement_timeout = 5000", "SET lock_timeout = 1000", "BEGIN READ ONLY"} <= texts


def test_missing_extension_is_a_clean_error(pgss: LocalSandbox, fresh_db: str) -> None:
    with pytest.raises(ExtensionMissing, match="not created in database other") as info:
        list(read_pgss_live(db(pgss, "other")))
    assert info.value.hint == "run CREATE EXTENSION pg_stat_statements in this database"
    # The session server does not preload the library: created, but it cannot be read.
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
    with pytest.raises(ExtensionMissing, match="shared_preload_libraries") as info:
        list(read_pgss_live(fresh_db))
    assert "shared_preload_libraries" in (info.value.hint or "")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DROP EXTENSION pg_stat_statements")
    with pytest.raises(ExtensionMissing, match=r"not in shared_preload_libraries"):
        list(read_pgss_live(fresh_db))


OLD_VIEW = """
CREATE SCHEMA IF NOT EXISTS old;
CREATE OR REPLACE VIEW old.pgss_1_7 AS
  SELECT userid, dbid, queryid, query, calls,
         total_exec_time AS total_time, min_exec_time AS min_time, max_exec_time AS max_time,
         mean_exec_time AS mean_time, rows, shared_blks_hit, shared_blks_read
    FROM public.pg_stat_statements;
CREATE OR REPLACE VIEW old.pgss_1_11 AS
  SELECT *, timestamptz '2025-01-02 03:04:05+00' AS stats_since FROM public.pg_stat_statements;
CREATE TABLE IF NOT EXISTS old.snapshot AS
  SELECT d.datname, r.rolname, s.query, s.calls, s.total_exec_time
    FROM public.pg_stat_statements s
    JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid;
"""


def test_columns_are_discovered_from_the_catalog(pgss: LocalSandbox) -> None:
    shop = db(pgss, "shop")
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute(OLD_VIEW)
    current = workload_rows(list(read_pgss_live(shop)))
    old = workload_rows(list(read_pgss_live(shop, relation="old.pgss_1_7")))
    assert {t: (s.calls, s.queryid, s.rows, s.user) for t, s in old.items()} == {
        t: (s.calls, s.queryid, s.rows, s.user) for t, s in current.items()}
    for text, s in old.items():
        assert s.source == f"old.pgss_1_7:{s.queryid}"
        assert s.max_time_ms == current[text].max_time_ms
        assert s.total_time_ms == pytest.approx(current[text].total_time_ms)
    new = workload_rows(list(read_pgss_live(shop, relation="old.pgss_1_11")))
    assert {s.first_seen for s in new.values()} == {"2025-01-02 03:04:05+00:00"}
    snap = workload_rows(list(read_pgss_live(shop, relation="old.snapshot")))
    assert {(s.calls, s.database, s.user, s.queryid) for s in snap.values()} == {
        (20, "shop", "app", None), (3, "shop", "app", None), (5, "shop", "app", None)}
    with pytest.raises(SourceError, match=r"no table or view 'old\.nope'"):
        list(read_pgss_live(shop, relation="old.nope"))
    with pytest.raises(SourceError, match="not allowed to read") as info:
        list(read_pgss_live(db(pgss, "shop", user="viewer"), relation="old.snapshot"))
    assert "GRANT SELECT ON" in (info.value.hint or "")


# --- exports written by the real server -------------------------------------------------------


def _export(pgss: LocalSandbox, copy: str) -> bytes:
    with psycopg.connect(db(pgss, "shop"), autocommit=True) as conn, conn.cursor() as cur:
        data = bytearray()
        with cur.copy(copy) as out:
            for chunk in out:
                data += chunk
    return bytes(data)


def test_exports_read_back_like_the_live_view(pgss: LocalSandbox, tmp_path: Path) -> None:
    live = workload_rows(list(read_pgss_live(db(pgss, "shop"))))
    where = "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
    csv_file = tmp_path / "pgss.csv"
    csv_file.write_bytes(_export(
        pgss, f"COPY (SELECT * FROM pg_stat_statements {where}) TO STDOUT (FORMAT csv, HEADER)"))
    with psycopg.connect(db(pgss, "shop"), autocommit=True) as conn:
        array = conn.execute(f"SELECT json_agg(s)::text FROM pg_stat_statements s {where}")
        json_file = tmp_path / "pgss.json"
        json_file.write_text(str((array.fetchone() or [""])[0]))
        lines = conn.execute(f"SELECT row_to_json(s)::text FROM pg_stat_statements s {where}")
        lines_file = tmp_path / "pgss.jsonl"
        lines_file.write_text("".join(f"{r[0]}\n" for r in lines))
    for path in (csv_file, json_file, lines_file):
        assert looks_like_pgss_export(path.read_bytes()[:4096]), path.name
        items = list(read_pgss_export(path))
        assert not [i for i in items if isinstance(i, Skipped) and "bad row" in i.reason]
        got = workload_rows(items)
        assert {t: (s.calls, s.queryid, s.rows, s.shared_blks_hit, s.max_time_ms)
                for t, s in got.items()} == {
            t: (s.calls, s.queryid, s.rows, s.shared_blks_hit, s.max_time_ms)
            for t, s in live.items()}, path.name
        for text, s in got.items():
            assert s.total_time_ms == pytest.approx(live[text].total_time_ms)
            assert s.source.startswith(f"{path}:") and s.user is None
    # The CSV source line is where the record starts (multi-line texts span lines).
    first = next(i for i in read_pgss_export(csv_file))
    assert first.source == f"{csv_file}:2"


# --- golden exports ---------------------------------------------------------------------------


def _render(items: list[Statement | Skipped]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for item in items:
        defaults = {f.name: f.default for f in dataclass_fields(item)}
        fields = {k: v for k, v in asdict(item).items()
                  if v not in (None, ()) and not (k == "records" and v == defaults[k])}
        if isinstance(item, Skipped):  # the golden files hold the reason as one sentence
            fields = {"source": item.source, "reason": item.reason, "text": item.text,
                      "outcome": item.outcome}
        fields["source"] = str(fields["source"]).replace(f"{GOLDEN}/", "")
        out.append({type(item).__name__: fields})
    return out


@pytest.mark.parametrize("case", sorted(p for p in GOLDEN.iterdir()
                                        if not p.name.endswith(".expected.json")),
                         ids=lambda p: p.name)
def test_golden_exports(case: Path) -> None:
    got = _render(list(read_pgss_export(case)))
    expected = case.with_name(case.name.split(".")[0] + ".expected.json")
    if os.environ.get("INDEXADVISOR_UPDATE_GOLDEN") == "1":
        expected.write_text(json.dumps(got, indent=2) + "\n")
    assert expected.exists(), f"missing {expected.name}: run with INDEXADVISOR_UPDATE_GOLDEN=1"
    assert got == json.loads(expected.read_text())
    assert looks_like_pgss_export(case.read_bytes()[:2048])


def test_export_filters_and_errors(tmp_path: Path) -> None:
    shop = list(read_pgss_export(GOLDEN / "rds_subset.csv", database="shop"))
    assert [s.queryid for s in shop if isinstance(s, Statement)] == [42, 43]
    assert shop[0].total_time_ms == 250.0  # mean * calls when there is no total column
    no_calls = tmp_path / "no_calls.csv"
    no_calls.write_text("query,total_time\nSELECT 1,2\n")
    with pytest.raises(SourceError, match="no calls column"):
        list(read_pgss_export(no_calls))
    with pytest.raises(SourceError, match="cannot read"):
        list(read_pgss_export(tmp_path / "missing.csv"))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SourceError, match="is empty"):
        list(read_pgss_export(tmp_path / "empty.csv"))
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"query,calls\nSELECT 1,1\nSELECT 'caf\xe9' FROM t,2\n")
    items = list(read_pgss_export(latin))
    assert items[0] == Skipped(f"{latin}:3", "invalid UTF-8; the undecodable bytes were replaced",
                               "")
    assert [i.calls for i in items if isinstance(i, Statement)] == [1, 2]


def test_sniffer() -> None:
    assert looks_like_pgss_export(b"\xef\xbb\xbfQuery,Calls\n")
    assert looks_like_pgss_export(b'{"calls": 1, "query": "x"}\n')
    assert not looks_like_pgss_export(b'{"query": "x"}')
    assert not looks_like_pgss_export(b"query,total_time\n")
    assert not looks_like_pgss_export(b"\x00\x01\x02\xff")
    assert not looks_like_pgss_export(b"")
    assert not looks_like_pgss_export(b"SELECT query, calls FROM pg_stat_statements;\n")
    assert discover_columns(["query", "calls"]).names == ("query", "calls")


# --- property: garbage never costs a valid row ------------------------------------------------

VALID = st.builds(
    lambda qid, table, calls, total: (qid, f"SELECT * FROM {table} WHERE id = $1", calls, total),
    st.integers(-(2**63), 2**63 - 1), st.sampled_from(["t", "orders", '"Weird, ""name"""']),
    st.integers(0, 10**12), st.floats(0, 1e9, allow_nan=False),
)
GARBAGE_CSV = st.binary(max_size=80).filter(lambda b: not set(b) & set(b'"\r\n'))
GARBAGE_LINE = st.text(max_size=80).filter(lambda t: "\n" not in t)


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(VALID, GARBAGE_CSV), max_size=25))
def test_csv_garbage_never_loses_a_valid_row(rows: list[object]) -> None:
    import tempfile

    lines = [b"queryid,query,calls,total_exec_time"]
    valid = []
    for row in rows:
        if isinstance(row, bytes):
            lines.append(row)
        else:
            qid, text, calls, total = row  # type: ignore[misc]
            valid.append((qid, calls))
            lines.append(f"{qid},{_csv_field(text)},{calls},{total!r}".encode())
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(b"\n".join(lines) + b"\n")
        items = list(read_pgss_export(path))
    ids = {qid for qid, _ in valid}
    kept = [(i.queryid, i.calls) for i in items if isinstance(i, Statement) and i.queryid in ids]
    assert kept == valid
    assert all(i.source.startswith(str(path) + ":") for i in items)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(VALID, st.lists(st.one_of(VALID, GARBAGE_LINE), max_size=25))
def test_json_lines_garbage_never_loses_a_valid_row(first: object, rows: list[object]) -> None:
    import tempfile

    lines, valid = [], []
    for row in [first, *rows]:
        if isinstance(row, str):
            lines.append(row)
        else:
            qid, text, calls, total = row  # type: ignore[misc]
            valid.append((qid, calls))
            lines.append(json.dumps({"queryid": qid, "query": text, "calls": calls,
                                     "total_exec_time": total}))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.jsonl"
        path.write_text("\n".join(lines), encoding="utf-8")
        items = list(read_pgss_export(path))
    ids = {qid for qid, _ in valid}
    kept = [(i.queryid, i.calls) for i in items if isinstance(i, Statement) and i.queryid in ids]
    assert kept == valid


def test_identifier_quoting_in_relation(pgss: LocalSandbox) -> None:
    shop = db(pgss, "shop")
    with psycopg.connect(shop, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier("Mon itor")))
        conn.execute(sql.SQL("CREATE OR REPLACE VIEW {} AS SELECT * FROM pg_stat_statements")
                     .format(sql.Identifier("Mon itor", "pgss view")))
    got = workload_rows(list(read_pgss_live(shop, relation='"Mon itor"."pgss view"')))
    assert len(got) == 3


# --- advise on pg_stat_statements ------------------------------------------------------------


def test_advise_on_live_pg_stat_statements(pgss: LocalSandbox) -> None:
    """`advise --pg-stat-statements` takes the workload from the target's own statistics."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "INDEXADVISOR_DSN"}
    out = subprocess.run(
        [sys.executable, "-m", "indexadvisor", "advise", "--pg-stat-statements",
         "--dsn", db(pgss, "shop"), "--create-extension", "--format", "json"],
        capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    lookup = [q for q in doc["queries"]
              if q["sample"] == "SELECT * FROM orders WHERE customer_id = $1"]
    assert lookup and lookup[0]["calls"] == 20 and lookup[0]["outcome"] == "improved"
    assert any(r["columns"][:1] == ["customer_id"] for r in doc["recommendations"])
    nothing = subprocess.run([sys.executable, "-m", "indexadvisor", "advise",
                              "--pg-stat-statements"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert nothing.returncode == 2
    assert "--dsn" in nothing.stderr and "Traceback" not in nothing.stderr
