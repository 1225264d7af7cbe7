"""The DDL a user runs to build a recommended index online, and index names that never clash.

A plain table gets ``CREATE INDEX CONCURRENTLY``. A partitioned parent cannot be indexed
concurrently, so it gets the online sequence: an invalid index ``ON ONLY`` the parent, one
concurrently built index per partition, each attached; the parent's index turns valid when the
last one is attached.

Every statement of a set of recommendations must run in order, so no two of them may create the
same name, and none may take a name the schema already has: `clashing` finds the candidates
whose readable name (`sql.ddl.index_name`) or one of their partitions' index names would clash,
and those get the hashed form of the name instead.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from ..catalog import Catalog
from ..model import Candidate, TableName
from ..model.errors import AdvisorError
from ..sql.ddl import attach_partition, check_roundtrip, create_index, index_name


def create_index_ddl(candidate: Candidate, catalog: Catalog, *, hashed: bool = False) -> str:
    """The statements to build `candidate` without blocking writes, one per line; `hashed`
    names it (and its partitions' indexes) with a digest (see `clashing`)."""
    name = index_name(candidate, hashed=hashed)
    table = catalog.table(candidate.table)
    if table is None or table.kind != "p" or not table.partitions:
        return check_roundtrip(create_index(candidate, name, concurrently=True) + ";")
    direct = _direct_leaves(candidate, catalog)
    if len(direct) != len(table.partitions):
        # Multi-level partitioning: each level needs its own ON ONLY step; keep it simple
        # and correct with a blocking build, said so in a comment.
        return ("-- multi-level partitions: this build blocks writes on the table while it runs\n"
                + check_roundtrip(create_index(candidate, name) + ";"))
    first = create_index(candidate, name, only=True)
    builds, attaches = [], []
    for leaf in direct:
        leaf_name = leaf_index_name(candidate, leaf, hashed=hashed)
        builds.append(create_index(candidate, leaf_name, leaf, concurrently=True))
        attaches.append(attach_partition(name, candidate.table.schema,
                                         TableName(leaf.schema, leaf_name)))
    return "\n".join(check_roundtrip(line + ";") for line in [first, *builds, *attaches])


def _direct_leaves(candidate: Candidate, catalog: Catalog) -> list[TableName]:
    table = catalog.table(candidate.table)
    if table is None or table.kind != "p":
        return []
    return [leaf for leaf in table.partitions
            if (t := catalog.table(leaf)) is not None and t.parent == candidate.table]


def leaf_index_name(candidate: Candidate, leaf: TableName, *, hashed: bool = False) -> str:
    """The name of a partitioned candidate's index on one of its leaves."""
    return index_name(replace(candidate, table=leaf), hashed=hashed)


def created_names(candidate: Candidate, catalog: Catalog, *,
                  hashed: bool = False) -> list[TableName]:
    """Every relation name `create_index_ddl` creates for `candidate` (schema, name)."""
    names = [TableName(candidate.table.schema, index_name(candidate, hashed=hashed))]
    table = catalog.table(candidate.table)
    if table is not None and table.kind == "p" and len(_direct_leaves(candidate, catalog)) == \
            len(table.partitions):
        names += [TableName(leaf.schema, leaf_index_name(candidate, leaf, hashed=hashed))
                  for leaf in table.partitions]
    return names


def clashing(candidates: Iterable[Candidate], catalog: Catalog) -> frozenset[Candidate]:
    """The candidates to name with a digest so that the whole set's DDL runs in order: each
    name created once, none already taken in its schema (tables, views, indexes).

    Readable names differ for different candidates, but slugging can make two alike (a table
    "Order Lines" beside order_lines), a partition's own candidate can have the name of its
    parent's index on it, and the schema may hold an index of that name already. The first
    candidate (in sorted order) keeps its readable name.
    """
    taken: set[TableName] = set()
    schemas: dict[str, Collection[str]] = {}

    def free(names: list[TableName]) -> bool:
        for name in names:
            existing = schemas.setdefault(name.schema, catalog.relation_names(name.schema))
            if name in taken or name.name in existing:
                return False
        return len(set(names)) == len(names)

    hashed: set[Candidate] = set()
    for cand in sorted(set(candidates)):
        names = created_names(cand, catalog)
        if not free(names):
            names = created_names(cand, catalog, hashed=True)
            if not free(names):
                raise AdvisorError(f"internal error: no free index name for {cand.label}")
            hashed.add(cand)
        taken.update(names)
    return frozenset(hashed)


def renamed_in_plans(hashed: Iterable[Candidate], catalog: Catalog) -> dict[str, str]:
    """Readable name -> the hashed name the DDL gives, for plans that show the readable one."""
    out: dict[str, str] = {}
    for cand in hashed:
        plain = created_names(cand, catalog)
        digest = created_names(cand, catalog, hashed=True)
        out.update({a.name: b.name for a, b in zip(plain, digest, strict=True)})
    return out
