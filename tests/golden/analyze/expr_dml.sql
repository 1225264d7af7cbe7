-- UPDATE finds its rows through the expression
UPDATE customers SET name = $2 WHERE lower(email) = lower($1)
