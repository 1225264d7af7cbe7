-- LATERAL subquery correlated with the outer table
SELECT c.id, last.created_at
FROM customers c
CROSS JOIN LATERAL (
  SELECT o.created_at FROM orders o WHERE o.customer_id = c.id ORDER BY o.created_at DESC LIMIT 1
) AS last
