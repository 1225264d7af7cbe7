-- functions on the column side are not plain equalities (noted for expression indexes)
SELECT id FROM customers WHERE lower(email) = lower($1) AND created_at::date = current_date
