-- lower(email) = $1 is a use of the expression, not of email (a btree on email cannot serve
-- it); the projected email stays a PROJECT use
SELECT id, email FROM customers WHERE lower(email) = $1 AND LOWER( email ) = lower('X')
