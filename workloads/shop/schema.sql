-- A small schema whose identifiers need quoting, with skew, for the pipeline tests.
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    email text NOT NULL,
    tier text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE "Order Lines" (
    "Line Id" bigint PRIMARY KEY,
    "orderId" bigint NOT NULL,
    "user" bigint NOT NULL,
    "select" int NOT NULL,
    amount numeric(10, 2) NOT NULL
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    status text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    entity_id bigint NOT NULL,
    note text
);
SELECT setseed(0.5);
INSERT INTO customers
SELECT g, 'user' || g || '@example.com', CASE WHEN g % 100 = 0 THEN 'gold' ELSE 'basic' END,
       timestamptz '2024-01-01' + g * interval '1 minute'
FROM generate_series(1, 20000) g;
INSERT INTO orders
SELECT g, 1 + (g * 7919) % 20000, CASE WHEN g % 200 = 0 THEN 'pending' ELSE 'shipped' END,
       timestamptz '2024-01-01' + g * interval '30 seconds'
FROM generate_series(1, 100000) g;
INSERT INTO "Order Lines"
SELECT g, 1 + g % 100000, 1 + g % 20000, g % 7, (g % 1000) / 10.0
FROM generate_series(1, 150000) g;
INSERT INTO audit (entity_id, note) SELECT g % 5000, 'n' FROM generate_series(1, 50000) g;
VACUUM ANALYZE;
