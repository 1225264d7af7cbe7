"""Candidate indexes, all pure: btree keys from column uses (`btree`), covering, partial,
expression, BRIN and hash variants, GIN proposals that cannot be costed, what existing
indexes already cover, sizes, and the DDL to build them."""
