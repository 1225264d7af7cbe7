-- A small workload for workloads/shop/schema.sql, with one mistake of each kind an
-- advisor must survive (a typo, a missing table, a utility statement).
-- calls: 500
SELECT id, status FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10;
-- calls: 50
SELECT o.id, c.email FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.status = 'pending';
-- calls: 200
SELECT "Line Id", amount FROM "Order Lines" WHERE "orderId" = 4242 AND "user" = 17;
-- calls: 3
SELECT sum(amount) FROM "Order Lines" ol WHERE ol."select" = 3;
-- calls: 1
SELECT * FROM orders WHERE id = 7;
-- calls: 9
SELEC broken FROM orders;
-- calls: 4
SELECT * FROM shipments WHERE id = 1;
-- calls: 2
SELECT * FROM audit WHERE entity_id = $1;
-- calls: 200000
INSERT INTO audit (entity_id, note) VALUES (1, 'x');
SET work_mem = '64MB';
