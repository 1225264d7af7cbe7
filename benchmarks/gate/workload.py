"""The gate benchmark's workload and schema: the 22 TPC-H queries, parameter variants of
them, and predicate variants (point lookups, ranges, joins, sorts, writes) on every table:
more than 100 watched statements. Deterministic: the same files every run."""

from __future__ import annotations

from pathlib import Path

from benchmarks.tpch import read_queries
from benchmarks.tpch.load import TABLES, columns

#: The schema the application has before the migration: keys and the usual FK indexes.
INDEXES = """
ALTER TABLE region ADD PRIMARY KEY (r_regionkey);
ALTER TABLE nation ADD PRIMARY KEY (n_nationkey);
ALTER TABLE part ADD PRIMARY KEY (p_partkey);
ALTER TABLE supplier ADD PRIMARY KEY (s_suppkey);
ALTER TABLE partsupp ADD PRIMARY KEY (ps_partkey, ps_suppkey);
ALTER TABLE customer ADD PRIMARY KEY (c_custkey);
ALTER TABLE orders ADD PRIMARY KEY (o_orderkey);
ALTER TABLE lineitem ADD PRIMARY KEY (l_orderkey, l_linenumber);
CREATE INDEX lineitem_l_partkey_idx ON lineitem (l_partkey);
CREATE INDEX lineitem_l_suppkey_idx ON lineitem (l_suppkey);
CREATE INDEX lineitem_l_shipdate_idx ON lineitem (l_shipdate);
CREATE INDEX orders_o_custkey_idx ON orders (o_custkey);
CREATE INDEX orders_o_orderdate_idx ON orders (o_orderdate);
CREATE INDEX partsupp_ps_suppkey_idx ON partsupp (ps_suppkey);
CREATE INDEX customer_c_nationkey_idx ON customer (c_nationkey);
CREATE INDEX supplier_s_nationkey_idx ON supplier (s_nationkey);
"""

#: The migration under check in a sandbox: drops an index TPC-H's joins read, adds a column,
#: adds an index nothing reads.
MIGRATION = """SET lock_timeout = '2s';
DROP INDEX CONCURRENTLY lineitem_l_partkey_idx;
ALTER TABLE orders ADD COLUMN o_note text;
CREATE INDEX CONCURRENTLY orders_o_orderpriority_idx ON orders (o_orderpriority);
"""

#: The migration checked against the shared staging database: index DDL only, which the gate
#: simulates with HypoPG (no lock taken, nothing written there).
STAGING_MIGRATION = """SET lock_timeout = '100ms';
CREATE INDEX CONCURRENTLY lineitem_l_partkey_idx ON lineitem (l_partkey);
CREATE INDEX CONCURRENTLY orders_o_custkey_idx ON orders (o_custkey);
"""

