-- MATERIALIZED fences the CTE: x.status = 'new' is not an equality on orders.status
WITH x AS MATERIALIZED (SELECT id, status FROM orders)
SELECT x.id FROM x WHERE x.status = 'new'
