"""Opening the database to advise against: the user's (by DSN, guarded, read-only) or a
sandbox we start and load ourselves. One place for advise, demo, check and validate.

The only write this module ever makes to a user's database is ``CREATE EXTENSION hypopg``,
and only when the user asked for it (``--create-extension``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from ..model.errors import ConfigError, ExtensionMissing
from .connect import Guards, connect, redact_dsn
from .loader import run_script


@dataclass(frozen=True)
class Script:
    """SQL to load into a sandbox (schema, data), with where it came from."""

    text: str
    source: str


@dataclass(frozen=True)
class Target:
    """An open, guarded connection and what it points at."""

    conn: psycopg.Connection
    sandbox: bool  # a throwaway database we created: drops may be simulated for real there
    where: str  # for messages: the DSN without its password, or "sandbox"
    dsn: str | None = None  # the sandbox's own DSN (never a user's: that one stays out)
    # Opens one more guarded connection, to the same database or to the DSN given (a read
    # replica of it); kept out of repr so the user's DSN never reaches a message.
    opener: Callable[[str | None], psycopg.Connection] | None = field(
        default=None, repr=False, compare=False)

    @contextmanager
    def more(self, n: int, replicas: Sequence[str] = ()) -> Iterator[list[psycopg.Connection]]:
        """`n` more guarded connections for parallel what-if sessions: to the `replicas`
        in turn where given (each must have HypoPG, as a physical replica of the target
        does), else to the same database. Closed when the block ends."""
        opened: list[psycopg.Connection] = []
        try:
            for i in range(n if self.opener is not None else 0):
                assert self.opener is not None
                conn = self.opener(replicas[i % len(replicas)] if replicas else None)
                opened.append(conn)
                if replicas:
                    require_hypopg(conn)
            yield opened
        finally:
            for conn in opened:
                conn.close()


def hypopg_missing(available: str | None, server_version_num: int) -> ExtensionMissing:
    """The error (and hint) for a database without HypoPG."""
    hint = (
        "run CREATE EXTENSION hypopg in the target database (it only adds functions), "
        "or pass --create-extension"
        if available
        else "install HypoPG on the server (Debian/Ubuntu: postgresql-"
        f"{server_version_num // 10000}-hypopg; Amazon RDS/Aurora: available "
        "as an extension), or omit --dsn to use a sandbox"
    )
    return ExtensionMissing("HypoPG is not installed in the target database", hint=hint)


def require_hypopg(conn: psycopg.Connection) -> str:
    """HypoPG's version in the connected database; ExtensionMissing (with how to get it)
    when it is not created there. Read-only."""
    with conn.transaction():
        row = conn.execute(
            "SELECT current_setting('server_version_num')::int,"
            " (SELECT extversion FROM pg_extension WHERE extname = 'hypopg'),"
            " (SELECT default_version FROM pg_available_extensions WHERE name = 'hypopg')"
        ).fetchone()
    assert row is not None
    if row[1] is None:
        raise hypopg_missing(row[2], int(row[0]))
    return str(row[1])


def create_extension(dsn: str) -> None:
    """CREATE EXTENSION hypopg, only because the user asked for it (--create-extension)."""
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    except psycopg.Error as exc:
        raise ExtensionMissing(
            f"CREATE EXTENSION hypopg failed on {redact_dsn(dsn)}: "
            f"{redact_dsn(str(exc).strip())}",
            hint="HypoPG must be installed on the server (postgresql-NN-hypopg)") from None


@contextmanager
def open_target(dsn: str | None, scripts: Sequence[Script] = (), *, guards: Guards,
                backend: str = "auto", create_hypopg: bool = False, hypopg: bool = True,
                say: Callable[[str], None] | None = None) -> Iterator[Target]:
    """A guarded connection to the user's database, or to a sandbox loaded with `scripts`.

    With a DSN, `scripts` must be empty (the database has its schema). Without one, a sandbox
    is started (`backend`: auto, local, docker), `scripts` run in it, and it is gone when the
    block ends. `hypopg` checks that HypoPG is there before anything else runs.
    """
    tell = say or (lambda _message: None)
    if dsn:
        if scripts:
            raise ConfigError("--schema loads a sandbox; it cannot be combined with --dsn",
                              hint="the database behind --dsn already has its schema")
        if create_hypopg:
            create_extension(dsn)
        conn = connect(dsn, guards=guards)
        user_dsn = dsn

        def reopen(other: str | None) -> psycopg.Connection:
            return connect(other or user_dsn, guards=guards)

        try:
            if hypopg:
                require_hypopg(conn)
            yield Target(conn, sandbox=False, where=redact_dsn(dsn), opener=reopen)
        finally:
            conn.close()
        return
    if not scripts:
        raise ConfigError(
            "no database to advise against",
            hint="pass --dsn (or set INDEXADVISOR_DSN), or --schema FILE to load a sandbox, "
            "or try `indexadvisor demo`")
    from .sandbox import open_sandbox

    with open_sandbox(backend) as sandbox:
        tell(f"sandbox PostgreSQL started ({sandbox.dsn})")
        for script in scripts:
            run_script(sandbox.dsn, script.text, script.source)
        conn = connect(sandbox.dsn, guards=guards)
        sandbox_dsn = sandbox.dsn

        def reconnect(other: str | None) -> psycopg.Connection:
            return connect(other or sandbox_dsn, guards=guards)

        try:
            yield Target(conn, sandbox=True, where="sandbox", dsn=sandbox.dsn, opener=reconnect)
        finally:
            conn.close()
