"""GIN proposals: HypoPG cannot cost GIN, so each (table, key, family) the workload needs
and no existing index serves is proposed *not costed*: a `NotCosted` with its operator class,
DDL and reason, never counted in a budget, a benefit or the workload cost.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..analyze.gin import GinUse
from ..catalog import Catalog, Index, Table
from ..model import Candidate, NotCosted, TableName
from ..sql.ddl import check_roundtrip, create_index, index_name

GIN_REASON = "HypoPG 1.3 cannot simulate GIN"


def gin_proposals(found: Mapping[str, Sequence[GinUse]],
                  catalog: Catalog) -> tuple[NotCosted, ...]:
    """One not-costed GIN proposal per (table, key, family) the workload needs and no
    existing index serves. `found`: query fingerprint -> its GIN uses."""
    groups: dict[tuple[TableName, str, str], tuple[set[str], set[str]]] = {}
    for key, uses in found.items():
        for use in uses:
            ops, queries = groups.setdefault((use.table, use.column, use.family), (set(), set()))
            ops.add(use.operator)
            queries.add(key)
    out = []
    for (name, column, family), (ops, queries) in sorted(groups.items()):
        table = catalog.table(name)
        if table is None or table.kind not in ("r", "m", "p"):
            continue
        opclass = _opclass(family, ops)
        if _served(table.indexes, column, family, ops):
            continue
        extension = "pg_trgm" if family == "trgm" and "pg_trgm" not in catalog.extensions else None
        reason = (f"{GIN_REASON}: not costed, not counted in the budget; serves "
                  + ", ".join(sorted(ops)) + f" on {name}.{column}")
        if extension:
            reason += (f"; needs the {extension} extension (CREATE EXTENSION {extension}), "
                       "not installed in this database")
        cand = NotCosted(name, column, "gin", opclass, tuple(sorted(ops)), reason, "",
                         tuple(sorted(queries)), extension)
        out.append(NotCosted(name, column, "gin", opclass, cand.operators, reason,
                             gin_ddl(cand, table), cand.queries, extension))
    return tuple(out)


def _opclass(family: str, ops: set[str]) -> str | None:
    if family == "trgm":
        return "gin_trgm_ops"
    if family == "jsonb" and ops <= {"@>"}:
        return "jsonb_path_ops"  # smaller and faster, but serves @> only
    return None


def _served(indexes: Sequence[Index], column: str, family: str, ops: set[str]) -> bool:
    """An existing valid GIN index on the key with an operator class that serves `ops`."""
    for index in indexes:
        if index.method != "gin" or not index.valid or column not in index.columns:
            continue
        if family == "trgm":
            if "gin_trgm_ops" in index.definition:
                return True
        elif family == "jsonb" and "jsonb_path_ops" in index.definition:
            if ops <= {"@>"}:
                return True
        else:
            return True
    return False


def gin_ddl(proposal: NotCosted, table: Table) -> str:
    """CREATE INDEX CONCURRENTLY ... USING gin (key opclass); a partitioned parent (no
    CONCURRENTLY there) gets a plain build with a comment. CREATE EXTENSION first if needed."""
    cand = Candidate(proposal.table, (proposal.column,), method="gin")
    concurrently = table.kind != "p"
    ddl = create_index(cand, index_name(cand), concurrently=concurrently,
                       opclass=proposal.opclass)
    lines = []
    if proposal.extension:
        lines.append(check_roundtrip(f"CREATE EXTENSION IF NOT EXISTS {proposal.extension};"))
    if not concurrently:
        lines.append("-- partitioned table: this build blocks writes on the table while it runs")
    lines.append(check_roundtrip(ddl + ";"))
    return "\n".join(lines)


def gin_note(proposals: Iterable[NotCosted], fingerprint: str) -> str | None:
    """The sentence a query's verdict gets when a not-costed GIN index is proposed for it."""
    labels = sorted(p.label for p in proposals if fingerprint in p.queries)
    if not labels:
        return None
    return f"GIN index proposed, not costed: {GIN_REASON} ({'; '.join(labels)})"
