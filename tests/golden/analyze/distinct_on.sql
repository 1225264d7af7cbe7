-- DISTINCT ON with ORDER BY
SELECT DISTINCT ON (customer_id) customer_id, id FROM orders ORDER BY customer_id, created_at DESC
