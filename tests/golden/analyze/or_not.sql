-- predicates under OR count, negated ones do not
SELECT id FROM orders
WHERE (status = 'a' OR total < 10) AND NOT (customer_id = 5) AND status NOT IN ('x') AND id <> 3
