-- indexadvisor demo data: deterministic (fixed seed), skewed, about 2.2 million rows.
--
-- Run in ONE session right after schema.sql on an empty database: the seed applies to the
-- session, and foreign keys rely on identity values starting at 1. The last statement,
-- VACUUM ANALYZE, cannot run inside a transaction block or a multi-statement string, so
-- send the statements one at a time in autocommit mode (as psql -f does).
--
-- Time anchor: all data lies before 2025-01-01 00:00 UTC, so the workload's literal dates
-- (December 2024) always hit data, whenever the demo runs.

SELECT setseed(0.42);

-- 50,000 customers: mixed-case emails, 1% 'gold', countries skewed towards US/DE/GB,
-- sign-ups over three years (recent ones more frequent), 4% soft-deleted.
INSERT INTO customers (email, name, tier, country, created_at, deleted_at)
SELECT
    (ARRAY['alice', 'Bob', 'CHARLIE', 'dana', 'Erik', 'fatima', 'George', 'hana', 'Ivan', 'julia',
           'Kenji', 'lena', 'Marco', 'nora', 'OLIVER', 'priya'])[1 + floor(r_first * 16)::int]
        || '.' || g || '@'
        || (ARRAY['gmail.com', 'Example.com', 'yahoo.com', 'Outlook.COM', 'corp.io',
                  'mail.DE'])[1 + floor(r_domain * 6)::int],
    (ARRAY['Alice', 'Bob', 'Charlie', 'Dana', 'Erik', 'Fatima', 'George', 'Hana', 'Ivan', 'Julia',
           'Kenji', 'Lena', 'Marco', 'Nora', 'Oliver', 'Priya'])[1 + floor(r_first * 16)::int]
        || ' ' || (ARRAY['Smith', 'Müller', 'Garcia', 'Rossi', 'Tanaka', 'Novak', 'Dubois',
                         'Silva'])[1 + floor(r_last * 8)::int],
    CASE WHEN r_tier < 0.01 THEN 'gold' WHEN r_tier < 0.10 THEN 'silver' ELSE 'basic' END,
    (ARRAY['US', 'DE', 'GB', 'FR', 'NL', 'ES', 'IT', 'SE', 'PL', 'JP'])[1 + floor(pow(r_country, 2) * 10)::int],
    created,
    CASE WHEN r_deleted < 0.04 THEN created + (timestamptz '2025-01-01 00:00:00+00' - created) * r_del_at END
FROM (
    SELECT g,
           random() AS r_first, random() AS r_domain, random() AS r_last, random() AS r_tier,
           random() AS r_country, random() AS r_deleted, random() AS r_del_at,
           timestamptz '2025-01-01 00:00:00+00' - interval '1095 days' * pow(random(), 1.5) AS created
    FROM generate_series(1, 50000) AS g
) AS s
ORDER BY g;

-- 5,000 products in 20 categories (a few big ones), SKUs like 'ELE-00042'.
INSERT INTO products (sku, category, name, price, created_at)
SELECT
    upper(left(cat, 3)) || '-' || lpad(g::text, 5, '0'),
    cat,
    initcap(cat) || ' item ' || g,
    round((2 + pow(r_price, 3) * 998)::numeric, 2),
    timestamptz '2025-01-01 00:00:00+00' - interval '1500 days' * random()
FROM (
    SELECT g, random() AS r_price,
           (ARRAY['electronics', 'books', 'clothing', 'home', 'garden', 'toys', 'sports',
                  'beauty', 'grocery', 'automotive', 'music', 'movies', 'office', 'pets',
                  'baby', 'health', 'jewelry', 'shoes', 'tools', 'video games'])
               [1 + floor(pow(random(), 2) * 20)::int] AS cat
    FROM generate_series(1, 5000) AS g
) AS s
ORDER BY g;

-- 300,000 orders: power-law customers (a few customers have thousands of orders),
-- over one year with recent days more frequent; 'pending' is rare (0.5%).
INSERT INTO orders (customer_id, status, created_at, total)
SELECT
    1 + floor(pow(r_customer, 3) * 50000)::bigint,
    CASE WHEN r_status < 0.005 THEN 'pending'
         WHEN r_status < 0.025 THEN 'cancelled'
         WHEN r_status < 0.055 THEN 'processing'
         WHEN r_status < 0.255 THEN 'shipped'
         ELSE 'delivered' END,
    timestamptz '2025-01-01 00:00:00+00' - interval '365 days' * pow(r_created, 2)
        - interval '1 second',
    round((5 + pow(r_total, 2) * 995)::numeric, 2)
