-- a CTE read twice is materialized: outer predicates on it are not traced
WITH big AS (SELECT id, customer_id FROM orders WHERE total > 1000)
SELECT a.id FROM big a JOIN big b ON a.customer_id = b.customer_id WHERE a.id <> b.id
