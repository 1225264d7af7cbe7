"""The database a check runs against: a sandbox we start (schema scripts, then production's
statistics when given), or a staging database by DSN (the migration runs in a transaction the
gate always rolls back; HypoPG must be there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from ..db.connect import Guards, connect, redact_dsn
from ..db.loader import run_script
from ..db.target import Script, require_hypopg
from ..model.errors import ConfigError
from .stats_import import apply_stats, planner_settings


@dataclass
class GateTarget:
    """An open connection (not read-only: the migration runs on it) and what it points at."""

    conn: psycopg.Connection
    staging: bool
    where: str
    dsn: str | None = None  # the sandbox's own DSN
    datadir: Path | None = None  # the local sandbox's data directory
    stats: Mapping[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def reapply_stats(self) -> None:
        """Put production's sizes and statistics back (after a migration rewrote tables)."""
        if self.stats is not None and self.dsn is not None:
            apply_stats(self.dsn, self.datadir, self.stats)


@contextmanager
def open_gate_target(dsn: str | None, scripts: Sequence[Script], *, guards: Guards,
                     stats: Mapping[str, Any] | None = None, backend: str = "auto",
                     say: Callable[[str], None] | None = None) -> Iterator[GateTarget]:
    """A staging database (`dsn`) or a sandbox loaded with `scripts` and `stats`."""
    tell = say or (lambda _m: None)
    if dsn:
        if scripts or stats is not None:
            raise ConfigError("--schema and --stats load a sandbox; they cannot be combined "
                              "with --dsn", hint="a staging database has its schema and data")
        conn = connect(dsn, read_only=False, guards=guards, application_name="indexadvisor check")
        try:
            require_hypopg(conn)
            yield GateTarget(conn, staging=True, where=redact_dsn(dsn))
        finally:
            conn.close()
        return
    if not scripts:
        raise ConfigError("no database to check against",
                          hint="give --schema FILE (the schema before the migrations) for a "
                          "sandbox, or --dsn of a staging database")
    from ..db.sandbox import open_sandbox

    settings = {"autovacuum": "off"} if stats is not None else {}
    with open_sandbox(backend, settings) as sandbox:
        tell(f"sandbox PostgreSQL started ({sandbox.dsn})")
        for script in scripts:
            run_script(sandbox.dsn, script.text, script.source)
        target = GateTarget(connect(sandbox.dsn, read_only=False, guards=guards),
                            staging=False, where="sandbox", dsn=sandbox.dsn,
                            datadir=getattr(sandbox, "datadir", None), stats=stats)
        try:
            if stats is not None:
                target.notes += apply_stats(sandbox.dsn, target.datadir, stats)
                target.notes += set_planner_settings(target.conn, planner_settings(stats))
            yield target
        finally:
            target.conn.close()


def set_planner_settings(conn: psycopg.Connection, settings: Mapping[str, str]) -> list[str]:
    """SET production's planner settings for the session; notes for those this server
    does not know or refuses."""
    notes = []
    with conn.cursor() as cur:
        for name, value in sorted(settings.items()):
            try:
                cur.execute("SELECT set_config(%s, %s, false)", (name, value))
                conn.commit()
            except psycopg.Error as exc:
                conn.rollback()
                notes.append(f"planner setting {name} = {value} not applied: "
                             f"{str(exc).strip().splitlines()[0]}")
    return notes
