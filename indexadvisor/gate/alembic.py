"""Alembic migrations as SQL: each revision's offline SQL (``upgrade --sql``), in order.

Nothing connects to a database here: Alembic renders every revision as the SQL it would run
(its "offline mode"), for a PostgreSQL dialect, and the gate reads that SQL like any migration
file. Revisions up to ``--alembic-from REV`` (inclusive) build the schema the workload is
planned on first; the later ones are the migration under check. Their statements are located
at the revision file's ``def upgrade`` line; Alembic's own bookkeeping (the alembic_version
table) is left out.

Needs the ``alembic`` package (``pip install 'indexadvisor[alembic]'``) and a project whose
env.py supports offline mode (Alembic's templates do).
"""

from __future__ import annotations

import io
import re
import traceback
from pathlib import Path
from typing import Any

from ..db.target import Script
from ..model.errors import ConfigError
from ..model.gate import Location
from .migration import MigrationError, MigrationStatement, split_migration

#: Alembic's bookkeeping table: its statements are the tool's, not the migration's.
VERSION_TABLE = "alembic_version"
#: Offline mode never connects; the URL only picks the dialect SQLAlchemy renders for.
OFFLINE_URL = "postgresql+psycopg://indexadvisor@localhost/indexadvisor"


def _config(ini: Path, buffer: io.StringIO | None = None) -> Any:
    from alembic.config import Config

    cfg = Config(str(ini), output_buffer=buffer)
    cfg.set_main_option("sqlalchemy.url", OFFLINE_URL)
    cfg.attributes["configure_logger"] = False
    return cfg


def _upgrade_line(path: Path) -> int:
    """The line of ``def upgrade`` in a revision file (1 if there is none)."""
    try:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(r"\s*def upgrade\s*\(", line):
                return n
    except (OSError, UnicodeDecodeError):
        pass
    return 1


def _failure(exc: BaseException, ini: Path) -> MigrationError:
    """An Alembic or revision-file failure as file:line and what went wrong."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return MigrationError(f"{exc.filename}:{exc.lineno}: {exc.msg}",
                              hint="the revision file does not compile; nothing was run")
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if "site-packages" not in f.filename and "/alembic/" not in f.filename]
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else str(ini)
    return MigrationError(f"{where}: alembic failed: {type(exc).__name__}: {exc}",
                          hint="nothing was run")


def alembic_migrations(ini: Path, split_at: str | None = None,
                       ) -> tuple[list[Script], list[MigrationStatement]]:
    """(schema scripts, statements to check) from the revisions of the project in `ini`."""
    try:
        from alembic import command
        from alembic.script import ScriptDirectory
    except ImportError:
        raise ConfigError("--alembic needs the alembic package",
                          hint="pip install 'indexadvisor[alembic]'") from None
    if not ini.is_file():
        raise ConfigError(f"{ini}: no such alembic.ini")
    try:
        script = ScriptDirectory.from_config(_config(ini))
        revisions = list(reversed(list(script.walk_revisions("base", "heads"))))
    except Exception as exc:
        raise _failure(exc, ini) from None
    if split_at is not None and split_at not in {r.revision for r in revisions}:
        raise ConfigError(f"--alembic-from {split_at}: no such revision",
                          hint="revisions: " + ", ".join(r.revision for r in revisions))
    schema: list[Script] = []
    checked: list[MigrationStatement] = []
    before = split_at is not None
    for rev in revisions:
        if isinstance(rev.down_revision, tuple):
            raise ConfigError(f"revision {rev.revision} merges branches; the gate reads a "
                              "linear history")
        buffer = io.StringIO()
        span = f"{rev.down_revision}:{rev.revision}" if rev.down_revision else rev.revision
        try:
            command.upgrade(_config(ini, buffer), span, sql=True)
        except Exception as exc:
            raise _failure(exc, ini) from None
        path = Path(rev.path)
        text = buffer.getvalue()
        if before:
            schema.append(Script(text, f"{path} (alembic {rev.revision})"))
            before = rev.revision != split_at
            continue
        line = _upgrade_line(path)
        try:
            statements = split_migration(text, str(path))
        except MigrationError as exc:
            raise MigrationError(
                f"{path}:{line}: {exc.message.split(': ', 1)[-1]} (in the SQL of revision "
                f"{rev.revision})", hint="nothing was run") from None
        checked += [_relocated(s, Location(str(path), line)) for s in statements
                    if (s.table or "").strip('"') != VERSION_TABLE]
    return schema, checked


def _relocated(stmt: MigrationStatement, location: Location) -> MigrationStatement:
    from dataclasses import replace

    return replace(stmt, location=location)
