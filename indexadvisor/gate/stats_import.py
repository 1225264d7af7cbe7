"""`check --stats FILE`: make a sandbox without data plan like production.

Statistics alone are not enough: the planner scales `reltuples` by the pages a table really
has on disk (`table_block_relation_estimate_size`), so an empty table plans as one row whatever
pg_class says, and an index's size is its file's. So, in our own local sandbox only:

1. relation sizes: pg_class's relpages, reltuples and relallvisible (`pg_restore_relation_stats`
   on PostgreSQL 18+, an UPDATE of pg_class as the sandbox's superuser before), and each table's
   and index's file extended, sparse, to relpages x block size (segments of 1 GB as PostgreSQL
   lays them out). Zero pages are valid empty pages: the tables still read as empty, nothing
   is written to disk, and the planner sees production's sizes;
2. column statistics: `pg_restore_attribute_stats` on 18+; before, pg_statistic rows written
   directly (values through ``array_in(text, type, -1)``, the operators PostgreSQL's own
   ANALYZE would record: the type's default btree ``=`` and ``<``);
3. indexes the sandbox has but production does not (a btree only): sized with HypoPG's
   formula over production's row count, so they do not plan as free.

The sandbox then must never be VACUUMed or ANALYZEd (autovacuum is off, and the gate skips
VACUUM/ANALYZE statements of a migration); a migration that rewrites a table gets the sizes
put back by calling `apply_stats` again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ..candidates.sizes import btree_size
from ..model.errors import ConfigError, SandboxError, SourceError
from .stats_export import FORMAT, VERSION

TSVECTOR = 3614
TEXT = 25
DEFAULT_COLLATION = 100

#: (kind, pg_stats key of its values or None, key of its numbers or None)
_KINDS = ((1, "most_common_vals", "most_common_freqs"), (2, "histogram_bounds", None),
          (3, None, "correlation"), (4, "most_common_elems", "most_common_elem_freqs"),
          (5, None, "elem_count_histogram"))


def load_stats(path: Path) -> dict[str, Any]:
    """A stats file written by `indexadvisor stats export`."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a stats file: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a stats file (no \"format\": \"{FORMAT}\")",
                          hint="write one with `indexadvisor stats export --dsn PROD`")
    if doc.get("version") != VERSION:
        raise ConfigError(f"{path}: stats file version {doc.get('version')!r} not supported")
    return doc


def planner_settings(doc: Mapping[str, Any]) -> dict[str, str]:
    """The production planner settings recorded in the file (set in the sandbox)."""
    return {str(k): str(v) for k, v in dict(doc.get("settings", {})).items()}


@dataclass
class _Rel:
    oid: int
    kind: str
    path: str
    table_oid: int | None
    am: str | None
    columns: list[str] = field(default_factory=list)


