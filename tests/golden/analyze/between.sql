-- BETWEEN and comparisons
SELECT id FROM orders WHERE created_at BETWEEN $1 AND $2 AND total >= 100 AND 50 > total
