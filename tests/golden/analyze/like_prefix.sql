-- LIKE with a prefix or a parameter counts, a leading wildcard and ILIKE do not
SELECT id FROM customers
WHERE email LIKE 'bob%' AND name LIKE '%son' AND country ILIKE 'fr%' AND name LIKE $1 || '%'
