-- LIKE with a constant prefix on an expression of a varchar column
SELECT id FROM events WHERE upper(code) LIKE 'AB%' AND upper(code) NOT LIKE 'ABC%'
