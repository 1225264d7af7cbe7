-- a data-modifying CTE: analyzed as a statement of its own, read as a materialized CTE
WITH moved AS (
  DELETE FROM orders WHERE status = 'archived' AND created_at < $1 RETURNING id, customer_id
)
SELECT c.email FROM moved m JOIN customers c ON c.id = m.customer_id
