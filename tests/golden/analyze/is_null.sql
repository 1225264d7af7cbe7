-- IS NULL and IS NOT NULL
SELECT id FROM customers WHERE deleted_at IS NULL AND email IS NOT NULL
