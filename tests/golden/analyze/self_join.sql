-- the same table under two aliases: a join between its own columns
SELECT child.name, parent.name
FROM categories child
JOIN categories parent ON parent.id = child.parent_id
WHERE child.name = 'shoes'
