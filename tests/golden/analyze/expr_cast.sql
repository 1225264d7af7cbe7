-- a cast is an expression key; ::date and CAST(... AS date) are the same key
SELECT id FROM events WHERE ts::date = '2024-01-01' OR CAST(ts AS date) = current_date
