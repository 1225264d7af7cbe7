"""Migrations as statements: each with its file and line, and what kind of change it is.

SQL files run in the order given (a directory: its ``*.sql`` files sorted by name). Each file
is parsed with PostgreSQL's own grammar (pglast), so a syntax error stops the gate before
anything runs, naming the file and line (exit code 2).

>>> steps = split_migration("SET lock_timeout = '1s';\\nDROP INDEX orders_customer_idx;", "m.sql")
>>> [(str(s.location), s.kind, s.index) for s in steps]
[('m.sql:1', 'set', None), ('m.sql:2', 'drop_index', 'orders_customer_idx')]
>>> try:
...     split_migration("ALTER TABLE orders ADD COLUMN x int;\\nALTER TABL y;", "m.sql")
... except MigrationError as exc:
...     print(exc.message)
m.sql:2: syntax error at or near "TABL"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import ObjectType
from pglast.parser import ParseError, scan

from ..model.errors import AdvisorError, SourceError
from ..model.gate import Location
from ..model.names import quote_ident
from ..sql.walk import walk

_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


class MigrationError(AdvisorError):
    """A migration cannot be read or run: names the file and line (exit code 2)."""


@dataclass(frozen=True)
class MigrationStatement:
    """One statement of a migration and what the gate needs to know about it.

    `kind`: create_index, drop_index, set (SET/RESET), vacuum (VACUUM/ANALYZE), transaction
    (BEGIN/COMMIT/...), create_table, ddl (any other schema change), dml, other.
    """

    location: Location
    text: str
    kind: str
    index: str | None = None  # create_index/drop_index: the index, as written (quoted)
    table: str | None = None  # the table it changes, as written (quoted)
    concurrently: bool = False
    if_exists: bool = False
    setting: str | None = None  # set: the parameter's name
    drops: tuple[str, ...] = ()  # drop_index: every index named
    mentions: frozenset[str] = frozenset()  # relation and index names it refers to, unqualified

    @property
    def short(self) -> str:
        return " ".join(self.text.split())[:120]


def _name(*parts: str | None) -> str:
    return ".".join(quote_ident(p) for p in parts if p)


def _range_name(rel: ast.RangeVar | None) -> str | None:
    return None if rel is None else _name(rel.schemaname, rel.relname)


def classify(stmt: ast.Node, text: str, location: Location) -> MigrationStatement:
    """What one parsed statement does, as far as the gate cares."""
    mentions = frozenset(
        name for node in walk(stmt)
        for name in ((node.relname,) if isinstance(node, ast.RangeVar)
                     else (node.indexname,) if isinstance(node, ast.Constraint) else ())
        if name)

    def make(kind: str, **kw: Any) -> MigrationStatement:
        return MigrationStatement(location, text, kind, mentions=mentions, **kw)

    if isinstance(stmt, ast.IndexStmt):
        index = None
        if stmt.idxname:
            index = _name(stmt.relation.schemaname if stmt.relation else None, stmt.idxname)
        return make("create_index", index=index, table=_range_name(stmt.relation),
                    concurrently=bool(stmt.concurrent))
    if isinstance(stmt, ast.DropStmt) and stmt.removeType == ObjectType.OBJECT_INDEX:
        names = tuple(_name(*(getattr(p, "sval", None) for p in obj))
                      for obj in stmt.objects or ())
        return make("drop_index", index=names[0] if names else None, drops=names,
                    concurrently=bool(stmt.concurrent), if_exists=bool(stmt.missing_ok))
    if isinstance(stmt, ast.VariableSetStmt):
        return make("set", setting=stmt.name)
    if isinstance(stmt, ast.VacuumStmt):
        return make("vacuum")
    if isinstance(stmt, ast.TransactionStmt):
        return make("transaction")
    if isinstance(stmt, ast.CreateStmt | ast.CreateTableAsStmt):
        rel = stmt.relation if isinstance(stmt, ast.CreateStmt) else (
            stmt.into.rel if stmt.into is not None else None)
        return make("create_table", table=_range_name(rel))
    if isinstance(stmt, ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt | ast.MergeStmt):
        return make("dml", table=_range_name(stmt.relation))
    if isinstance(stmt, ast.AlterTableStmt):
        return make("ddl", table=_range_name(stmt.relation))
    if isinstance(stmt, ast.RenameStmt | ast.DropStmt | ast.CreateTrigStmt | ast.RuleStmt
                  | ast.ViewStmt | ast.CreateFunctionStmt | ast.CreateSeqStmt
                  | ast.AlterSeqStmt | ast.CreateEnumStmt | ast.AlterEnumStmt
                  | ast.CompositeTypeStmt | ast.CreateExtensionStmt | ast.CommentStmt
                  | ast.GrantStmt | ast.CreateSchemaStmt | ast.ReindexStmt | ast.ClusterStmt
                  | ast.DoStmt | ast.CreatedbStmt | ast.AlterObjectSchemaStmt
                  | ast.CreateDomainStmt | ast.AlterDomainStmt | ast.CreateStatsStmt):
        rel = getattr(stmt, "relation", None)
        return make("ddl", table=_range_name(rel) if isinstance(rel, ast.RangeVar) else None)
    if isinstance(stmt, ast.SelectStmt):
        return make("other")
    return make("ddl")


def _start(chunk: str) -> int:
    """Offset of the first token that is not a comment (libpg_query's statement location
    starts right after the previous semicolon)."""
    try:
        for token in scan(chunk):
            if token.name not in _COMMENTS:
                return token.start
    except ParseError:
        pass
    return len(chunk) - len(chunk.lstrip())


def split_migration(text: str, source: str, line_offset: int = 0) -> list[MigrationStatement]:
    """The statements of one migration script, each with its file:line; MigrationError with
    file:line for a syntax error. `line_offset` shifts lines (SQL embedded in a larger file)."""
    try:
        raws = parse_sql(text)
    except ParseError as exc:
        position = int(exc.args[1]) if len(exc.args) > 1 and exc.args[1] is not None else 0
        line = text.count("\n", 0, position) + 1 + line_offset
        raise MigrationError(f"{source}:{line}: {exc.args[0]}",
                             hint="fix the migration; nothing was run") from None
    out = []
    for raw in raws:
        begin = raw.stmt_location or 0
        end = begin + raw.stmt_len if raw.stmt_len else len(text)
        chunk = text[begin:end]
        begin += _start(chunk)
        body = text[begin:end].strip().rstrip(";").strip()
        if not body:
            continue
        line = text.count("\n", 0, begin) + 1 + line_offset
        assert raw.stmt is not None
        out.append(classify(raw.stmt, body, Location(source, line)))
    return out


def migration_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files in the order given; a directory gives its *.sql files sorted by name (not
    recursively: migration folders are flat, and order matters)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix == ".sql" and p.is_file())
            if not found:
                raise SourceError(f"{path}: directory holds no .sql migrations")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise SourceError(f"{path}: no such migration file or directory")
    return files


def read_migrations(paths: Sequence[str | Path]) -> list[MigrationStatement]:
    """Every statement of the SQL migrations under `paths`, in order. All files are parsed
    before anything runs, so a syntax error anywhere stops the gate first."""
    out: list[MigrationStatement] = []
    for file in migration_files(paths):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{file}: cannot read: {exc}") from None
        out.extend(split_migration(text, str(file)))
    return out


def index_columns(text: str) -> tuple[str, ...]:
    """The columns a CREATE INDEX statement's keys read (an expression key: the columns in it).

    >>> index_columns("CREATE INDEX i ON t (a, lower(b)) INCLUDE (c)")
    ('a', 'b')
    """
    stmt = parse_sql(text)[0].stmt
    if not isinstance(stmt, ast.IndexStmt):
        return ()
    out: list[str] = []
    for elem in stmt.indexParams or ():
        if elem.name:
            out.append(elem.name)
        elif elem.expr is not None:
            for node in walk(elem.expr):
                if isinstance(node, ast.ColumnRef):
                    last = (node.fields or (None,))[-1]
                    if isinstance(last, ast.String) and last.sval and last.sval not in out:
                        out.append(last.sval)
    return tuple(out)
