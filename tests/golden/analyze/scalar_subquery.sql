-- scalar subqueries: correlated in the select list, uncorrelated as a constant
SELECT o.id, (SELECT c.name FROM customers c WHERE c.id = o.customer_id) AS customer
FROM orders o
WHERE o.total = (SELECT max(total) FROM orders)
