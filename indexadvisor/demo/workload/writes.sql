-- calls: 400000
INSERT INTO audit_log (actor_id, action, entity, entity_id, detail)
VALUES ($1, $2, $3, $4, $5);

-- calls: 150000
INSERT INTO audit_log (actor_id, action, entity, entity_id) VALUES (42, 'login', 'customer', 42);

-- calls: 200000
INSERT INTO events (customer_id, kind, created_at, payload) VALUES ($1, $2, $3, $4);

-- calls: 30000
INSERT INTO orders (customer_id, status, total) VALUES ($1, 'pending', $2) RETURNING id;

-- calls: 90000
INSERT INTO order_items (order_id, product_id, qty, price) VALUES ($1, $2, $3, $4);

-- calls: 30000
UPDATE orders SET status = $1 WHERE id = $2;

-- calls: 2000
UPDATE customers SET deleted_at = now() WHERE id = $1;

-- calls: 500
DELETE FROM "OrderNotes" WHERE "Order Id" = $1;
