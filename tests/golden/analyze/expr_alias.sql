-- alias-qualified, and through a derived table that renames the column: one key, (lower(email))
SELECT u.id FROM customers AS u WHERE lower(u.email) = $1
UNION ALL
SELECT s.id FROM (SELECT id, email AS mail FROM customers) AS s WHERE lower(s.mail) = $2
