"""pg_stat_statements as a workload source: live from a server, or from a CSV / JSON export.

The columns differ by extension version (1.8 renamed ``total_time`` to ``total_exec_time`` and
added ``total_plan_time``; 1.9 added ``toplevel``; 1.11 added ``stats_since``; exports keep
whatever subset their tool chose), so they are discovered by name, from the catalog for a live
server and from the header for an export, never assumed per version.

>>> cols = discover_columns(["userid", "query", "calls", "total_time", "max_time", "rows"])
>>> cols.total, cols.max_time, cols.rows
(('total_time',), 'max_time', 'rows')
>>> item = to_item({"query": "SELECT * FROM t WHERE id = $1", "calls": "3",
...                 "total_time": "1.5", "max_time": "0.9", "rows": "3"}, cols, "x.csv:2")
>>> item.calls, item.total_time_ms, item.max_time_ms, item.rows
(3, 1.5, 0.9, 3)
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from ..db.connect import Guards, connect, redact_dsn
from ..model import Outcome, Skipped, Statement
from ..model.errors import ExtensionMissing, SourceError
from ..sql.parse import StatementError, parse_statement

VIEW = "pg_stat_statements"
HIDDEN_TEXT = "<insufficient privilege>"
_INSTALL_HINT = (
    "add pg_stat_statements to shared_preload_libraries in postgresql.conf, restart the server, "
    "then run CREATE EXTENSION pg_stat_statements in this database"
)
_PRIVILEGE_HINT = (
    "GRANT pg_read_all_stats TO <role> lets a role that is not a superuser read every "
    "user's query text"
)

# Header / attribute names each field may go by, most specific first.
_ALIASES: dict[str, tuple[str, ...]] = {
    "query": ("query", "query_text", "querytext", "normalized_query"),
    "calls": ("calls", "executions", "exec_count"),
    "max_time": ("max_exec_time", "max_time", "max_time_ms"),
    "queryid": ("queryid", "query_id"),
    "rows": ("rows",),
    "shared_blks_hit": ("shared_blks_hit",),
    "shared_blks_read": ("shared_blks_read",),
    "database": ("datname", "database", "dbname", "database_name"),
    "user": ("rolname", "usename", "username", "user_name", "user"),
    "dbid": ("dbid",),
    "userid": ("userid",),
    "stats_since": ("stats_since",),
}
# Total time: the sum of every group present, first group that is present wins.
_TOTALS: tuple[tuple[str, ...], ...] = (
    ("total_exec_time", "total_plan_time"),  # 1.8+
    ("total_time",),  # up to 1.7
    ("total_time_ms",),
)
_MEANS = ("mean_exec_time", "mean_time", "mean_time_ms")


@dataclass(frozen=True)
class PgssColumns:
    """Which column holds what, as discovered from a catalog or a header."""

    query: str
    calls: str
    total: tuple[str, ...] = ()  # summed: total_exec_time + total_plan_time, or total_time
    mean: str | None = None  # used (times calls) only when no total column is there
    max_time: str | None = None
    queryid: str | None = None
    rows: str | None = None
    shared_blks_hit: str | None = None
    shared_blks_read: str | None = None
    database: str | None = None
    user: str | None = None
    dbid: str | None = None
    userid: str | None = None
    stats_since: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Every column used, each once, in a stable order."""
        values = [self.query, self.calls, *self.total, self.mean, self.max_time, self.queryid,
                  self.rows, self.shared_blks_hit, self.shared_blks_read, self.database,
                  self.user, self.dbid, self.userid, self.stats_since]
        return tuple(dict.fromkeys(v for v in values if v))


