-- derived table with aggregation: the outer filter on n is not a base column
SELECT t.customer_id, t.n
FROM (SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id) t
WHERE t.n > 5
ORDER BY t.n DESC
