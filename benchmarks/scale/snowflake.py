"""A snowflake schema with skewed data and 120 analytic queries of 5-15 tables, generated.

Schema: four fact tables (sales, returns, inventory, shipments) around dimensions that are
themselves normalised (store -> city -> country -> region, product -> category -> department,
product -> brand, customer -> city, customer -> segment, ...). Data comes from
``generate_series`` with ``setseed``, so every load of a scale gives the same rows; keys are
skewed (a few products, customers and stores carry most sales, recent dates more than old ones)
so that statistics, not averages, decide the plans.

Queries: from a seeded random walk over the join graph: a fact table, a connected set of
4 to 14 dimensions, 1 to 4 filters on dimension attributes (equality, IN, ranges), a GROUP BY
on one to three attributes, ORDER BY the aggregate, LIMIT 100. Every query differs in its
tables or in the shape of its filters, so each is its own fingerprint.

>>> qs = queries()
>>> len(qs) >= 100 and len({q for q in qs}) == len(qs)
True
>>> sizes = [q.count("\\nJOIN ") + 1 for q in qs]
>>> min(sizes) >= 5 and max(sizes) <= 15
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass

SEED = 20261129


@dataclass(frozen=True)
class Dim:
    """A dimension table: its key, its filterable attributes and what it links to."""

    name: str
    alias: str
    key: str
    rows: int
    attrs: tuple[tuple[str, str], ...]  # (column, kind): eq / range / in
    parents: tuple[tuple[str, str], ...] = ()  # (fk column, parent dimension)


DIMS: dict[str, Dim] = {d.name: d for d in (
    Dim("region", "rg", "rg_id", 8, (("rg_name", "eq"),)),
    Dim("country", "co", "co_id", 60, (("co_name", "eq"), ("co_currency", "eq")),
        (("co_region_id", "region"),)),
    Dim("city", "ci", "ci_id", 4000, (("ci_name", "eq"), ("ci_population", "range")),
        (("ci_country_id", "country"),)),
    Dim("store", "st", "st_id", 1500, (("st_format", "eq"), ("st_size", "range"),
                                       ("st_name", "eq")), (("st_city_id", "city"),)),
    Dim("department", "dp", "dp_id", 16, (("dp_name", "eq"),)),
    Dim("category", "ca", "ca_id", 240, (("ca_name", "eq"),),
        (("ca_department_id", "department"),)),
    Dim("brand", "br", "br_id", 1500, (("br_tier", "eq"), ("br_name", "eq"))),
    Dim("product", "pr", "pr_id", 80000, (("pr_color", "in"), ("pr_price", "range"),
                                          ("pr_size", "eq")),
        (("pr_category_id", "category"), ("pr_brand_id", "brand"))),
    Dim("segment", "sg", "sg_id", 12, (("sg_name", "eq"),)),
    Dim("customer", "cu", "cu_id", 300000, (("cu_birth_year", "range"), ("cu_gender", "eq"),
                                            ("cu_email", "eq")),
        (("cu_city_id", "city"), ("cu_segment_id", "segment"))),
    Dim("date_dim", "dd", "dd_id", 3653, (("dd_year", "eq"), ("dd_month", "in"),
                                          ("dd_date", "range"), ("dd_holiday", "eq"))),
    Dim("time_dim", "td", "td_id", 1440, (("td_hour", "range"), ("td_shift", "eq"))),
    Dim("promotion", "pm", "pm_id", 800, (("pm_channel", "eq"), ("pm_discount", "range")),
        (("pm_start_date_id", "date_dim"),)),
    Dim("channel", "ch", "ch_id", 6, (("ch_name", "eq"),)),
    Dim("reason", "re", "re_id", 40, (("re_desc", "eq"),)),
    Dim("supplier", "su", "su_id", 4000, (("su_rating", "eq"),), (("su_city_id", "city"),)),
    Dim("warehouse", "wh", "wh_id", 40, (("wh_name", "eq"),), (("wh_city_id", "city"),)),
)}


@dataclass(frozen=True)
class Fact:
    name: str
    alias: str
    rows: int  # at scale 1
    measure: str
    links: tuple[tuple[str, str], ...]  # (fk column, dimension)


FACTS: dict[str, Fact] = {f.name: f for f in (
    Fact("sales", "sa", 4_000_000, "sa_amount",
         (("sa_date_id", "date_dim"), ("sa_time_id", "time_dim"), ("sa_store_id", "store"),
          ("sa_product_id", "product"), ("sa_customer_id", "customer"),
          ("sa_promotion_id", "promotion"), ("sa_channel_id", "channel"))),
    Fact("returns", "rt", 400_000, "rt_amount",
         (("rt_date_id", "date_dim"), ("rt_store_id", "store"), ("rt_product_id", "product"),
          ("rt_customer_id", "customer"), ("rt_reason_id", "reason"))),
    Fact("inventory", "iv", 1_500_000, "iv_quantity",
         (("iv_date_id", "date_dim"), ("iv_product_id", "product"),
          ("iv_warehouse_id", "warehouse"))),
    Fact("shipments", "sh", 800_000, "sh_cost",
         (("sh_date_id", "date_dim"), ("sh_product_id", "product"),
          ("sh_supplier_id", "supplier"), ("sh_warehouse_id", "warehouse"))),
)}

# Values a filter compares with (the generator draws the same domains; see data()).
COLORS = ("red", "blue", "green", "black", "white", "grey", "pink", "orange", "teal", "navy")
FORMATS = ("mall", "street", "outlet", "kiosk", "online")
TIERS = ("budget", "standard", "premium", "luxury")
SHIFTS = ("night", "morning", "afternoon", "evening")
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "CHF", "SEK")
RATINGS = ("A", "B", "C", "D")
CHANNELS = ("web", "store", "phone", "partner", "catalog", "app")


def _value(dim: Dim, column: str, kind: str, rng: random.Random) -> str:
    """A constant for a filter on `column`, drawn from the generated domain."""
    if column == "rg_name":
        return f"'region {rng.randint(1, 8)}'"
    if column == "co_name":
        return f"'country {rng.randint(1, 60)}'"
    if column == "co_currency":
        return f"'{rng.choice(CURRENCIES)}'"
    if column == "ci_name":
        return f"'city {rng.randint(1, 4000)}'"
    if column == "st_format":
        return f"'{rng.choice(FORMATS)}'"
    if column == "st_name":
        return f"'store {rng.randint(1, 1500)}'"
    if column == "dp_name":
        return f"'department {rng.randint(1, 16)}'"
    if column == "ca_name":
        return f"'category {rng.randint(1, 240)}'"
    if column == "br_tier":
        return f"'{rng.choice(TIERS)}'"
    if column == "br_name":
        return f"'brand {rng.randint(1, 1500)}'"
    if column == "pr_color":
        return ", ".join(f"'{c}'" for c in rng.sample(COLORS, rng.randint(2, 3)))
    if column == "pr_size":
        return str(rng.randint(1, 12))
    if column == "sg_name":
        return f"'segment {rng.randint(1, 12)}'"
    if column == "cu_gender":
        return f"'{rng.choice('FMX')}'"
    if column == "cu_email":
        return f"'customer{rng.randint(1, 300000)}@example.org'"
    if column == "dd_year":
        return str(rng.randint(2016, 2025))
    if column == "dd_month":
        return ", ".join(str(m) for m in sorted(rng.sample(range(1, 13), rng.randint(2, 4))))
    if column == "dd_holiday":
        return rng.choice(("true", "false"))
    if column == "td_shift":
        return f"'{rng.choice(SHIFTS)}'"
    if column == "pm_channel":
        return f"'{rng.choice(CHANNELS)}'"
    if column == "ch_name":
        return f"'{rng.choice(CHANNELS)}'"
    if column == "re_desc":
        return f"'reason {rng.randint(1, 40)}'"
    if column == "su_rating":
        return f"'{rng.choice(RATINGS)}'"
    if column == "wh_name":
        return f"'warehouse {rng.randint(1, 40)}'"
    raise KeyError(column)


_RANGES = {
    "ci_population": (1_000, 5_000_000), "st_size": (100, 20_000), "pr_price": (1, 2_000),
    "cu_birth_year": (1940, 2008), "td_hour": (0, 23), "pm_discount": (0, 60),
}


def _filter(dim: Dim, column: str, kind: str, rng: random.Random) -> str:
    col = f"{dim.alias}.{column}"
    if kind == "eq":
        return f"{col} = {_value(dim, column, kind, rng)}"
    if kind == "in":
        return f"{col} IN ({_value(dim, column, kind, rng)})"
    if column == "dd_date":
        year, month = rng.randint(2016, 2025), rng.randint(1, 12)
        days = rng.choice((7, 30, 90))
        return (f"{col} BETWEEN DATE '{year}-{month:02d}-01' "
                f"AND DATE '{year}-{month:02d}-01' + {days}")
    low, high = _RANGES[column]
    a = rng.randint(low, high)
    b = min(high, a + max(1, (high - low) // rng.choice((50, 10, 4))))
    return rng.choice((f"{col} BETWEEN {a} AND {b}", f"{col} >= {a}", f"{col} < {b}"))


def _walk(fact: Fact, size: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """A connected set of `size` dimensions: (child alias.fk, parent dimension) edges."""
    edges: list[tuple[str, str, str]] = []  # (from alias, fk column, dimension)
    frontier = [(fact.alias, fk, dim) for fk, dim in fact.links]
    taken: set[str] = set()
    while frontier and len(edges) < size:
        rng.shuffle(frontier)
        alias, fk, dim = frontier.pop()
        if dim in taken:
            continue
        taken.add(dim)
        edges.append((alias, fk, dim))
        frontier += [(DIMS[dim].alias, pfk, parent) for pfk, parent in DIMS[dim].parents]
    return edges


def queries(count: int = 120, seed: int = SEED) -> list[str]:
    """`count` distinct analytic queries (deterministic for a seed)."""
    rng = random.Random(seed)
    out: list[str] = []
    seen: set[tuple[str, tuple[str, ...], tuple[str, ...]]] = set()
    facts = ["sales"] * 5 + ["returns"] * 2 + ["inventory"] * 2 + ["shipments"] * 2
    while len(out) < count:
        fact = FACTS[rng.choice(facts)]
        reachable = len(_walk(fact, 99, random.Random(0)))
        size = rng.randint(4, min(14, reachable))
        edges = _walk(fact, size, rng)
        dims = [DIMS[d] for _, _, d in edges]
        if len(dims) + 1 < 5:
            continue
        filterable = [(d, c, k) for d in dims for c, k in d.attrs]
        picked = rng.sample(filterable, min(len(filterable), rng.randint(1, 4)))
        groupable = [(d, c) for d in dims for c, k in d.attrs if k in ("eq", "in")
                     and c not in ("cu_email",)]
        group = rng.sample(groupable, min(len(groupable), rng.randint(1, 3)))
        shape = (fact.name, tuple(sorted(d.name for d in dims)),
                 tuple(sorted(f"{d.name}.{c}.{k}" for d, c, k in picked)))
        if shape in seen:
            continue
        seen.add(shape)
        keys = ", ".join(f"{d.alias}.{c}" for d, c in group)
        lines = [f"SELECT {keys}, count(*) AS n, sum({fact.alias}.{fact.measure}) AS total",
                 f"FROM {fact.name} {fact.alias}"]
        for alias, fk, dim in edges:
            d = DIMS[dim]
            lines.append(f"JOIN {d.name} {d.alias} ON {d.alias}.{d.key} = {alias}.{fk}")
        lines.append("WHERE " + "\n  AND ".join(_filter(d, c, k, rng) for d, c, k in picked))
        lines += [f"GROUP BY {keys}", "ORDER BY total DESC", "LIMIT 100"]
        out.append("\n".join(lines))
    return out


def schema_sql() -> str:
    """CREATE TABLE for every table, with primary keys on the dimensions (as a warehouse has
    them) and no other index: the advisor starts from there."""
    return """
