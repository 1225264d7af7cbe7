-- NATURAL JOIN joins on the common column names
SELECT product_id FROM order_items NATURAL JOIN shipments WHERE carrier = 'dhl'