def discover_columns(names: Iterable[str]) -> PgssColumns:
    """Map the columns a view, table or export header has onto the fields we read.

    Matching ignores case and surrounding blanks; the returned names are lower case.
    Raises SourceError when there is no query or no calls column.

    >>> discover_columns(["Query", "CALLS", "total_exec_time", "total_plan_time"]).total
    ('total_exec_time', 'total_plan_time')
    >>> discover_columns(["query", "calls", "mean_time"]).mean
    'mean_time'
    """
    present = {n.strip().lower() for n in names}

    def pick(field: str) -> str | None:
        return next((a for a in _ALIASES[field] if a in present), None)

    query, calls = pick("query"), pick("calls")
    if query is None or calls is None:
        missing = " and ".join(f for f, c in (("query", query), ("calls", calls)) if c is None)
        raise SourceError(
            f"no {missing} column among {', '.join(sorted(present)) or 'no columns'}",
            hint="a pg_stat_statements export needs at least the query and calls columns",
        )
    total = next((tuple(c for c in group if c in present) for group in _TOTALS
                  if group[0] in present), ())
    return PgssColumns(
        query=query, calls=calls, total=total,
        mean=None if total else next((m for m in _MEANS if m in present), None),
        max_time=pick("max_time"), queryid=pick("queryid"), rows=pick("rows"),
        shared_blks_hit=pick("shared_blks_hit"), shared_blks_read=pick("shared_blks_read"),
        database=pick("database"), user=pick("user"), dbid=pick("dbid"),
        userid=pick("userid"), stats_since=pick("stats_since"),
    )  # fmt: skip


# --- one row -> Statement or Skipped ----------------------------------------------------------


class _BadValue(ValueError):
    pass


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "\\N"))


def _int(value: object, name: str) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise _BadValue(f"{name} is not a number: {value!r}")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        number = float(text)  # 1e3, 12.0: some exporters write counters as floats
    except ValueError:
        raise _BadValue(f"{name} is not a number: {_show(value)}") from None
    if not math.isfinite(number) or number != int(number):
        raise _BadValue(f"{name} is not a whole number: {_show(value)}")
    return int(number)


def _float(value: object, name: str) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise _BadValue(f"{name} is not a number: {value!r}")
    try:
        number = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        raise _BadValue(f"{name} is not a number: {_show(value)}") from None
    if not math.isfinite(number) or number < 0:
        raise _BadValue(f"{name} is not a duration: {_show(value)}")
    return number


def _text(value: object) -> str | None:
    return None if _blank(value) else str(value)


