"""A throwaway local PostgreSQL with HypoPG: the tool's embedded default.

``initdb`` into a fresh temp dir, start on a unix socket only, ``CREATE EXTENSION hypopg``,
and tear everything down on exit, on exceptions, on Ctrl-C, on SIGTERM, at interpreter exit,
and (through a watchdog process, `reaper`) when this process is SIGKILLed.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from psycopg.conninfo import make_conninfo

from ...model.errors import SandboxError
from . import reaper as _reaper
from .base import (
    BINDIR_ENV,
    DEFAULT_SETTINGS,
    INSTALL_HINT,
    REQUIRED_PROGRAMS,
    Settings,
    StopOnExit,
    prepare_server,
    render_settings,
    track,
    untrack,
)

_MANAGED = frozenset({"port", "unix_socket_directories"})
_SOCKET_PATH_MAX = 107
_LOG_NAME = "sandbox.log"


# --- finding the installation ------------------------------------------------------------------


def _has_programs(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in REQUIRED_PROGRAMS)


def _run(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )


def _pg_config(pg_config: Path | str, option: str) -> Path | None:
    try:
        done = _run([str(pg_config), option])
    except (OSError, subprocess.TimeoutExpired):
        return None
    out = done.stdout.strip()
    return Path(out) if done.returncode == 0 and out else None


def _debian_bindirs() -> list[Path]:
    root = Path("/usr/lib/postgresql")
    if not root.is_dir():
        return []
    versions = [p for p in root.iterdir() if re.fullmatch(r"\d+(\.\d+)?", p.name)]
    versions.sort(key=lambda p: tuple(int(x) for x in p.name.split(".")), reverse=True)
    return [p / "bin" for p in versions]


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres.

    Looks at ``$INDEXADVISOR_PG_BINDIR`` (and only there when it is set), then
    ``pg_config --bindir``, then the programs on PATH, then ``/usr/lib/postgresql/<highest>/bin``.
    Raises SandboxError naming the packages to install.
    """
    explicit = os.environ.get(BINDIR_ENV)
    if explicit:
        bindir = Path(explicit).expanduser()
        if _has_programs(bindir):
            return bindir.resolve()
        missing = [n for n in REQUIRED_PROGRAMS if not os.access(bindir / n, os.X_OK)]
        raise SandboxError(
            f"{BINDIR_ENV}={explicit} lacks {', '.join(missing)}; "
            "install the PostgreSQL server (apt-get install postgresql-15 postgresql-15-hypopg)",
            hint=INSTALL_HINT,
        )
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = _pg_config(pg_config, "--bindir")
        if found:
            candidates.append(found)
    for name in ("postgres", "initdb"):
        on_path = shutil.which(name)
        if on_path:
            candidates += [Path(on_path).parent, Path(on_path).resolve().parent]
    candidates += _debian_bindirs()
    for bindir in candidates:
        if _has_programs(bindir):
            return bindir.resolve()
    raise SandboxError(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found; "
        "install them (apt-get install postgresql-15 postgresql-15-hypopg)",
        hint=INSTALL_HINT + "; or use the Docker backend",
    )


def server_version(bindir: Path) -> str:
    """The version string of the server in `bindir` (``postgres --version``), e.g. ``15.8``."""
    try:
        done = _run([str(bindir / "postgres"), "--version"])
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"cannot run {bindir / 'postgres'}: {exc}", hint=INSTALL_HINT) from exc
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)", done.stdout)
    if done.returncode != 0 or not match:
        raise SandboxError(
            f"{bindir / 'postgres'} --version failed: {(done.stderr or done.stdout).strip()}",
            hint=INSTALL_HINT,
        )
    return match.group(1)


def _sharedir(bindir: Path, major: str) -> Path | None:
    candidates: list[Path | None] = [_pg_config(bindir / "pg_config", "--sharedir")]
    on_path = shutil.which("pg_config")
    if on_path and _pg_config(on_path, "--bindir") in (bindir, bindir.resolve()):
        candidates.append(_pg_config(on_path, "--sharedir"))
    candidates += [
        Path("/usr/share/postgresql") / major,
        bindir.parent / "share" / "postgresql",
        bindir.parent / "share",
    ]
    for sharedir in candidates:
        if sharedir is not None and (sharedir / "extension").is_dir():
            return sharedir
    return None


