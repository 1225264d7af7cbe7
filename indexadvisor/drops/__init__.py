"""Existing indexes a database could lose: found from the catalog (`find`, pure) and priced
by what-if drops (`price`)."""
