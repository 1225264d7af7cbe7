"""5,000 distinct OLTP statements over 100 tables, generated.

Each table ``t000`` ... ``t099`` has an id, eight attributes of different cardinality and
skew, a status and a timestamp; 20,000 rows at scale 1. Fifty statement shapes per table:
point lookups by one or two attributes (with different projections, so each is its own
fingerprint), ranges on the timestamp, lookups with ORDER BY ... LIMIT, and a few UPDATEs and
INSERTs that make the write cost count. Parameters are ``$n`` (as pg_stat_statements shows
them); weights (``-- calls: N``) are skewed, so a few statements dominate.

>>> stmts = statements()
>>> len(stmts), len({text for text, _ in stmts})
(5000, 5000)
"""

from __future__ import annotations

import random

TABLES = 100
PER_TABLE = 50
SEED = 42
ATTRS = ("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8")
# distinct values of each attribute: from nearly unique to a handful
CARDINALITY = {"a1": 20000, "a2": 5000, "a3": 1000, "a4": 200, "a5": 50, "a6": 10, "a7": 3,
               "a8": 2}


def table(n: int) -> str:
    return f"t{n:03d}"


def schema_sql() -> str:
    """100 tables with a primary key each, nothing else indexed."""
    parts = []
    for n in range(TABLES):
        cols = ", ".join(f"{a} int NOT NULL" for a in ATTRS)
        parts.append(f"CREATE TABLE {table(n)} (id bigint PRIMARY KEY, {cols}, "
                     "status text NOT NULL, note text, created_at timestamptz NOT NULL);")
    return "\n".join(parts)


def data_sql(scale: float = 1.0) -> list[str]:
    """Deterministic, skewed rows (``random() ^ 2`` leans towards small values)."""
    rows = max(100, int(20000 * scale))
    out = ["SELECT setseed(0.17)"]
    for n in range(TABLES):
        values = ", ".join(f"floor({CARDINALITY[a]} * random() ^ 2)::int" for a in ATTRS)
        out.append(
            f"INSERT INTO {table(n)} SELECT g, {values}, "
            "(ARRAY['new', 'active', 'done', 'done', 'done', 'failed'])"
            "[1 + floor(6 * random())::int], md5(g::text), "
            "TIMESTAMPTZ '2025-01-01' + g * interval '1 minute' "
            f"FROM generate_series(1, {rows}) g")
    out.append("VACUUM ANALYZE")
    return out


def _shapes(t: str, rng: random.Random) -> list[str]:
    """Fifty distinct statements on one table."""
    out: list[str] = []
    projections = ["*", "id", "id, status", "id, created_at", "status, note",
                   "id, a1, a2", "count(*)"]
    for a in ATTRS:  # one attribute, several projections: 8 x 3 = 24
        for proj in rng.sample(projections, 3):
            out.append(f"SELECT {proj} FROM {t} WHERE {a} = $1")
    pairs = [(x, y) for i, x in enumerate(ATTRS) for y in ATTRS[i + 1:]]
    for x, y in rng.sample(pairs, 10):  # two attributes: 10
        out.append(f"SELECT * FROM {t} WHERE {x} = $1 AND {y} = $2")
    for a in rng.sample(ATTRS, 6):  # ORDER BY ... LIMIT: 6
        out.append(f"SELECT id, status FROM {t} WHERE {a} = $1 ORDER BY created_at DESC LIMIT 20")
    out.append(f"SELECT * FROM {t} WHERE created_at >= $1 AND created_at < $2")  # ranges: 2
    out.append(f"SELECT count(*) FROM {t} WHERE status = $1 AND created_at >= $2")
    for a in rng.sample(ATTRS, 3):  # IN lists: 3
        out.append(f"SELECT id FROM {t} WHERE {a} IN ($1, $2, $3)")
    out.append(f"UPDATE {t} SET status = $1 WHERE id = $2")  # writes: 5
    out.append(f"UPDATE {t} SET note = $1, {rng.choice(ATTRS)} = $2 WHERE id = $3")
    out.append(f"INSERT INTO {t} (id, {', '.join(ATTRS)}, status, created_at) VALUES "
               f"({', '.join(f'${i}' for i in range(1, 12))}, now())")
    out.append(f"DELETE FROM {t} WHERE id = $1")
    out.append(f"SELECT * FROM {t} WHERE id = $1")
    return out[:PER_TABLE]


def statements(seed: int = SEED) -> list[tuple[str, int]]:
    """(text, calls) for 5,000 distinct statements; calls are Zipf-like per table."""
    rng = random.Random(seed)
    out = []
    for n in range(TABLES):
        weight = max(1, int(10000 / (n + 1)))
        for text in _shapes(table(n), rng):
            out.append((text, max(1, int(weight * rng.random() ** 2))))
    return out


def workload_sql(seed: int = SEED) -> str:
    """The statements as one .sql file with ``-- calls: N`` weights."""
    return "\n".join(f"-- calls: {calls}\n{text};" for text, calls in statements(seed)) + "\n"
