-- jsonb ->> with a constant key, with and without parentheses, in = and IN
SELECT id FROM events e
WHERE (e.payload ->> 'kind') = 'signup' AND e.payload->>'source' IN ('web', 'app')