FROM (
    SELECT g, random() AS r_customer, random() AS r_status, random() AS r_created,
           random() AS r_total
    FROM generate_series(1, 300000) AS g
) AS s
ORDER BY g;

-- 900,000 order items: 1 to 5 per order (3 on average), popular products much more frequent.
INSERT INTO order_items (order_id, product_id, qty, price)
SELECT s.order_id, s.product_id, s.qty, p.price
FROM (
    SELECT o.id AS order_id, n,
           1 + floor(pow(random(), 2) * 5000)::bigint AS product_id,
           1 + floor(pow(random(), 4) * 10)::int AS qty
    FROM orders AS o, generate_series(1, 1 + (o.id % 5)::int) AS n
) AS s
JOIN products AS p ON p.id = s.product_id
ORDER BY s.order_id, s.n;

-- One payment per order that got past 'pending' and was not cancelled (about 290,000).
INSERT INTO payments (order_id, method, amount, paid_at)
SELECT id,
       CASE WHEN r < 0.70 THEN 'card' WHEN r < 0.90 THEN 'paypal'
            WHEN r < 0.98 THEN 'bank_transfer' ELSE 'gift_card' END,
       total,
       created_at + interval '1 minute' * (1 + floor(random() * 120))
FROM (
    SELECT id, total, created_at, random() AS r
    FROM orders
    WHERE status NOT IN ('pending', 'cancelled')
) AS s
ORDER BY id;

-- 400,000 clickstream events over the six monthly partitions (recent months busier).
INSERT INTO events (customer_id, kind, created_at, payload)
SELECT
    1 + floor(pow(r_customer, 3) * 50000)::bigint,
    CASE WHEN r_kind < 0.60 THEN 'page_view' WHEN r_kind < 0.75 THEN 'search'
         WHEN r_kind < 0.87 THEN 'add_to_cart' WHEN r_kind < 0.95 THEN 'login'
         ELSE 'checkout' END,
    timestamptz '2024-12-31 23:59:59+00' - interval '184 days' * pow(r_created, 1.5),
    jsonb_build_object('path', '/p/' || (1 + floor(r_path * 5000)::int),
                       'ms', 20 + floor(r_path * r_path * 2000)::int)
FROM (
    SELECT g, random() AS r_customer, random() AS r_kind, random() AS r_created,
           random() AS r_path
    FROM generate_series(1, 400000) AS g
) AS s
ORDER BY g;

-- 60,000 support notes on about 50,000 distinct orders.
INSERT INTO "OrderNotes" ("Order Id", "user", body, created_at)
SELECT
    1 + floor(random() * 300000)::bigint,
    'agent_' || (1 + floor(pow(random(), 2) * 40)::int),
    (ARRAY['Customer asked about delivery date', 'Address corrected',
           'Refund requested', 'Gift wrap added', 'Called customer, no answer'])
        [1 + floor(random() * 5)::int],
    timestamptz '2025-01-01 00:00:00+00' - interval '365 days' * random()
FROM generate_series(1, 60000) AS g
ORDER BY g;

-- 100,000 audit rows from the last 30 days.
INSERT INTO audit_log (actor_id, action, entity, entity_id, created_at, detail)
SELECT
    1 + floor(pow(r_actor, 3) * 50000)::bigint,
    (ARRAY['login', 'update', 'create', 'status_change', 'delete'])
        [1 + floor(pow(r_action, 2) * 5)::int],
    CASE WHEN r_entity < 0.6 THEN 'order' ELSE 'customer' END,
    1 + floor(random() * 300000)::bigint,
    timestamptz '2025-01-01 00:00:00+00' - interval '30 days' * random(),
    jsonb_build_object('ip', '10.0.' || floor(random() * 256)::int || '.' || floor(random() * 256)::int)
FROM (
    SELECT g, random() AS r_actor, random() AS r_action, random() AS r_entity
    FROM generate_series(1, 100000) AS g
) AS s
ORDER BY g;

VACUUM ANALYZE;