#: (template, values): each value is one statement; the same template is one fingerprint.
TEMPLATES: tuple[tuple[str, tuple[object, ...]], ...] = (
    ("SELECT * FROM lineitem WHERE l_orderkey = {}", (7, 1_000_001, 5_999_975)),
    ("SELECT * FROM lineitem WHERE l_partkey = {}", (1, 99_999, 155_190)),
    ("SELECT * FROM lineitem WHERE l_suppkey = {}", (7, 5_000)),
    ("SELECT count(*) FROM lineitem WHERE l_shipdate BETWEEN DATE '{}' AND DATE '{}' + 7",
     (("1995-03-01", "1995-03-01"), ("1998-11-01", "1998-11-01"))),
    ("SELECT l_returnflag, sum(l_quantity) FROM lineitem WHERE l_receiptdate > DATE '{}' "
     "GROUP BY l_returnflag", ("1998-06-01", "1993-01-01")),
    ("SELECT * FROM orders WHERE o_orderkey = {}", (1, 3_000_000, 5_999_968)),
    ("SELECT * FROM orders WHERE o_custkey = {}", (1, 74_999, 149_999)),
    ("SELECT * FROM orders WHERE o_custkey = {} ORDER BY o_orderdate DESC LIMIT 10", (4, 1000)),
    ("SELECT * FROM orders WHERE o_orderdate = DATE '{}'", ("1995-01-01", "1998-08-02")),
    ("SELECT o_orderpriority, count(*) FROM orders WHERE o_orderdate >= DATE '{}' "
     "GROUP BY o_orderpriority", ("1998-07-01", "1992-01-01")),
    ("SELECT * FROM orders WHERE o_orderstatus = '{}' AND o_totalprice > {}",
     (("P", 400000), ("F", 500000))),
    ("SELECT * FROM customer WHERE c_custkey = {}", (1, 100_000)),
    ("SELECT * FROM customer WHERE c_nationkey = {}", (3, 24)),
    ("SELECT c_mktsegment, count(*) FROM customer WHERE c_acctbal > {} GROUP BY 1", (9000, 0)),
    ("SELECT * FROM part WHERE p_partkey = {}", (1, 199_999)),
    ("SELECT * FROM part WHERE p_brand = '{}' AND p_container = '{}'",
     (("Brand#23", "MED BOX"), ("Brand#11", "SM CASE"))),
    ("SELECT count(*) FROM part WHERE p_type LIKE '{}%'", ("PROMO", "STANDARD")),
    ("SELECT * FROM partsupp WHERE ps_partkey = {}", (1, 150_000)),
    ("SELECT * FROM partsupp WHERE ps_suppkey = {}", (10, 9_999)),
    ("SELECT * FROM supplier WHERE s_suppkey = {}", (1, 10_000)),
    ("SELECT * FROM supplier WHERE s_nationkey = {}", (5, 17)),
    ("SELECT o.o_orderkey, sum(l.l_extendedprice) FROM orders o JOIN lineitem l "
     "ON l.l_orderkey = o.o_orderkey WHERE o.o_custkey = {} GROUP BY o.o_orderkey", (10, 88_888)),
    ("SELECT c.c_name, o.o_totalprice FROM customer c JOIN orders o ON o.o_custkey = c.c_custkey "
     "WHERE c.c_custkey = {}", (42, 140_000)),
    ("SELECT p.p_name, ps.ps_supplycost FROM part p JOIN partsupp ps ON ps.ps_partkey = "
     "p.p_partkey WHERE p.p_partkey = {}", (17, 160_000)),
    ("SELECT s.s_name, sum(l.l_quantity) FROM supplier s JOIN lineitem l ON l.l_suppkey = "
     "s.s_suppkey WHERE s.s_suppkey = {} GROUP BY s.s_name", (3, 7_777)),
    ("SELECT p.p_name, l.l_quantity FROM part p JOIN lineitem l ON l.l_partkey = p.p_partkey "
     "WHERE p.p_partkey = {}", (5, 120_000)),
    ("SELECT n.n_name, count(*) FROM nation n JOIN customer c ON c.c_nationkey = n.n_nationkey "
     "WHERE n.n_regionkey = {} GROUP BY n.n_name", (1, 3)),
    ("SELECT * FROM lineitem WHERE l_shipdate = DATE '{}' AND l_discount > {}",
     (("1996-01-10", 0.09), ("1992-02-01", 0.0))),
    ("SELECT count(*) FROM orders WHERE o_clerk = '{}'", ("Clerk#000000001", "Clerk#000000999")),
    ("SELECT ps_suppkey, sum(ps_availqty) FROM partsupp WHERE ps_supplycost < {} GROUP BY 1 "
     "ORDER BY 2 DESC LIMIT 5", (10, 900)),
    ("UPDATE orders SET o_comment = 'checked' WHERE o_orderkey = {}", (32, 4_000_000)),
    ("UPDATE lineitem SET l_comment = 'checked' WHERE l_orderkey = {} AND l_linenumber = 1",
     (32,)),
    ("DELETE FROM partsupp WHERE ps_partkey = {} AND ps_suppkey = {}", ((1, 2),)),
)

#: TPC-H parameter variants: (query, literal in its text, other values).
TPCH_VARIANTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("q06", "'1994-01-01'", ("'1993-01-01'", "'1997-01-01'")),
    ("q03", "'BUILDING'", ("'MACHINERY'", "'AUTOMOBILE'")),
    ("q05", "'ASIA'", ("'EUROPE'", "'AMERICA'")),
    ("q10", "'1993-10-01'", ("'1994-04-01'", "'1995-01-01'")),
    ("q12", "'MAIL'", ("'AIR'",)),
    ("q14", "'1995-09-01'", ("'1996-03-01'", "'1993-05-01'")),
    ("q04", "'1993-07-01'", ("'1996-10-01'",)),
    ("q19", "'Brand#12'", ("'Brand#45'",)),
)


def _fill(template: str, value: object) -> str:
    return template.format(*value) if isinstance(value, tuple) else template.format(value)


def write_workload(folder: Path) -> list[Path]:
    """The workload files; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    queries = read_queries()
    tpch = "".join(f"-- calls: 10\n{text.strip().rstrip(';')};\n\n"
                   for text in queries.values())
    variants = []
    for name, literal, others in TPCH_VARIANTS:
        text = queries[name].strip().rstrip(";")
        if literal not in text:
            raise ValueError(f"{name}: no {literal} in the query")
        variants += [text.replace(literal, other, 1) for other in others]
    app = [_fill(t, v) for t, values in TEMPLATES for v in values]
    files = {
        "tpch.sql": tpch,
        "tpch_variants.sql": "".join(f"-- calls: 5\n{v};\n\n" for v in variants),
        "app.sql": "".join(f"-- calls: 100\n{s};\n" for s in app),
    }
    out = []
    for name, text in files.items():
        path = folder / name
        path.write_text(text)
        out.append(path)
    return out


def schema_sql(sf: float = 1) -> str:
    """CREATE TABLE for the 8 tables (no data), then the keys and indexes."""
    parts = []
    for table in TABLES:
        cols = ", ".join(f"{name} {typ} NOT NULL" for name, typ in columns(table, sf))
        parts.append(f"CREATE TABLE {table} ({cols});")
    return "\n".join(parts) + "\n" + INDEXES
