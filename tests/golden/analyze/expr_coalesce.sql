-- coalesce with a constant, and IS NULL on an expression
SELECT id FROM events WHERE coalesce(deleted, false) = false AND nullif(code, '') IS NULL