CREATE TABLE region (rg_id int PRIMARY KEY, rg_name text NOT NULL);
CREATE TABLE country (co_id int PRIMARY KEY, co_region_id int NOT NULL, co_name text NOT NULL,
                      co_currency text NOT NULL);
CREATE TABLE city (ci_id int PRIMARY KEY, ci_country_id int NOT NULL, ci_name text NOT NULL,
                   ci_population int NOT NULL);
CREATE TABLE store (st_id int PRIMARY KEY, st_city_id int NOT NULL, st_name text NOT NULL,
                    st_format text NOT NULL, st_size int NOT NULL);
CREATE TABLE department (dp_id int PRIMARY KEY, dp_name text NOT NULL);
CREATE TABLE category (ca_id int PRIMARY KEY, ca_department_id int NOT NULL,
                       ca_name text NOT NULL);
CREATE TABLE brand (br_id int PRIMARY KEY, br_name text NOT NULL, br_tier text NOT NULL);
CREATE TABLE product (pr_id int PRIMARY KEY, pr_category_id int NOT NULL,
                      pr_brand_id int NOT NULL, pr_name text NOT NULL,
                      pr_color text NOT NULL, pr_size int NOT NULL,
                      pr_price numeric(10,2) NOT NULL);
CREATE TABLE segment (sg_id int PRIMARY KEY, sg_name text NOT NULL);
CREATE TABLE customer (cu_id int PRIMARY KEY, cu_city_id int NOT NULL,
                       cu_segment_id int NOT NULL, cu_birth_year int NOT NULL,
                       cu_gender char(1) NOT NULL, cu_email text NOT NULL);