def find_hypopg(bindir: Path) -> Path:
    """The ``hypopg.control`` file of the installation in `bindir`.

    Raises SandboxError naming the package (``postgresql-<major>-hypopg``) when it is missing.
    """
    major = server_version(bindir).split(".")[0]
    sharedir = _sharedir(bindir, major)
    control = sharedir / "extension" / "hypopg.control" if sharedir else None
    if control is None or not control.is_file():
        where = f" in {sharedir / 'extension'}" if sharedir else ""
        raise SandboxError(
            f"HypoPG is not installed for PostgreSQL {major}{where}; "
            f"install it (apt-get install postgresql-{major}-hypopg)",
            hint=f"Debian/Ubuntu: apt-get install postgresql-{major}-hypopg; "
            "elsewhere build it from https://github.com/HypoPG/hypopg (make install)",
        )
    return control


# --- the local sandbox -------------------------------------------------------------------------


def _traversable_by_others(path: Path) -> bool:
    for part in (path, *path.parents):
        try:
            if not os.stat(part).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
    return True


def _make_tempdir() -> Path:
    """A fresh private dir, short enough for a socket path, owned by the server user."""
    base = Path(tempfile.gettempdir())
    too_long = len(str(base)) + len("/indexadvisor-xxxxxxxx/.s.PGSQL.65535.lock") > _SOCKET_PATH_MAX
    if too_long or (os.geteuid() == 0 and not _traversable_by_others(base)):
        base = Path("/tmp")
    path = Path(tempfile.mkdtemp(prefix=_reaper.SANDBOX_PREFIX, dir=base))
    user = _reaper.server_user_kwargs()
    if user:
        os.chown(path, user["user"], user["group"])
    return path


def _free_port(sockdir: Path) -> int:
    while True:
        port = random.randint(20000, 60000)
        if not any((sockdir / f".s.PGSQL.{port}{ext}").exists() for ext in ("", ".lock")):
            return port


