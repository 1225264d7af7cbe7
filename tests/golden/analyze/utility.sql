-- utility statements have no tables and no uses
CREATE INDEX CONCURRENTLY ON orders (status)
