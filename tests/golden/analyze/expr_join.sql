-- a join on expressions of both sides: a JOIN use of each side's expression
SELECT c.id, u.id
FROM customers c
JOIN "user" u ON lower(u.email) = lower(c.email)
WHERE c.country = 'DE'