def _log_tail(log: Path, lines: int = 20) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _spawn_reaper(datadir: Path, bindir: Path) -> subprocess.Popen[bytes]:
    """Start the watchdog in its own session (immune to the terminal's Ctrl-C).

    It runs the file in isolated mode (``python -I .../reaper.py``, equivalent to
    ``python -m indexadvisor.db.sandbox.reaper``) so that it imports nothing but the standard
    library:
    neither a slow nor a half-edited ``indexadvisor/__init__.py`` can keep it from guarding.
    """
    script = Path(__file__).resolve().with_name("reaper.py")
    return subprocess.Popen(
        [sys.executable, "-I", str(script), str(os.getpid()), str(datadir), str(bindir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd="/",
    )


class LocalSandbox(StopOnExit):
    """A PostgreSQL server in a temp dir, reachable on a unix socket only, with HypoPG."""

    def __init__(self, bindir: Path, datadir: Path, port: int) -> None:
        self.bindir = bindir
        self.datadir = datadir
        self.port = port
        self.dsn = make_conninfo(host=str(datadir), port=port, user="postgres", dbname="postgres")
        self.server_version_num = 0
        self.hypopg_version = ""
        self._reaper: subprocess.Popen[bytes] | None = None
        self._owner_pid = os.getpid()
        self._stopped = False
        self._hypopg = True

    def __repr__(self) -> str:
        return f"LocalSandbox(dsn={self.dsn!r})"

    @property
    def log_path(self) -> Path:
        """The server log (inside `datadir`, so it goes away with it)."""
        return self.datadir / _LOG_NAME

    @classmethod
    def start(cls, settings: Settings | None = None, *, bindir: Path | None = None,
              hypopg: bool = True) -> LocalSandbox:
        """initdb, start and prepare a sandbox; `settings` override DEFAULT_SETTINGS.
        `hypopg=False` starts a server without HypoPG (only for tests that need no what-if
        indexes, e.g. on a PostgreSQL build that has no HypoPG)."""
        bindir = bindir or find_bindir()
        if not _has_programs(bindir):
            raise SandboxError(f"{bindir} lacks initdb, pg_ctl or postgres", hint=INSTALL_HINT)
        if hypopg:
            find_hypopg(bindir)
        managed = _MANAGED & set(settings or {})
        if managed:
            raise SandboxError(f"the sandbox sets {', '.join(sorted(managed))} itself")
        config = render_settings({**DEFAULT_SETTINGS, **(settings or {})})
        try:
            datadir = _make_tempdir()
        except KeyError as exc:
            raise SandboxError(
                "running as root, and there is no 'postgres' OS user to run the server as",
                hint="create one (useradd --system postgres) or run as an ordinary user",
            ) from exc
        sandbox = cls(bindir, datadir, _free_port(datadir))
        sandbox._hypopg = hypopg
        track(sandbox)
        try:
            sandbox._reaper = _spawn_reaper(datadir, bindir)
            sandbox._initdb()
            sandbox._configure(config)
            sandbox._launch()
            sandbox._prepare()
        except BaseException:
            with suppress(SandboxError):  # if so, the reaper owns the dir and finishes the job
                sandbox.stop()
            raise
        return sandbox

    def _program(self, args: list[str], what: str, timeout: float) -> None:
        try:
            done = _reaper.run_server_program(args, cwd=self.datadir, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(
                f"{what} timed out after {timeout:.0f} s\n{_log_tail(self.log_path)}"
            ) from exc
        except OSError as exc:
            raise SandboxError(f"{what} could not run: {exc}", hint=INSTALL_HINT) from exc
        if done.returncode != 0:
            output = (done.stderr + done.stdout).strip()
            log = _log_tail(self.log_path) if self.log_path.exists() else ""
            raise SandboxError(f"{what} failed (exit {done.returncode}): {output}\n{log}".rstrip())

    def _initdb(self) -> None:
        args = [
            str(self.bindir / "initdb"), "-D", str(self.datadir), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
        ]  # fmt: skip
        self._program(args, "initdb", timeout=120)

    def _configure(self, config: str) -> None:
        own = render_settings({"port": self.port, "unix_socket_directories": str(self.datadir)})
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# indexadvisor sandbox\n" + config + own)

    def _launch(self) -> None:
        args = [
            str(self.bindir / "pg_ctl"), "start", "-D", str(self.datadir),
            "-l", str(self.log_path), "-w", "-t", "60", "-s",
        ]  # fmt: skip
        self._program(args, "starting the sandbox server", timeout=90)

    def _prepare(self) -> None:
        if getattr(self, "_hypopg", True):
            self.server_version_num, self.hypopg_version = prepare_server(self.dsn)
            return
        import psycopg

        with psycopg.connect(self.dsn, connect_timeout=15) as conn:
            row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
        self.server_version_num = int(row[0]) if row else 0

    def stop(self) -> None:
        """Stop the server (fast, then immediate, then kill), remove the dir, end the reaper.

        Idempotent, and a no-op in a forked child: only the process that started it stops it.
        Raises SandboxError if the directory cannot be removed; the reaper then stays alive and
        removes it when this process exits.
        """
        if self._stopped or os.getpid() != self._owner_pid:
            return
        try:
            problems = _reaper.teardown(self.datadir, self.bindir, modes=("fast", "immediate"))
        except BaseException:
            # Interrupted (Ctrl-C, SIGTERM) while stopping: finish the short way, then go on
            # with the interruption. Another one here leaves it to atexit and the reaper.
            _reaper.teardown(self.datadir, self.bindir)
            self._finish()
            raise
        if self.datadir.exists():
            raise SandboxError(f"could not remove {self.datadir}: " + "; ".join(problems))
        self._finish()

    def _finish(self) -> None:
        """Once the directory is gone: end the reaper and forget this sandbox."""
        if self.datadir.exists():
            return
        if self._reaper is not None:
            self._reaper.terminate()
            try:
                self._reaper.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._reaper.kill()
                self._reaper.wait()
        self._stopped = True
        untrack(self)



@contextmanager
def local_sandbox(settings: Settings | None = None) -> Iterator[LocalSandbox]:
    """A started LocalSandbox for the duration of a `with` block."""
    with LocalSandbox.start(settings) as sandbox:
        yield sandbox
