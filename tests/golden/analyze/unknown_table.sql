-- an unknown table is reported; the known one is still analyzed
SELECT o.id FROM orders o JOIN shipments_old s ON s.order_id = o.id
WHERE o.status = 'x' AND s.carrier = 'ups'
