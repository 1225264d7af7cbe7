-- = ANY($1) is IN; casts on the parameter side keep the equality
SELECT id FROM orders WHERE id = ANY($1) AND customer_id = $2::int AND status = ANY(ARRAY['a', 'b'])
