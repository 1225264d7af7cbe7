-- a boolean column as a condition is an equality
SELECT id FROM customers WHERE active AND country = 'DE'
