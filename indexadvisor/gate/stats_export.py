"""`indexadvisor stats export`: the planner's view of a production database, as a JSON file.

Read-only (one read-only transaction on a guarded connection): relation sizes from pg_class
(tables, materialized views and indexes), column statistics from pg_stats (what any user who
may read a column sees; no superuser needed), and the planner settings. Values can be masked
per column (``--mask 'public.users.email'``, globs allowed, ``'*'`` for all): a masked column
keeps its null fraction, width, distinct count and correlation, but no values (its most
common values, histogram and element statistics are left out).

>>> masked("public", "users", "email", ("public.users.*",)), masked("s", "t", "c", ())
(True, False)
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row

FORMAT = "indexadvisor-stats"
VERSION = 1

#: Settings the planner's estimates depend on; recorded, and set in the sandbox on import.
PLANNER_SETTINGS = (
    "seq_page_cost", "random_page_cost", "cpu_tuple_cost", "cpu_index_tuple_cost",
    "cpu_operator_cost", "parallel_setup_cost", "parallel_tuple_cost", "effective_cache_size",
    "work_mem", "hash_mem_multiplier", "max_parallel_workers_per_gather",
    "min_parallel_table_scan_size", "min_parallel_index_scan_size", "default_statistics_target",
    "from_collapse_limit", "join_collapse_limit", "geqo", "geqo_threshold",
    "constraint_exclusion", "cursor_tuple_fraction", "enable_bitmapscan", "enable_hashagg",
    "enable_hashjoin", "enable_indexonlyscan", "enable_indexscan", "enable_material",
    "enable_memoize", "enable_mergejoin", "enable_nestloop", "enable_parallel_append",
    "enable_parallel_hash", "enable_partition_pruning", "enable_partitionwise_join",
    "enable_partitionwise_aggregate", "enable_seqscan", "enable_sort", "enable_tidscan",
    "enable_incremental_sort", "jit",
)

_RELATIONS = """
SELECT n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       t.relname AS "table", c.relpages AS pages, c.reltuples::float8 AS tuples,
       c.relallvisible AS allvisible
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY 1, 2
"""

_COLUMNS = """
SELECT schemaname AS schema, tablename AS "table", attname AS "column", inherited,
       null_frac, avg_width, n_distinct, most_common_vals::text AS most_common_vals,
       most_common_freqs, histogram_bounds::text AS histogram_bounds, correlation,
       most_common_elems::text AS most_common_elems, most_common_elem_freqs,
       elem_count_histogram
FROM pg_stats
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3, 4
"""

#: pg_stats columns that hold data values (left out of a masked column).
VALUE_KEYS = ("most_common_vals", "most_common_freqs", "histogram_bounds",
              "most_common_elems", "most_common_elem_freqs", "elem_count_histogram")


def masked(schema: str, table: str, column: str, patterns: Sequence[str]) -> bool:
    """Whether `schema.table.column` matches one of the --mask globs."""
    name = f"{schema}.{table}.{column}"
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(f"{table}.{column}", p)
               for p in patterns)


def _number(value: Any) -> Any:
    return None if value is None else float(value)


def read_stats(conn: psycopg.Connection, mask: Sequence[str] = ()) -> dict[str, Any]:
    """The stats document of the connected database (read only)."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        head = cur.execute("SELECT current_setting('server_version') AS v,"
                           " current_setting('server_version_num')::int AS n").fetchone()
        assert head is not None
        names = cur.execute("SELECT name FROM pg_settings WHERE name = ANY(%s)",
                            (list(PLANNER_SETTINGS),)).fetchall()
        settings = {r["name"]: cur.execute("SELECT current_setting(%s) AS s",
                                           (r["name"],)).fetchone()["s"]  # type: ignore[index]
                    for r in names}
        relations = cur.execute(_RELATIONS).fetchall()
        columns = cur.execute(_COLUMNS).fetchall()
    out_columns = []
    for row in columns:
        item: dict[str, Any] = {
            "schema": row["schema"], "table": row["table"], "column": row["column"],
            "inherited": bool(row["inherited"]), "null_frac": _number(row["null_frac"]),
            "avg_width": int(row["avg_width"] or 0), "n_distinct": _number(row["n_distinct"]),
            "correlation": _number(row["correlation"]),
        }
        if masked(row["schema"], row["table"], row["column"], mask):
            item["masked"] = True
        else:
            for key in VALUE_KEYS:
                value = row[key]
                if value is not None:
                    item[key] = [float(v) for v in value] if isinstance(value, list) else value
        out_columns.append(item)
    return {
        "format": FORMAT,
        "version": VERSION,
        "server_version": head["v"],
        "server_version_num": head["n"],
        "settings": dict(sorted(settings.items())),
        "relations": [
            {"schema": r["schema"], "name": r["name"],
             "kind": "index" if r["kind"] in ("i", "I") else "table",
             **({"table": r["table"]} if r["table"] else {}),
             "pages": int(r["pages"]), "tuples": float(r["tuples"]),
             "allvisible": int(r["allvisible"])}
            for r in relations],
        "columns": out_columns,
    }


def render_stats(doc: dict[str, Any]) -> str:
    """The stats file's text: one relation or column per line, sorted (diffs stay small)."""
    head = {k: v for k, v in doc.items() if k not in ("relations", "columns")}
    lines = [json.dumps(head, ensure_ascii=False)[:-1] + ","]
    for key in ("relations", "columns"):
        items = doc.get(key, [])
        lines.append(f' "{key}": [')
        lines += [("  " + json.dumps(item, ensure_ascii=False)
                   + ("," if i < len(items) - 1 else "")) for i, item in enumerate(items)]
        lines.append(" ]," if key == "relations" else " ]")
    return "\n".join(lines) + "\n}\n"
