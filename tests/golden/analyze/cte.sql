-- a CTE read once: its columns are traced to the base table
WITH recent AS (
  SELECT id, customer_id FROM orders WHERE created_at > now() - interval '7 days'
)
SELECT c.email FROM recent r JOIN customers c ON c.id = r.customer_id
