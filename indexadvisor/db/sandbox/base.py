"""What every sandbox backend shares: settings, the backend protocol, teardown on every way
out (exceptions, Ctrl-C, SIGTERM, interpreter exit), and preparing a fresh server (HypoPG).

>>> render_settings({"work_mem": "8MB", "search_path": "a, 'b'", "fsync": False})
"fsync = 'off'\\nsearch_path = 'a, ''b'''\\nwork_mem = '8MB'\\n"
"""

from __future__ import annotations

import atexit
import re
import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType, TracebackType
from typing import Protocol, Self

import psycopg

from ...model.errors import SandboxError

Settings = Mapping[str, str | int | float | bool]

BINDIR_ENV = "INDEXADVISOR_PG_BINDIR"
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")
DEFAULT_SETTINGS: dict[str, str] = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "128MB",
}
INSTALL_HINT = (
    "Debian/Ubuntu: apt-get install postgresql-15 postgresql-15-hypopg; "
    "macOS: brew install postgresql@15 hypopg; "
    f"or point {BINDIR_ENV} at a directory holding initdb, pg_ctl and postgres"
)


class Sandbox(Protocol):
    """What every sandbox backend offers: a started server with HypoPG, usable in `with`."""

    dsn: str
    server_version_num: int
    hypopg_version: str

    def stop(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


# --- configuration -----------------------------------------------------------------------------


def _setting_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def render_settings(settings: Settings) -> str:
    """postgresql.conf lines for `settings`, sorted, every value quoted.

    >>> render_settings({"port": 5999})
    "port = '5999'\\n"
    """
    lines = []
    for name in sorted(settings):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name):
            raise SandboxError(f"invalid setting name {name!r}")
        value = _setting_value(settings[name]).replace("'", "''")
        if "\n" in value or "\0" in value:
            raise SandboxError(f"invalid value for setting {name}: {value!r}")
        lines.append(f"{name} = '{value}'\n")
    return "".join(lines)


# --- teardown on every way out -----------------------------------------------------------------

_active: list[Sandbox] = []
_atexit_registered = False
_sigterm_installed = False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills; the reaper cleans up
    raise SystemExit(128 + signum)


def _stop_all() -> None:
    for sandbox in reversed(list(_active)):
        try:
            sandbox.stop()
        except Exception as exc:  # at exit, report and go on with the others
            print(f"indexadvisor: sandbox teardown failed: {exc}", file=sys.stderr)


def track(sandbox: Sandbox) -> None:
    """Register a started sandbox for teardown at interpreter exit and on SIGTERM."""
    global _atexit_registered, _sigterm_installed
    _active.append(sandbox)
    if not _atexit_registered:
        atexit.register(_stop_all)
        _atexit_registered = True
    if (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    ):
        signal.signal(signal.SIGTERM, _on_sigterm)
        _sigterm_installed = True


def untrack(sandbox: Sandbox) -> None:
    """Forget a stopped sandbox; restore the SIGTERM default when none is left."""
    global _sigterm_installed
    if sandbox in _active:
        _active.remove(sandbox)
    if (
        not _active
        and _sigterm_installed
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) is _on_sigterm
    ):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _sigterm_installed = False


class StopOnExit:
    """`with sandbox:` stops it, however the block ends."""

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def prepare_server(dsn: str) -> tuple[int, str]:
    """Create HypoPG in the database of `dsn`; return (server_version_num, hypopg version)."""
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=15)
    except psycopg.Error as exc:
        raise SandboxError(f"cannot connect to the server: {exc}") from exc
    with conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            row = conn.execute(
                "SELECT current_setting('server_version_num')::int, extversion"
                " FROM pg_extension WHERE extname = 'hypopg'"
            ).fetchone()
        except psycopg.Error as exc:
            raise SandboxError(
                f"CREATE EXTENSION hypopg failed: {exc}",
                hint="install HypoPG on the server (postgresql-<major>-hypopg)",
            ) from exc
    if row is None:
        raise SandboxError("CREATE EXTENSION hypopg left no extension behind")
    return int(row[0]), str(row[1])
