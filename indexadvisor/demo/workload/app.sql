-- calls: 120000
SELECT id, status, total, created_at
FROM orders
WHERE customer_id = $1
ORDER BY created_at DESC
LIMIT 20;

-- calls: 60000
SELECT id, customer_id, status, total, created_at FROM orders WHERE id = $1;

-- calls: 55000
SELECT oi.product_id, p.sku, p.name, oi.qty, oi.price
FROM order_items AS oi
JOIN products AS p ON p.id = oi.product_id
WHERE oi.order_id = $1;

-- calls: 40000
SELECT id, email, name, tier
FROM customers
WHERE lower(email) = $1 AND deleted_at IS NULL;

-- calls: 30000
SELECT id, customer_id, total, created_at
FROM orders
WHERE status = 'pending'
ORDER BY created_at
LIMIT 50
FOR UPDATE SKIP LOCKED;

-- calls: 25000
SELECT kind, created_at, payload
FROM events
WHERE customer_id = $1 AND created_at >= $2 AND created_at < $3
ORDER BY created_at DESC;

-- calls: 20000
SELECT id, method, amount, paid_at FROM payments WHERE order_id = $1;

-- calls: 18000
SELECT id, sku, name, price
FROM products
WHERE category = $1
ORDER BY price, id
LIMIT 24 OFFSET 48;

-- calls: 15000
SELECT id, sku, name, price FROM products WHERE sku LIKE 'ELE-01%' ORDER BY sku LIMIT 20;

-- calls: 12000
SELECT id, sku, name, price FROM products WHERE id IN (17, 256, 1024, 4093);

-- calls: 9000
SELECT count(*) FROM orders WHERE customer_id = 4242 AND status IN ('pending', 'processing');

-- calls: 8000
SELECT "Note Id", "user", body, created_at
FROM "OrderNotes"
WHERE "Order Id" = $1
ORDER BY created_at;

-- calls: 5000
SELEC * FROM orders WHERE id = 1;
