-- date_trunc on a timestamp column: a range predicate, and GROUP BY / ORDER BY by position;
-- the key keeps PostgreSQL's own spelling of the constant ('day', not sqlglot's 'DAY')
SELECT date_trunc('day', ts) AS day, count(*) AS n
FROM events
WHERE date_trunc('day', ts) >= $1 AND date_trunc('day', ts) < $2
GROUP BY 1
ORDER BY 1
