-- MERGE: the ON condition joins target and source
MERGE INTO products p
USING (SELECT sku, price FROM price_updates) u ON p.sku = u.sku
WHEN MATCHED THEN UPDATE SET price = u.price
WHEN NOT MATCHED THEN INSERT (sku, price) VALUES (u.sku, u.price)
