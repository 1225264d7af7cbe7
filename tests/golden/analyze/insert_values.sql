-- INSERT ... VALUES: written columns only
INSERT INTO orders (customer_id, status, total) VALUES ($1, 'new', $2)
