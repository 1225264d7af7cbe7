-- column alias lists rename columns positionally, on tables and derived tables
SELECT o.ref, x.who FROM orders AS o(ref, buyer)
JOIN (SELECT id, email FROM customers) AS x(who, mail) ON x.who = o.buyer
WHERE x.mail = $1
