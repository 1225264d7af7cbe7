-- INSERT without a column list writes every column; ON CONFLICT DO UPDATE too
INSERT INTO products VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (sku) DO UPDATE SET price = excluded.price