def _show(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def to_item(row: Mapping[str, Any], cols: PgssColumns, source: str) -> Statement | Skipped:
    """One pg_stat_statements row (live values or export strings) as a Statement or Skipped.

    >>> cols = discover_columns(["query", "calls"])
    >>> to_item({"query": "<insufficient privilege>", "calls": 1}, cols, "s").reason[:22]
    'query text not visible'
    >>> to_item({"query": "VACUUM t", "calls": 4}, cols, "s").reason
    'utility statement: nothing to index'
    """
    raw = row.get(cols.query)
    text = "" if _blank(raw) else str(raw).strip()
    try:
        calls = _int(row.get(cols.calls), "calls")
        if calls is None or calls < 0:
            raise _BadValue(f"calls is missing or negative: {_show(row.get(cols.calls))}")
        total = _total(row, cols, calls)
        item = Statement(
            text=text, source=source, calls=calls, total_time_ms=total,
            max_time_ms=_float(row.get(cols.max_time), "max time") if cols.max_time else None,
            first_seen=_text(row.get(cols.stats_since)) if cols.stats_since else None,
            queryid=_int(row.get(cols.queryid), "queryid") if cols.queryid else None,
            database=_text(row.get(cols.database)) if cols.database else None,
            user=_text(row.get(cols.user)) if cols.user else None,
            rows=_int(row.get(cols.rows), "rows") if cols.rows else None,
            shared_blks_hit=_count(row, cols.shared_blks_hit),
            shared_blks_read=_count(row, cols.shared_blks_read),
        )  # fmt: skip
    except _BadValue as exc:
        return Skipped(source, "bad row", text, detail=str(exc))
    return classify(item)


def _count(row: Mapping[str, Any], column: str | None) -> int | None:
    return _int(row.get(column), column) if column else None


def _total(row: Mapping[str, Any], cols: PgssColumns, calls: int) -> float | None:
    if cols.total:
        parts = [_float(row.get(c), c) for c in cols.total]
        known = [p for p in parts if p is not None]
        return sum(known) if known else None
    if cols.mean:
        mean = _float(row.get(cols.mean), cols.mean)
        return None if mean is None else mean * calls
    return None


def classify(item: Statement) -> Statement | Skipped:
    """Keep a statement the advisor can cost; skip hidden, empty, truncated, utility texts."""
    text = item.text
    if not text:
        return Skipped(item.source, "no query text (the texts file was reset or unreadable, "
                       "or the export left it out)", "", Outcome.NOT_ADVISED)
    if text == HIDDEN_TEXT:
        return Skipped(item.source, "query text not visible to this role", "",
                       Outcome.NOT_ADVISED, _PRIVILEGE_HINT)
    try:
        parsed = parse_statement(text)
    except StatementError as exc:
        if exc.position >= len(text.rstrip()) or exc.reason.startswith("unterminated"):
            return Skipped(item.source, f"truncated query text ({exc.reason} at its end)", text)
        return Skipped(item.source, "unparseable", text, detail=exc.message)
    if parsed.kind == "utility":
        return Skipped(item.source, "utility statement", text, Outcome.NOT_ADVISED,
                       "nothing to index")
    return item


# --- live -------------------------------------------------------------------------------------


def read_pgss_live(
    dsn: str,
    *,
    min_calls: int = 1,
    statement_timeout_ms: int = Guards.statement_timeout_ms,
    all_databases: bool = False,
    relation: str | None = None,
) -> Iterator[Statement | Skipped]:
    """Rows of pg_stat_statements on a live server, read in one READ ONLY transaction.

    Only the connected database's rows unless `all_databases`. `relation` reads another
    table or view with pg_stat_statements' columns instead (a snapshot table, say; a name as
    PostgreSQL resolves it, e.g. ``monitoring.pgss_snapshot``). Most expensive first.
    Raises ExtensionMissing when the extension is not created or not preloaded.
    """
    conn = connect(dsn, guards=Guards(statement_timeout_ms=statement_timeout_ms),
                   application_name="indexadvisor pg_stat_statements")
    try:
        rows, cols, source = _fetch(conn, dsn, min_calls, all_databases, relation)
    finally:
        conn.close()
    items = [to_item(row, cols, f"{source}:{row[cols.queryid] if cols.queryid else i + 1}")
             for i, row in enumerate(rows)]
    yield from sorted(items, key=_order)


def _order(item: Statement | Skipped) -> tuple[int, float, str]:
    if isinstance(item, Skipped):
        return (1, 0.0, item.source)
    return (0, -(item.total_time_ms or 0.0), item.source)


def _fetch(conn: psycopg.Connection, dsn: str, min_calls: int, all_databases: bool,
           relation: str | None) -> tuple[list[dict[str, Any]], PgssColumns, str]:
    schema, name = "", relation or VIEW
    try:
        with conn.transaction(), conn.cursor() as cur:
            schema, name = _locate(cur, relation)
            cur.execute(
                "SELECT a.attname FROM pg_catalog.pg_attribute a"
                " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
                " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0"
                " AND NOT a.attisdropped ORDER BY a.attnum",
                (schema, name),
            )
            cols = discover_columns(r[0] for r in cur.fetchall())
            cur.execute(_select(cols, schema, name, all_databases), {"min_calls": min_calls})
            names = [d.name for d in cur.description or ()]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
            cols = discover_columns(names)  # now with datname and rolname from the joins
    except pg_errors.ObjectNotInPrerequisiteState as exc:
        raise ExtensionMissing(f"pg_stat_statements cannot be read: {exc.diag.message_primary}",
                               hint=_INSTALL_HINT) from None
    except pg_errors.InsufficientPrivilege as exc:
        raise SourceError(f"not allowed to read {name}: {exc.diag.message_primary}",
                          hint=f"GRANT SELECT ON {name} (and USAGE on its schema) to the role"
                          ) from None
    except pg_errors.QueryCanceled:
        raise SourceError(f"reading {name} took longer than the statement timeout",
                          hint="raise it (statement_timeout_ms) or lower "
                          "pg_stat_statements.max") from None
    except psycopg.Error as exc:
        raise SourceError(f"cannot read {name} from {redact_dsn(dsn)}: "
                          f"{redact_dsn(str(exc).strip())}") from None
    source = VIEW if relation is None else f"{schema}.{name}"
    return rows, cols, source


def _locate(cur: psycopg.Cursor[Any], relation: str | None) -> tuple[str, str]:
    """(schema, name) of the view to read: the extension's, or the given relation."""
    if relation is not None:
        cur.execute(
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
            " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = pg_catalog.to_regclass(%s)",
            (relation,),
        )
        found = cur.fetchone()
        if found is None:
            raise SourceError(f"no table or view {relation!r} in this database")
        return str(found[0]), str(found[1])
    cur.execute(
        "SELECT n.nspname, pg_catalog.current_database() FROM pg_catalog.pg_extension e"
        " JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace"
        " WHERE e.extname = 'pg_stat_statements'"
    )
    found = cur.fetchone()
    if found is None:
        cur.execute("SELECT pg_catalog.current_database(),"
                    " pg_catalog.current_setting('shared_preload_libraries')")
        db, preload = cur.fetchone() or ("?", "")
        loaded = "pg_stat_statements" in str(preload)
        raise ExtensionMissing(
            f"the pg_stat_statements extension is not created in database {db}"
            + ("" if loaded else " (and not in shared_preload_libraries)"),
            hint="run CREATE EXTENSION pg_stat_statements in this database" if loaded
            else _INSTALL_HINT,
        )
    return str(found[0]), VIEW


def _select(cols: PgssColumns, schema: str, name: str, all_databases: bool) -> sql.Composed:
    """SELECT the discovered columns, with database and role names, filtered by calls."""
    fields: list[sql.Composable] = [sql.SQL("s.{}").format(sql.Identifier(c))
                                    for c in cols.names if c not in (cols.database, cols.user)]
    # Names: the relation's own column when it has one, else the oid joined to the catalog.
    for own, oid, alias, label in ((cols.database, cols.dbid, "d", "datname"),
                                   (cols.user, cols.userid, "r", "rolname")):
        if own:
            fields.append(sql.SQL("s.{} AS {}").format(sql.Identifier(own),
                                                       sql.Identifier(label)))
        elif oid:
            fields.append(sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(label)))
    query = sql.SQL("SELECT {} FROM {} s").format(sql.SQL(", ").join(fields),
                                                  sql.Identifier(schema, name))
    if cols.dbid:
        query += sql.SQL(" LEFT JOIN pg_catalog.pg_database d ON d.oid = s.{}").format(
            sql.Identifier(cols.dbid))
    if cols.userid:
        query += sql.SQL(" LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.{}").format(
            sql.Identifier(cols.userid))
    query += sql.SQL(" WHERE s.{} >= %(min_calls)s").format(sql.Identifier(cols.calls))
    if not all_databases and cols.dbid:
        query += sql.SQL(" AND s.{} = (SELECT oid FROM pg_catalog.pg_database"
                         " WHERE datname = pg_catalog.current_database())").format(
            sql.Identifier(cols.dbid))
    elif not all_databases and cols.database:
        query += sql.SQL(" AND s.{} = pg_catalog.current_database()").format(
            sql.Identifier(cols.database))
    return query


