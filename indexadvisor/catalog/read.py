"""One read of pg_catalog per run, in one read-only transaction: tables, columns, indexes,
partitions, statistics, sizes, write counters, installed extensions. Later passes never query
the catalog again.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from .build import build_catalog
from .values import Catalog

_SETTINGS = """
SELECT current_setting('server_version_num')::int AS num,
       current_setting('server_version') AS version,
       (SELECT extversion FROM pg_extension WHERE extname = 'hypopg') AS hypopg,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'hypopg') AS available,
       current_schemas(false) AS search_path
"""

_TABLES = """
SELECT c.oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
       c.reltuples::float8 AS rows, c.relpages AS pages, c.relallvisible AS all_visible,
       c.relispartition AS is_partition,
       pg_table_size(c.oid) AS size,
       s.n_tup_ins, s.n_tup_upd, s.n_tup_hot_upd, s.n_tup_del, s.seq_scan, s.idx_scan
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
"""

_COLUMNS = """
SELECT a.attrelid AS oid, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       a.attnotnull AS not_null
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm', 'f', 'v')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY a.attrelid, a.attnum
"""

_STATS = """
SELECT schemaname AS schema, tablename AS name, attname AS column, null_frac, n_distinct,
       avg_width, correlation, most_common_vals::text::text[] AS mcv,
       most_common_freqs AS mcf, histogram_bounds::text::text[] AS hist, inherited
FROM pg_stats
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
"""

_INDEXES = """
SELECT i.indexrelid, i.indrelid AS oid, ic.relname AS name, n.nspname AS schema,
       am.amname AS method, i.indisunique AS unique, i.indisprimary AS primary,
       i.indisvalid AS valid, i.indnkeyatts AS nkey, i.indoption::int2[] AS options,
       ARRAY(SELECT CASE WHEN k.attnum = 0 THEN NULL ELSE a.attname END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       ARRAY(SELECT CASE WHEN k.attnum = 0
                         THEN pg_get_indexdef(i.indexrelid, k.ord::int, true) END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             ORDER BY k.ord) AS expressions,
       pg_get_expr(i.indpred, i.indrelid) AS predicate,
       pg_get_indexdef(i.indexrelid) AS definition,
       pg_relation_size(i.indexrelid) AS size,
       con.conname AS constraint_name,
       s.idx_scan
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""

_INHERITS = """
SELECT inhrelid AS child, inhparent AS parent FROM pg_inherits
"""

_INDEX_FLAGS = """
SELECT i.indexrelid, i.indisready AS ready, i.indisreplident AS replident,
       i.indisclustered AS clustered, i.indimmediate AS immediate,
       (SELECT inhparent FROM pg_inherits WHERE inhrelid = i.indexrelid LIMIT 1) AS parent,
       EXISTS (SELECT FROM pg_constraint x
               WHERE x.conindid = i.indexrelid AND x.contype = 'x') AS exclusion,
       ARRAY(SELECT f.conname FROM pg_constraint f
             WHERE f.conindid = i.indexrelid AND f.contype = 'f' ORDER BY 1)::text[] AS fks,
       EXISTS (SELECT FROM pg_stat_progress_create_index p
               WHERE p.index_relid = i.indexrelid) AS building
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ic.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
"""

_STATS_WINDOW = """
SELECT (SELECT stats_reset FROM pg_stat_database WHERE datid = (
            SELECT oid FROM pg_database WHERE datname = current_database())) AS stats_reset,
       now() AS read_at,
       (SELECT count(*) FROM pg_stat_replication)::int AS replicas
"""


# Views are read through: a query on a view is analyzed with the view's definition in its
# place (analyze.views). pg_get_viewdef qualifies what this session's search_path would not
# find, the same search_path the analysis resolves names with.
_VIEWS = """
SELECT c.oid, n.nspname AS schema, c.relname AS name, pg_get_viewdef(c.oid) AS definition
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'v'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_temp%'
"""

# System relations, only their names: a query on them gets its own verdict, not "unknown".
_SYSTEM = """
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('pg_catalog', 'information_schema') AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
"""


_EXTENSIONS = """
SELECT extname FROM pg_extension ORDER BY 1
"""


def read_catalog(conn: psycopg.Connection) -> Catalog:
    """Read the catalog once, in one read-only transaction, and freeze it."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        settings = cur.execute(_SETTINGS).fetchone()
        assert settings is not None
        tables = cur.execute(_TABLES).fetchall()
        columns = cur.execute(_COLUMNS).fetchall()
        stats = cur.execute(_STATS).fetchall()
        indexes = cur.execute(_INDEXES).fetchall()
        inherits = cur.execute(_INHERITS).fetchall()
        flags = cur.execute(_INDEX_FLAGS).fetchall()
        window = cur.execute(_STATS_WINDOW).fetchone()
        extensions = [r["extname"] for r in cur.execute(_EXTENSIONS).fetchall()]
        views = cur.execute(_VIEWS).fetchall()
        system = cur.execute(_SYSTEM).fetchall()
    return build_catalog(settings, tables, columns, stats, indexes, inherits,
                         index_flags=flags, stats_window=window, extensions=extensions,
                         views=views, system=system)
