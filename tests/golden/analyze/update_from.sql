-- UPDATE ... FROM with an alias on the target
UPDATE orders o SET total = o.total * 1.1
FROM customers c
WHERE c.id = o.customer_id AND c.country = 'FR'