_SANDBOX_RELATIONS = """
SELECT c.oid, n.nspname, c.relname, c.relkind, pg_relation_filepath(c.oid) AS path,
       i.indrelid, am.amname,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) AS k(n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)::text[] AS cols
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r', 'm', 'i')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""


def extend_relation(file: Path, pages: int, block_size: int, segment_blocks: int) -> None:
    """Grow a relation's main fork to `pages` blocks, sparse, as 1 GB segments (never
    shrinks it: real data stays)."""
    owner = file.stat()
    segments = max(1, -(-pages // segment_blocks))
    for n in range(segments):
        path = file if n == 0 else file.with_name(f"{file.name}.{n}")
        want = min(segment_blocks, pages - n * segment_blocks) * block_size
        if not path.exists():
            path.touch(mode=0o600)
            if os.geteuid() == 0:
                os.chown(path, owner.st_uid, owner.st_gid)
        if path.stat().st_size < want:
            os.truncate(path, want)


class _Applier:
    def __init__(self, conn: psycopg.Connection, datadir: Path, doc: Mapping[str, Any]):
        self.conn = conn
        self.datadir = datadir
        self.doc = doc
        self.notes: list[str] = []
        row = conn.execute(
            "SELECT current_setting('server_version_num')::int,"
            " current_setting('block_size')::int,"
            " (SELECT setting::bigint FROM pg_settings WHERE name = 'segment_size')").fetchone()
        assert row is not None
        self.version, self.block, self.segment = int(row[0]), int(row[1]), int(row[2])
        self.rels: dict[tuple[str, str], _Rel] = {}
        for oid, schema, name, kind, path, table, am, cols in conn.execute(
                _SANDBOX_RELATIONS).fetchall():
            self.rels[(schema, name)] = _Rel(int(oid), kind, path, table, am, list(cols or ()))
        self._ops: dict[tuple[int, int], int] = {}

    # -- relation sizes ----------------------------------------------------------------------
    def relation(self, rel: _Rel, schema: str, name: str, pages: int, tuples: float,
                 allvisible: int) -> None:
        if self.version >= 180000:
            self.conn.execute(
                "SELECT pg_restore_relation_stats('schemaname', %s::text, 'relname', %s::text,"
                " 'relpages', %s::integer, 'reltuples', %s::real,"
                " 'relallvisible', %s::integer)", (schema, name, pages, tuples, allvisible))
        else:
            self.conn.execute("UPDATE pg_class SET relpages = %s, reltuples = %s,"
                              " relallvisible = %s WHERE oid = %s",
                              (pages, tuples, allvisible, rel.oid))
        if pages > 0:
            extend_relation(self.datadir / rel.path, pages, self.block, self.segment)

    def relations(self) -> None:
        given = {(r["schema"], r["name"]): r for r in self.doc.get("relations", ())}
        tuples: dict[int, float] = {}
        for (schema, name), item in sorted(given.items()):
            rel = self.rels.get((schema, name))
            if rel is None or (rel.kind == "i") != (item.get("kind") == "index"):
                continue
            self.relation(rel, schema, name, int(item["pages"]), float(item["tuples"]),
                          int(item.get("allvisible", 0)))
            if rel.kind != "i":
                tuples[rel.oid] = float(item["tuples"])
        widths = {(c["schema"], c["table"], c["column"]): int(c.get("avg_width") or 8)
                  for c in self.doc.get("columns", ())}
        for (schema, name), rel in sorted(self.rels.items()):
            if rel.kind != "i" or (schema, name) in given or rel.table_oid not in tuples:
                continue
            if rel.am != "btree" or not rel.columns:
                self.notes.append(f"index {schema}.{name} is not in the stats file and is not "
                                  "a plain btree: it plans at its sandbox size")
                continue
            table = next(t for (_, t), r in self.rels.items() if r.oid == rel.table_oid)
            rows = tuples[rel.table_oid]
            size = btree_size(rows, [widths.get((schema, table, c), 8) for c in rel.columns])
            self.relation(rel, schema, name, size // self.block, rows, 0)
            self.notes.append(f"index {schema}.{name} is not in the stats file: sized "
                              f"{size // self.block} pages for {rows:,.0f} rows")

    # -- column statistics ---------------------------------------------------------------------
    def _operator(self, type_oid: int, strategy: int) -> int:
        """The default btree operator (strategy 3 '=', 1 '<') for a type, as ANALYZE uses."""
        key = (type_oid, strategy)
        if key not in self._ops:
            row = self.conn.execute("""
                WITH t AS (SELECT oid, typbasetype, typcategory, typtype FROM pg_type
                           WHERE oid = %(t)s),
                cands AS (
                    SELECT oid AS c, 1 AS p FROM t
                    UNION ALL SELECT typbasetype, 2 FROM t WHERE typbasetype <> 0
                    UNION ALL SELECT casttarget, 3 FROM pg_cast, t
                              WHERE castsource = t.oid AND castmethod = 'b'
                    UNION ALL SELECT 'anyarray'::regtype, 4 FROM t WHERE typcategory = 'A'
                    UNION ALL SELECT 'anyenum'::regtype, 4 FROM t WHERE typtype = 'e')
                SELECT o.amopopr FROM cands
                JOIN pg_opclass oc ON oc.opcintype = cands.c AND oc.opcdefault
                JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'btree'
                JOIN pg_amop o ON o.amopfamily = oc.opcfamily AND o.amopstrategy = %(s)s
                     AND o.amoplefttype = oc.opcintype AND o.amoprighttype = oc.opcintype
                ORDER BY cands.p LIMIT 1""", {"t": type_oid, "s": strategy}).fetchone()
            self._ops[key] = int(row[0]) if row else 0
        return self._ops[key]

    def columns(self) -> None:
        attrs: dict[int, dict[str, tuple[int, int, int, int]]] = {}
        for item in self.doc.get("columns", ()):
            rel = self.rels.get((item["schema"], item["table"]))
            if rel is None or rel.kind == "i":
                continue
            if rel.oid not in attrs:
                attrs[rel.oid] = {
                    name: (int(num), int(typ), int(coll), int(elem))
                    for name, num, typ, coll, elem in self.conn.execute(
                        "SELECT a.attname, a.attnum, a.atttypid, a.attcollation, t.typelem"
                        " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                        " WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped",
                        (rel.oid,)).fetchall()}
            attr = attrs[rel.oid].get(item["column"])
            if attr is None:
                continue
            try:
                with self.conn.transaction():
                    if self.version >= 180000:
                        self._restore_attribute(item)
                    else:
                        self._write_statistic(rel.oid, attr, item)
            except psycopg.Error as exc:
                first = str(exc).strip().splitlines()[0]
                self.notes.append(f"statistics of {item['schema']}.{item['table']}."
                                  f"{item['column']} not imported: {first}")

    def _restore_attribute(self, item: Mapping[str, Any]) -> None:
        args: list[sql.Composable] = []
        params: list[Any] = []

        def add(name: str, value: Any, typ: str) -> None:
            args.extend([sql.Literal(name), sql.SQL("%s::" + typ)])
            params.append(value)

        add("schemaname", item["schema"], "text")
        add("relname", item["table"], "text")
        add("attname", item["column"], "text")
        add("inherited", bool(item.get("inherited")), "boolean")
        for key, typ in (("null_frac", "real"), ("avg_width", "integer"),
                         ("n_distinct", "real"), ("correlation", "real"),
                         ("most_common_vals", "text"), ("most_common_freqs", "real[]"),
                         ("histogram_bounds", "text"), ("most_common_elems", "text"),
                         ("most_common_elem_freqs", "real[]"),
                         ("elem_count_histogram", "real[]")):
            if item.get(key) is not None:
                add(key, item[key], typ)
        query = sql.SQL("SELECT pg_restore_attribute_stats({})").format(sql.SQL(", ").join(args))
        row = self.conn.execute(query, params).fetchone()
        if row is not None and row[0] is False:
            self.notes.append(f"statistics of {item['schema']}.{item['table']}.{item['column']}"
                              " were imported only in part (see the server log)")

    def _write_statistic(self, relid: int, attr: tuple[int, int, int, int],
                         item: Mapping[str, Any]) -> None:
        attnum, typ, coll, elem = attr
        elem_type, elem_coll = (TEXT, DEFAULT_COLLATION) if typ == TSVECTOR else (elem, coll)
        slots: list[tuple[int, int, int, Any, tuple[str, int] | None]] = []
        for kind, values_key, numbers_key in _KINDS:
            values = item.get(values_key) if values_key else None
            numbers = item.get(numbers_key) if numbers_key else None
            if (values_key and values is None) or (numbers_key and numbers is None):
                continue
            if kind == 3:
                numbers = [numbers]
            if kind in (1, 2, 3):
                op = self._operator(typ, 3 if kind == 1 else 1)
                slot_coll, array_type = coll, typ
            else:
                if not elem_type:
                    continue
                op, slot_coll, array_type = self._operator(elem_type, 3), elem_coll, elem_type
            if op == 0:
                continue
            slots.append((kind, op, slot_coll, numbers,
                          (values, array_type) if values is not None else None))
        slots = slots[:5]
        params: list[Any] = [relid, attnum, bool(item.get("inherited")),
                             float(item.get("null_frac") or 0.0), int(item.get("avg_width") or 0),
                             float(item.get("n_distinct") or 0.0)]
        parts: list[sql.Composable] = [sql.SQL("%s")] * 6
        padded = slots + [(0, 0, 0, None, None)] * (5 - len(slots))
        for i in range(3):
            for slot in padded:
                parts.append(sql.SQL("%s"))
                params.append(slot[i])
        for slot in padded:
            parts.append(sql.SQL("%s::real[]"))
            params.append(slot[3])
        for slot in padded:
            if slot[4] is None:
                parts.append(sql.NULL)
            else:
                parts.append(sql.SQL("array_in(%s::cstring, %s::oid, -1)"))
                params.extend(slot[4])
        columns = ["starelid", "staattnum", "stainherit", "stanullfrac", "stawidth",
                   "stadistinct"]
        for prefix in ("stakind", "staop", "stacoll", "stanumbers", "stavalues"):
            columns += [f"{prefix}{n}" for n in range(1, 6)]
        self.conn.execute("DELETE FROM pg_statistic WHERE starelid = %s AND staattnum = %s"
                          " AND stainherit = %s", params[:3])
        self.conn.execute(sql.SQL("INSERT INTO pg_statistic ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", ").join(parts)),
            params)


def apply_stats(dsn: str, datadir: Path | None, doc: Mapping[str, Any]) -> list[str]:
    """Import a stats document into the sandbox behind `dsn` (a superuser connection to a
    server we own, whose data directory is `datadir`). Returns notes on what was left out.
    Idempotent: run it again after a migration that rewrote tables."""
    if datadir is None or not datadir.is_dir():
        raise SandboxError("--stats needs the local sandbox (its files are extended to "
                           "production's sizes)",
                           hint="use --sandbox local, or --dsn of a staging copy with data")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            applier = _Applier(conn, datadir, doc)
            applier.relations()
            applier.columns()
            return applier.notes
    except psycopg.OperationalError as exc:
        raise SandboxError(f"cannot import statistics into the sandbox: {exc}") from None


def stats_tables(doc: Mapping[str, Any]) -> Sequence[tuple[str, str]]:
    """The tables a stats document sizes."""
    return sorted((r["schema"], r["name"]) for r in doc.get("relations", ())
                  if r.get("kind") == "table")