CREATE TABLE date_dim (dd_id int PRIMARY KEY, dd_date date NOT NULL, dd_year int NOT NULL,
                       dd_month int NOT NULL, dd_dow int NOT NULL, dd_holiday bool NOT NULL);
CREATE TABLE time_dim (td_id int PRIMARY KEY, td_hour int NOT NULL, td_minute int NOT NULL,
                       td_shift text NOT NULL);
CREATE TABLE promotion (pm_id int PRIMARY KEY, pm_start_date_id int NOT NULL,
                        pm_channel text NOT NULL, pm_discount int NOT NULL);
CREATE TABLE channel (ch_id int PRIMARY KEY, ch_name text NOT NULL);
CREATE TABLE reason (re_id int PRIMARY KEY, re_desc text NOT NULL);
CREATE TABLE supplier (su_id int PRIMARY KEY, su_city_id int NOT NULL,
                       su_rating text NOT NULL);
CREATE TABLE warehouse (wh_id int PRIMARY KEY, wh_city_id int NOT NULL, wh_name text NOT NULL);
CREATE TABLE sales (sa_id bigint NOT NULL, sa_date_id int NOT NULL, sa_time_id int NOT NULL,
                    sa_store_id int NOT NULL, sa_product_id int NOT NULL,
                    sa_customer_id int NOT NULL, sa_promotion_id int NOT NULL,
                    sa_channel_id int NOT NULL, sa_quantity int NOT NULL,
                    sa_amount numeric(12,2) NOT NULL);
