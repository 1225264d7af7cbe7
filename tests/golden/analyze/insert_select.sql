-- INSERT ... SELECT ... RETURNING
INSERT INTO order_items (order_id, product_id, quantity, price)
SELECT $1, p.id, 1, p.price FROM products p WHERE p.sku = $2
RETURNING id
