-- JOIN ... USING
SELECT i.product_id, s.carrier FROM order_items i JOIN shipments s USING (order_id) WHERE s.carrier = $1