CREATE TABLE returns (rt_id bigint NOT NULL, rt_date_id int NOT NULL, rt_store_id int NOT NULL,
                      rt_product_id int NOT NULL, rt_customer_id int NOT NULL,
                      rt_reason_id int NOT NULL, rt_amount numeric(12,2) NOT NULL);
CREATE TABLE inventory (iv_date_id int NOT NULL, iv_product_id int NOT NULL,
                        iv_warehouse_id int NOT NULL, iv_quantity int NOT NULL);
CREATE TABLE shipments (sh_id bigint NOT NULL, sh_date_id int NOT NULL,
                        sh_product_id int NOT NULL, sh_supplier_id int NOT NULL,
                        sh_warehouse_id int NOT NULL, sh_cost numeric(12,2) NOT NULL);
"""


def data_sql(scale: float = 1.0) -> list[str]:
    """INSERT ... SELECT statements filling every table (deterministic: setseed first).

    Skew: ``floor(n * random() ^ k) + 1`` puts most draws on small ids (k = 3: the first 10%
    of products get about 46% of the sales); dates lean towards the most recent years.
    """
    def n(rows: int) -> int:
        return max(1, int(rows * scale))

    colors = "ARRAY[" + ", ".join(f"'{c}'" for c in COLORS) + "]"
    formats = "ARRAY[" + ", ".join(f"'{c}'" for c in FORMATS) + "]"
    tiers = "ARRAY[" + ", ".join(f"'{c}'" for c in TIERS) + "]"
    shifts = "ARRAY[" + ", ".join(f"'{c}'" for c in SHIFTS) + "]"
    currencies = "ARRAY[" + ", ".join(f"'{c}'" for c in CURRENCIES) + "]"
    ratings = "ARRAY[" + ", ".join(f"'{c}'" for c in RATINGS) + "]"
    channels = "ARRAY[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    sales, returns = n(FACTS["sales"].rows), n(FACTS["returns"].rows)
    inventory, shipments = n(FACTS["inventory"].rows), n(FACTS["shipments"].rows)
    return [
        "SELECT setseed(0.42)",
        "INSERT INTO region SELECT g, 'region ' || g FROM generate_series(1, 8) g",
        f"INSERT INTO country SELECT g, 1 + g % 8, 'country ' || g, "
        f"({currencies})[1 + g % 6] FROM generate_series(1, 60) g",
        "INSERT INTO city SELECT g, 1 + floor(60 * random() ^ 2)::int, 'city ' || g, "
        "1000 + floor(5000000 * random() ^ 4)::int FROM generate_series(1, 4000) g",
        f"INSERT INTO store SELECT g, 1 + floor(4000 * random() ^ 2)::int, 'store ' || g, "
        f"({formats})[1 + floor(5 * random() ^ 2)::int], 100 + floor(19900 * random())::int "
        "FROM generate_series(1, 1500) g",
        "INSERT INTO department SELECT g, 'department ' || g FROM generate_series(1, 16) g",
        "INSERT INTO category SELECT g, 1 + g % 16, 'category ' || g "
        "FROM generate_series(1, 240) g",
        f"INSERT INTO brand SELECT g, 'brand ' || g, ({tiers})[1 + floor(4 * random() ^ 2)::int] "
        "FROM generate_series(1, 1500) g",
        f"INSERT INTO product SELECT g, 1 + floor(240 * random() ^ 2)::int, "
        f"1 + floor(1500 * random() ^ 2)::int, 'product ' || g, "
        f"({colors})[1 + floor(10 * random() ^ 2)::int], 1 + floor(12 * random())::int, "
        f"round((1 + 1999 * random() ^ 3)::numeric, 2) FROM generate_series(1, 80000) g",
        "INSERT INTO segment SELECT g, 'segment ' || g FROM generate_series(1, 12) g",
        f"INSERT INTO customer SELECT g, 1 + floor(4000 * random() ^ 2)::int, "
        f"1 + floor(12 * random() ^ 2)::int, 1940 + floor(69 * random())::int, "
        f"(ARRAY['F', 'M', 'X'])[1 + floor(2.1 * random())::int], "
        f"'customer' || g || '@example.org' FROM generate_series(1, {n(300000)}) g",
        "INSERT INTO date_dim SELECT g, DATE '2016-01-01' + g - 1, "
        "extract(year FROM DATE '2016-01-01' + g - 1)::int, "
        "extract(month FROM DATE '2016-01-01' + g - 1)::int, "
        "extract(dow FROM DATE '2016-01-01' + g - 1)::int, g % 37 = 0 "
        "FROM generate_series(1, 3653) g",
        f"INSERT INTO time_dim SELECT g, (g - 1) / 60, (g - 1) % 60, "
        f"({shifts})[1 + (g - 1) / 360] FROM generate_series(1, 1440) g",
        f"INSERT INTO promotion SELECT g, 1 + floor(3653 * random())::int, "
        f"({channels})[1 + floor(6 * random() ^ 2)::int], floor(60 * random())::int "
        "FROM generate_series(1, 800) g",
        f"INSERT INTO channel SELECT g, ({channels})[g] FROM generate_series(1, 6) g",
        "INSERT INTO reason SELECT g, 'reason ' || g FROM generate_series(1, 40) g",
        f"INSERT INTO supplier SELECT g, 1 + floor(4000 * random())::int, "
        f"({ratings})[1 + floor(4 * random() ^ 2)::int] FROM generate_series(1, 4000) g",
        "INSERT INTO warehouse SELECT g, 1 + floor(4000 * random())::int, 'warehouse ' || g "
        "FROM generate_series(1, 40) g",
        f"INSERT INTO sales SELECT g, 3653 - floor(3653 * random() ^ 2)::int, "
        f"1 + floor(1440 * random())::int, 1 + floor(1500 * random() ^ 3)::int, "
        f"1 + floor(80000 * random() ^ 3)::int, 1 + floor({n(300000)} * random() ^ 3)::int, "
        f"1 + floor(800 * random() ^ 2)::int, 1 + floor(6 * random() ^ 2)::int, "
        f"1 + floor(10 * random() ^ 2)::int, round((1 + 500 * random() ^ 3)::numeric, 2) "
        f"FROM generate_series(1, {sales}) g",
        f"INSERT INTO returns SELECT g, 3653 - floor(3653 * random() ^ 2)::int, "
        f"1 + floor(1500 * random() ^ 3)::int, 1 + floor(80000 * random() ^ 3)::int, "
        f"1 + floor({n(300000)} * random() ^ 3)::int, 1 + floor(40 * random() ^ 2)::int, "
        f"round((1 + 300 * random() ^ 3)::numeric, 2) FROM generate_series(1, {returns}) g",
        f"INSERT INTO inventory SELECT 1 + (g % 522) * 7, 1 + floor(80000 * random() ^ 2)::int, "
        f"1 + floor(40 * random())::int, floor(1000 * random())::int "
        f"FROM generate_series(1, {inventory}) g",
        f"INSERT INTO shipments SELECT g, 3653 - floor(3653 * random() ^ 2)::int, "
        f"1 + floor(80000 * random() ^ 3)::int, 1 + floor(4000 * random() ^ 2)::int, "
        f"1 + floor(40 * random())::int, round((10 + 5000 * random())::numeric, 2) "
        f"FROM generate_series(1, {shipments}) g",
        "VACUUM ANALYZE",
    ]
