-- window ORDER BY / PARTITION BY are not the query's ORDER BY
SELECT id, row_number() OVER (PARTITION BY customer_id ORDER BY created_at) AS rn
FROM orders WHERE status = 'x'
