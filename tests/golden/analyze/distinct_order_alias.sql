-- DISTINCT groups; ORDER BY a select-list alias
SELECT DISTINCT country AS c FROM customers ORDER BY c
