-- table aliases, $n parameters
SELECT o.id, o.total FROM orders o WHERE o.status = 'paid' AND o.customer_id = $1
