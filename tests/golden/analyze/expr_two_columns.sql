-- an expression over two columns of ONE table reference is a legal index key, (a + b);
-- one over columns of two tables is not (it is noted), nor is one holding a parameter
SELECT e.id
FROM events e JOIN customers c ON c.id = e.customer_id
WHERE e.a + e.b > 5 AND e.a + c.id > 5 AND e.b * $1 = 10
