-- ORDER BY an expression, directly and through a select-list alias; an aggregate is no key
SELECT lower(name) AS lname, upper(country) AS ucountry, count(*) AS n
FROM customers
GROUP BY lower(name), upper(country)
ORDER BY lname, count(*) DESC, upper(country)
