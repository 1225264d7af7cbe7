"""Access methods besides btree on a real PostgreSQL: BRIN for a large table stored in time
order (and not for a shuffled one), hash for equality on a wide column (not on an integer),
and GIN proposals HypoPG cannot cost, whose DDL PostgreSQL accepts and its planner then uses."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from indexadvisor import AdvisorConfig, advise, connect, load_workload
from indexadvisor.analyze import SchemaMap, analyze
from indexadvisor.analyze.gin import gin_uses
from indexadvisor.candidates.methods import MIN_BRIN_PAGES, method_candidates
from indexadvisor.catalog.read import read_catalog
from indexadvisor.explain.hypo import HypoSession
from indexadvisor.model import Candidate, Outcome, TableName
from indexadvisor.model.plan import index_names
from indexadvisor.report import render_json
from indexadvisor.sql.ddl import check_roundtrip

from .conftest import run_sql

EVENTS = TableName("public", "events")
SHUFFLED = TableName("public", "shuffled")

TIME_SCHEMA = """
CREATE TABLE events (id bigint NOT NULL, ts timestamp NOT NULL, filler text NOT NULL);
INSERT INTO events SELECT g, timestamp '2024-01-01' + g * interval '10 seconds', repeat('x', 220)
FROM generate_series(1, 330000) g;
CREATE TABLE shuffled AS SELECT * FROM events ORDER BY md5(id::text);
VACUUM ANALYZE events; VACUUM ANALYZE shuffled;
"""

DAY = "ts >= '2024-01-20' AND ts < '2024-01-21'"


def _advise(dsn: str, tmp_path: Path, text: str, **config: object):  # type: ignore[no-untyped-def]
    path = tmp_path / "workload.sql"
    path.write_text(text)
    with connect(dsn) as conn:
        return advise(load_workload([str(path)]), conn, AdvisorConfig(**config))  # type: ignore[arg-type]


def test_brin_wins_on_a_time_ordered_table_not_on_a_shuffled_one(fresh_db: str,
                                                                 tmp_path: Path) -> None:
    run_sql(fresh_db, TIME_SCHEMA)
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
    assert catalog.tables[EVENTS].pages >= MIN_BRIN_PAGES
    schema = SchemaMap(catalog.schema_columns, catalog.search_path)
    for table, expected in ((EVENTS, [Candidate(EVENTS, ("ts",), method="brin")]),
                            (SHUFFLED, [])):
        uses = analyze(f"SELECT count(*) FROM {table.name} WHERE {DAY}", schema).uses
        assert method_candidates(uses, catalog) == expected

    workload = (f"-- calls: 100\nSELECT count(*) FROM events WHERE {DAY};\n"
                f"-- calls: 100\nSELECT count(*) FROM shuffled WHERE {DAY};\n")
    # 1 MB: a btree on ts (~7 MB each) does not fit, the BRIN (a few pages) does
    advice = _advise(fresh_db, tmp_path, workload, budget_bytes=1_000_000)
    (rec,) = advice.recommendations
    assert rec.candidate == Candidate(EVENTS, ("ts",), method="brin")
    assert rec.ddl \
        == "CREATE INDEX CONCURRENTLY events_ts_brin_idx ON public.events USING brin (ts);"
    assert rec.size_bytes < 100_000
    by_table = {r.query.relations[0]: r for r in advice.results}
    assert by_table["events"].outcome is Outcome.IMPROVED
    assert by_table["shuffled"].outcome is not Outcome.IMPROVED
    # without a budget, the btree (index-only scan) is cheaper still and is chosen as well
    unbounded = _advise(fresh_db, tmp_path, workload)
    assert any(r.candidate == Candidate(EVENTS, ("ts",)) for r in unbounded.recommendations)

    # HypoPG's BRIN size is sane against the real one, and the planner uses the real one
    with connect(fresh_db) as conn, HypoSession(conn, read_catalog(conn)) as whatif:
        hypothetical = whatif.size(rec.candidate)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(check_roundtrip(rec.ddl).encode())
        real = conn.execute("SELECT pg_relation_size('events_ts_brin_idx')").fetchone()
        assert real is not None
        assert 0.25 <= hypothetical / real[0] <= 4, (hypothetical, real[0])
        conn.execute("SET enable_seqscan = off")  # a count(*) plan is cheap either way
        row = conn.execute(f"EXPLAIN (FORMAT JSON) SELECT count(*) FROM events WHERE {DAY}"
                           .encode()).fetchone()
        assert row is not None
        assert "events_ts_brin_idx" in set(index_names(row[0][0]["Plan"]))


TOKEN_SCHEMA = """
CREATE TABLE links (id integer NOT NULL, n integer NOT NULL, token text NOT NULL);
INSERT INTO links SELECT g, g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 100000) g;
VACUUM ANALYZE links;
"""


def test_hash_for_equality_on_a_wide_column_only(fresh_db: str, tmp_path: Path) -> None:
    run_sql(fresh_db, TOKEN_SCHEMA)
    links = TableName("public", "links")
    with connect(fresh_db) as conn:
        catalog = read_catalog(conn)
    schema = SchemaMap(catalog.schema_columns, catalog.search_path)

    def candidates(text: str) -> list[Candidate]:
        return method_candidates(analyze(text, schema).uses, catalog)

    assert candidates("SELECT n FROM links WHERE token = $1") == [
        Candidate(links, ("token",), method="hash")]
    assert candidates("SELECT token FROM links WHERE n = $1") == []  # 4-byte integer
    assert candidates("SELECT n FROM links WHERE token = $1 ORDER BY token") == []
    assert candidates("SELECT n FROM links WHERE token > $1") == []

    # the btree on a 64-byte text is ~3x the hash: under a budget between, hash wins
    with connect(fresh_db) as conn, HypoSession(conn, catalog) as whatif:
        hash_size = whatif.size(Candidate(links, ("token",), method="hash"))
        btree_size = whatif.size(Candidate(links, ("token",)))
    assert hash_size < btree_size
    advice = _advise(fresh_db, tmp_path, "SELECT n FROM links WHERE token = $1;\n",
                     budget_bytes=(hash_size + btree_size) // 2)
    (rec,) = advice.recommendations
    assert rec.candidate.method == "hash"
    assert rec.ddl.endswith("ON public.links USING hash (token);")
    assert advice.results[0].outcome is Outcome.IMPROVED
    plain = _advise(fresh_db, tmp_path, "SELECT token FROM links WHERE n = $1;\n")
    assert [r.candidate.method for r in plain.recommendations] == ["btree"]


DOCS_SCHEMA = """
CREATE TABLE docs (id integer PRIMARY KEY, payload jsonb NOT NULL, tags text[] NOT NULL,
                   body text NOT NULL);
