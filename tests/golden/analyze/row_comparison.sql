-- row constructors: (a, b) = (x, y) and (a, b) IN (subquery) work element by element
SELECT o.id FROM orders o
WHERE (o.customer_id, o.status) = ($1, 'open')
   OR (o.customer_id, o.total) IN (SELECT c.id, 0 FROM customers c WHERE c.country = 'NL')
