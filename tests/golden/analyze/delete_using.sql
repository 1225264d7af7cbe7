-- DELETE ... USING
DELETE FROM orders o USING customers c WHERE o.customer_id = c.id AND c.deleted_at IS NOT NULL