INSERT INTO docs SELECT g,
    jsonb_build_object('kind', CASE WHEN g % 1000 = 0 THEN 'rare' ELSE 'common' END, 'n', g),
    ARRAY['t' || (g % 50), 'u' || (g % 7)],
    'document ' || md5(g::text) || CASE WHEN g % 997 = 0 THEN ' needle' ELSE '' END
FROM generate_series(1, 60000) g;
VACUUM ANALYZE docs;
"""

DOCS_WORKLOAD = """
-- calls: 100
SELECT id FROM docs WHERE payload @> '{"kind": "rare"}';
-- calls: 50
SELECT id FROM docs d WHERE d.body LIKE '%needle%';
-- calls: 20
SELECT id FROM docs WHERE tags && ARRAY['t7'];
-- calls: 10
SELECT id FROM docs WHERE body LIKE 'document%';
"""


def test_gin_proposed_not_costed_built_and_used(fresh_db: str, tmp_path: Path) -> None:
    run_sql(fresh_db, DOCS_SCHEMA)
    advice = _advise(fresh_db, tmp_path, DOCS_WORKLOAD, budget_bytes=0)
    by_column = {n.column: n for n in advice.not_costed}
    assert set(by_column) == {"payload", "body", "tags"}  # the anchored LIKE is a btree's
    payload, body, tags = by_column["payload"], by_column["body"], by_column["tags"]
    assert payload.ddl == ("CREATE INDEX CONCURRENTLY docs_payload_gin_idx ON public.docs "
                           "USING gin (payload jsonb_path_ops);")
    assert tags.opclass is None and tags.operators == ("&&",)
    # trigram LIKE without pg_trgm: says it needs the extension, and the DDL creates it first
    assert body.opclass == "gin_trgm_ops" and body.extension == "pg_trgm"
    assert "needs the pg_trgm extension" in body.reason
    assert body.ddl.splitlines()[0] == "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    for n in advice.not_costed:
        assert "HypoPG 1.3 cannot simulate GIN" in n.reason
        (result,) = [r for r in advice.results if r.query.fingerprint in n.queries]
        assert result.outcome is not Outcome.IMPROVED
        assert "GIN index proposed, not costed: HypoPG 1.3 cannot simulate GIN" in result.reason
    # never in the budget or the benefit
    assert advice.index_bytes == 0 and advice.recommendations == ()
    document = json.loads(render_json(advice))
    assert {n["column"] for n in document["not_costed"]} == {"payload", "body", "tags"}

    # PostgreSQL accepts every DDL, and after ANALYZE its planner uses the GIN indexes
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for n in advice.not_costed:
            for statement in n.ddl.splitlines():
                conn.execute(check_roundtrip(statement).encode())
        conn.execute("ANALYZE docs")
        for text, name in (
            ("SELECT id FROM docs WHERE payload @> '{\"kind\": \"rare\"}'", "docs_payload_gin_idx"),
            ("SELECT id FROM docs WHERE body LIKE '%needle%'", "docs_body_gin_idx"),
            ("SELECT id FROM docs WHERE tags && ARRAY['t7']", "docs_tags_gin_idx"),
        ):
            row = conn.execute(("EXPLAIN (FORMAT JSON) " + text).encode()).fetchone()
            assert row is not None
            assert name in set(index_names(row[0][0]["Plan"])), text
    # once they exist, nothing more is proposed
    again = _advise(fresh_db, tmp_path, DOCS_WORKLOAD, budget_bytes=0)
    assert again.not_costed == ()


def test_gin_proposal_with_pg_trgm_installed_needs_no_extension(fresh_db: str,
                                                                tmp_path: Path) -> None:
    run_sql(fresh_db, DOCS_SCHEMA + "CREATE EXTENSION pg_trgm;")
    advice = _advise(fresh_db, tmp_path, "SELECT id FROM docs WHERE body ILIKE $1;\n"
                     "SELECT id FROM docs WHERE body ILIKE '%Needle%';\n")
    (body,) = advice.not_costed
    assert body.extension is None and "needs" not in body.reason
    assert body.ddl == ("CREATE INDEX CONCURRENTLY docs_body_gin_idx ON public.docs "
                        "USING gin (body gin_trgm_ops);")


S = SchemaMap({TableName("public", "docs"): {"payload": "jsonb", "tags": "text[]",
                                              "body": "text", "doc": "tsvector", "n": "integer"}})


@pytest.mark.parametrize(("text", "params", "found"), [
    ("SELECT 1 FROM docs WHERE payload ? 'kind'", (), [("payload", "?", "jsonb")]),
    ("SELECT 1 FROM docs WHERE '{\"a\":1}' <@ payload", (), [("payload", "@>", "jsonb")]),
    ("SELECT 1 FROM docs WHERE ARRAY['x'] && tags", (), [("tags", "&&", "array")]),
    ("SELECT 1 FROM docs WHERE body LIKE 'abc%'", (), []),
    ("SELECT 1 FROM docs WHERE body LIKE '%ab%'", (), []),  # no trigram to look up
    ("SELECT 1 FROM docs WHERE body LIKE $1", ("%abc%",), [("body", "~~", "trgm")]),
    ("SELECT 1 FROM docs WHERE body LIKE $1", (), []),  # value unknown
    ("SELECT 1 FROM docs WHERE body ILIKE 'abc%'", (), [("body", "~~*", "trgm")]),
    ("SELECT 1 FROM docs WHERE doc @@ to_tsquery('a')", (), [("doc", "@@", "tsvector")]),
    ("SELECT 1 FROM docs WHERE to_tsvector('english', body) @@ to_tsquery('a')", (),
     [("(to_tsvector('english', body))", "@@", "tsvector")]),
    ("SELECT 1 FROM docs WHERE to_tsvector(body) @@ to_tsquery('a')", (), []),
    ("SELECT 1 FROM docs WHERE n = 1 AND payload ->> 'k' = 'x'", (), []),
    ("UPDATE docs SET n = 1 WHERE payload @> $1", (), [("payload", "@>", "jsonb")]),
    ("SELECT 1 FROM docs WHERE id IN (SELECT n FROM docs WHERE tags @> $1)", (),
     [("tags", "@>", "array")]),
])
def test_gin_uses(text: str, params: tuple[str, ...], found: list[tuple[str, str, str]]) -> None:
    assert [(u.column, u.operator, u.family) for u in gin_uses(text, S, params)] == found
