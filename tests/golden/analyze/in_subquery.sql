-- IN (subquery): the linking columns join
SELECT name FROM products WHERE id IN (SELECT product_id FROM order_items WHERE quantity > 10)
