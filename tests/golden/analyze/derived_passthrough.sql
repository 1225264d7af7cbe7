-- derived table passing columns through: the outer filter reaches orders.status
SELECT x.id FROM (SELECT id, status FROM orders) AS x WHERE x.status = 'new'
