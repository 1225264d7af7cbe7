-- mixed case, spaces and reserved words keep their exact spelling
SELECT ol."Order Date", u."order"
FROM "OrderLines" ol JOIN "user" u ON u.id = ol.user_id
WHERE ol."Order Date" >= DATE '2024-01-01' AND u."order" = 'x'
ORDER BY ol."Order Date"
