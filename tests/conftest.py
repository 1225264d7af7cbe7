"""Shared fixtures: one PostgreSQL with HypoPG for the whole test session.

Set ``INDEXADVISOR_TEST_DSN`` to run against an external server (HypoPG must be installed
there; the extension is created in that database). Otherwise one local sandbox is started the
first time it is needed and stopped when the session ends.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import psycopg
import pytest

from indexadvisor.db.sandbox import LocalSandbox, prepare_server
from indexadvisor.model.errors import SandboxError

TEST_DSN_ENV = "INDEXADVISOR_TEST_DSN"

pytest_plugins = ["pytester"]  # the capture plugin is tested in a pytest of its own


class _SessionServer:
    """The database the suite runs against, started (or reached) at most once."""

    def __init__(self) -> None:
        self.dsn: str | None = None
        self.description = ""
        self.sandbox: LocalSandbox | None = None
        self.failure: str | None = None

    def get(self) -> str:
        if self.dsn is not None:
            return self.dsn
        if self.failure is not None:
            raise RuntimeError(self.failure)
        external = os.environ.get(TEST_DSN_ENV)
        try:
            if external:
                version_num, hypopg = prepare_server(external)
                dsn, where = external, f"{TEST_DSN_ENV}"
            else:
                # no autovacuum: a test's statistics change only when it says so (a
                # background ANALYZE re-samples a table at random between two runs that
                # compare advice; a background VACUUM turns index-only scans on)
                self.sandbox = LocalSandbox.start({"autovacuum": "off"})
                version_num, hypopg = self.sandbox.server_version_num, self.sandbox.hypopg_version
                dsn, where = self.sandbox.dsn, "local sandbox"
            with psycopg.connect(dsn) as conn:
                version = conn.info.parameter_status("server_version") or str(version_num)
        except (SandboxError, psycopg.Error) as exc:
            source = f"{TEST_DSN_ENV}={external}" if external else "a local sandbox"
            self.failure = (
                f"no PostgreSQL with HypoPG for the tests ({source}): {exc}\n"
                f"Set {TEST_DSN_ENV} to a server with HypoPG, or install "
                "postgresql-15 and postgresql-15-hypopg."
            )
            raise RuntimeError(self.failure) from exc
        self.dsn = dsn
        self.description = f"postgresql {version} ({version_num}), hypopg {hypopg}, via {where}"
        return dsn

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None


_server = _SessionServer()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM stops the run like Ctrl-C, so fixtures and the session sandbox tear down.

    (The sandbox's own SIGTERM handler raises SystemExit, which pytest would record as one
    failed test and carry on.)
    """
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def pytest_report_header(config: pytest.Config) -> str:
    """Say which server and HypoPG the suite runs against."""
    try:
        _server.get()
    except RuntimeError as exc:
        return f"database: unavailable: {str(exc).splitlines()[0]}"
    return f"database: {_server.description}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _server.close()


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """A libpq conninfo string of a server with the hypopg extension created."""
    try:
        return _server.get()
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=3)


@contextmanager
def scratch_database(pg_dsn: str, name: str) -> Iterator[str]:
    """A new database `name` with hypopg on the test server, dropped afterwards; its DSN."""
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = make_conninfo(pg_dsn, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    try:
        yield dsn
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as admin:
            admin.execute(drop)


@pytest.fixture
def fresh_db(pg_dsn: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A new database with hypopg, dropped after the test; yields its DSN."""
    import re

    with scratch_database(pg_dsn, "t_" + re.sub(r"[^a-z0-9]+", "_",
                                               request.node.name.lower())[:50]) as dsn:
        yield dsn


def run_sql(dsn: str, text: str) -> None:
    """Set-up helper for tests: run a script in autocommit (sandbox only)."""
    from indexadvisor.db.loader import run_script

    run_script(dsn, text, "test set-up")