# --- exports ----------------------------------------------------------------------------------

_FIELD_LIMIT = 1 << 28  # csv's default (128 KiB) is shorter than long query texts
_JSON_KEY = re.compile(rb'"(query|calls)"\s*:')


def looks_like_pgss_export(head: bytes) -> bool:
    """Whether a file's first bytes look like a pg_stat_statements export (CSV or JSON).

    >>> looks_like_pgss_export(b"userid,dbid,queryid,query,calls,total_exec_time\\n10,5,")
    True
    >>> looks_like_pgss_export(b'[{"query": "SELECT 1", "calls": 3}]')
    True
    >>> looks_like_pgss_export(b"2024-05-01 10:00:00 UTC [12] LOG:  duration: 1 ms")
    False
    """
    data = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if data[:1] in (b"[", b"{"):
        return {m.group(1) for m in _JSON_KEY.finditer(data)} == {b"query", b"calls"}
    first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
    try:
        names = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    lowered = {n.strip().lower() for n in names}
    return bool(lowered & set(_ALIASES["query"])) and bool(lowered & set(_ALIASES["calls"]))


def read_pgss_export(path: Path, *, database: str | None = None
                     ) -> Iterator[Statement | Skipped]:
    """Rows of a pg_stat_statements export: CSV with a header, a JSON array, or JSON lines.

    Good rows come out with ``file:line`` sources in file order; bad rows become Skipped.
    `database` keeps only that database's rows when the export names databases.
    Raises SourceError when the file cannot be read or has no query / calls column.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        yield Skipped(f"{path}:{line}", "invalid UTF-8; the undecodable bytes were replaced")
        text = raw.decode("utf-8-sig", "replace")
    if text.lstrip()[:1] in ("[", "{"):
        yield from _json_items(text, path, database)
        return
    records = _csv_records(text, path)
    cols = discover_columns(next(records))  # a header without query or calls fails here
    for source, record in records:
        if isinstance(record, Skipped):
            yield record
        elif database is None or not cols.database or record.get(cols.database) == database:
            yield to_item(record, cols, source)


def _json_items(text: str, path: Path, database: str | None) -> Iterator[Statement | Skipped]:
    """JSON objects may differ in keys: columns are discovered per distinct key set."""
    seen: dict[frozenset[str], PgssColumns | SourceError] = {}
    for source, record in _json_records(text, path):
        if isinstance(record, Skipped):
            yield record
            continue
        keys = frozenset(record)
        if keys not in seen:
            try:
                seen[keys] = discover_columns(keys)
            except SourceError as exc:
                seen[keys] = exc
        cols = seen[keys]
        if isinstance(cols, SourceError):
            yield Skipped(source, "not a pg_stat_statements row", detail=cols.message)
        elif database is None or not cols.database or record.get(cols.database) == database:
            yield to_item(record, cols, source)


def _csv_records(text: str, path: Path) -> Iterator[Any]:
    """The header (a list of lower-cased names), then ``(file:line, row dict or Skipped)``."""
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise SourceError(f"{path} is empty", hint="export with \\copy ... csv header") from None
    except csv.Error as exc:
        raise SourceError(f"{path}:1: unreadable CSV header: {exc}") from None
    yield header
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield f"{path}:{line}", Skipped(f"{path}:{line}", "unreadable CSV", detail=str(exc))
            line = reader.line_num + 1
            continue
        source = f"{path}:{line}"
        line = reader.line_num + 1
        if not values or values == [""]:
            continue
        if len(values) != len(header):
            yield source, Skipped(source, f"expected {len(header)} fields, found {len(values)}",
                                  ",".join(values)[:200])
            continue
        yield source, dict(zip(header, values, strict=True))


def _json_records(text: str, path: Path) -> Iterator[tuple[str, Mapping[str, Any] | Skipped]]:
    """``(file:line, object or Skipped)`` from a JSON array or from JSON lines."""
    stripped = text.lstrip()
    if not stripped.startswith("["):
        for number, physical in enumerate(text.split("\n"), 1):
            if physical.strip():
                source = f"{path}:{number}"
                try:
                    yield source, _record(json.loads(physical), source)
                except json.JSONDecodeError as exc:
                    yield source, Skipped(source, "invalid JSON", physical[:200], detail=exc.msg)
        return
    decoder = json.JSONDecoder()
    pos = len(text) - len(stripped) + 1
    line, counted = 1, 0
    while True:
        while pos < len(text) and (text[pos].isspace() or text[pos] == ","):
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return
        line += text.count("\n", counted, pos)
        counted = pos
        source = f"{path}:{line}"
        try:
            value, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            # The rest of an array cannot be framed any more.
            yield source, Skipped(source, "invalid JSON, the rest of the array is lost",
                                  text[pos:pos + 200], detail=exc.msg)
            return
        yield source, _record(value, source)


def _record(value: object, source: str) -> Mapping[str, Any] | Skipped:
    if not isinstance(value, dict):
        return Skipped(source, f"expected an object, found {type(value).__name__}", "")
    return {str(k).strip().lower(): v for k, v in value.items()}
