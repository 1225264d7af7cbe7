"""The DDL a user runs to build a recommended index online.

A plain table gets ``CREATE INDEX CONCURRENTLY``. A partitioned parent cannot be indexed
concurrently, so it gets the online sequence: an invalid index ``ON ONLY`` the parent, one
concurrently built index per partition, each attached; the parent's index turns valid when the
last one is attached.
"""

from __future__ import annotations

from ..catalog import Catalog
from ..model import Candidate, TableName
from ..sql.ddl import attach_partition, check_roundtrip, create_index, index_name


def create_index_ddl(candidate: Candidate, catalog: Catalog) -> str:
    """The statements to build `candidate` without blocking writes, one per line."""
    name = index_name(candidate)
    table = catalog.table(candidate.table)
    if table is None or table.kind != "p" or not table.partitions:
        return check_roundtrip(create_index(candidate, name, concurrently=True) + ";")
    direct = [leaf for leaf in table.partitions
              if (t := catalog.table(leaf)) is not None and t.parent == candidate.table]
    if len(direct) != len(table.partitions):
        # Multi-level partitioning: each level needs its own ON ONLY step; keep it simple
        # and correct with a blocking build, said so in a comment.
        return ("-- multi-level partitions: this build blocks writes on the table while it runs\n"
                + check_roundtrip(create_index(candidate, name) + ";"))
    first = create_index(candidate, name, only=True)
    builds, attaches = [], []
    for leaf in direct:
        leaf_name = leaf_index_name(candidate, leaf)
        builds.append(create_index(candidate, leaf_name, leaf, concurrently=True))
        attaches.append(attach_partition(name, candidate.table.schema,
                                         TableName(leaf.schema, leaf_name)))
    return "\n".join(check_roundtrip(line + ";") for line in [first, *builds, *attaches])


def leaf_index_name(candidate: Candidate, leaf: TableName) -> str:
    """The name of a partitioned candidate's index on one of its leaves."""
    return index_name(Candidate(leaf, candidate.columns, candidate.include, candidate.where,
                                candidate.method))
