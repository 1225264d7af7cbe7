-- GROUP BY a column, ORDER BY an aggregate, HAVING ignored
SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 1 ORDER BY count(*) DESC
