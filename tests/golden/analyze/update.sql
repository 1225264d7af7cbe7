-- UPDATE: WHERE gives uses, SET gives written columns, RETURNING projects
UPDATE orders SET status = 'shipped', shipped_at = now() WHERE id = $1 RETURNING id, status
