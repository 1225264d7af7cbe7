-- calls: 24
SELECT date_trunc('day', created_at) AS day, count(*) AS orders, sum(total) AS revenue
FROM orders
WHERE created_at >= $1 AND created_at < $2 AND status IN ('shipped', 'delivered')
GROUP BY 1
ORDER BY 1;

-- calls: 24
SELECT p.category, p.name, sum(oi.qty) AS units, sum(oi.qty * oi.price) AS revenue
FROM orders AS o
JOIN order_items AS oi ON oi.order_id = o.id
JOIN products AS p ON p.id = oi.product_id
WHERE o.created_at >= '2024-12-01' AND o.created_at < '2024-12-08'
GROUP BY p.category, p.name
ORDER BY revenue DESC
LIMIT 20;

-- calls: 200
SELECT o.id, o.created_at, oi.qty, oi.price
FROM order_items AS oi
JOIN orders AS o ON o.id = oi.order_id
WHERE oi.product_id = $1
ORDER BY o.created_at DESC
LIMIT 50;

-- calls: 300
SELECT id, email, country, created_at
FROM customers
WHERE tier = 'gold' AND deleted_at IS NULL
ORDER BY created_at DESC
LIMIT 100;

-- calls: 48
SELECT country, count(*) AS signups
FROM customers
WHERE deleted_at IS NULL AND created_at >= $1
GROUP BY country
ORDER BY signups DESC;

-- calls: 96
SELECT kind, count(DISTINCT customer_id) AS customers
FROM events
WHERE created_at >= '2024-12-24' AND created_at < '2024-12-31'
GROUP BY kind;

-- calls: 1440
SELECT count(*) FROM events
WHERE kind = 'checkout' AND created_at >= $1 AND created_at < $2;

-- calls: 12
SELECT c.id, c.email, count(*) AS orders, sum(o.total) AS spent
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE o.created_at >= $1
GROUP BY c.id, c.email
ORDER BY spent DESC
LIMIT 25;

-- calls: 60
SELECT o.id, o.customer_id, o.created_at, o.total
FROM orders AS o
WHERE o.created_at < $1
ORDER BY o.created_at DESC, o.id DESC
LIMIT 50;

-- calls: 144
SELECT count(*) FROM orders WHERE status = 'pending' AND created_at < now() - interval '1 hour';

-- calls: 5
SELECT created_at, actor_id, action, detail
FROM audit_log
WHERE entity = 'order' AND entity_id = $1
ORDER BY created_at;

-- calls: 30
SELECT * FROM shipments WHERE id = 1;
