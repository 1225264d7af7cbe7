-- comma join with the join condition in WHERE
SELECT c.email FROM customers c, orders o WHERE o.customer_id = c.id AND o.status = 'paid'
