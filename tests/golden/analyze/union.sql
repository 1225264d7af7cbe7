-- each branch of a UNION is analyzed on its own
SELECT id FROM orders WHERE status = 'a'
UNION
SELECT order_id FROM order_items WHERE quantity = 0
ORDER BY 1
