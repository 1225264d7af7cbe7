"""A throwaway local PostgreSQL with HypoPG: the tool's embedded default.

``initdb`` into a fresh temp dir, start on a unix socket only, ``CREATE EXTENSION hypopg``,
and tear everything down on exit, on exceptions, on Ctrl-C, on SIGTERM, at interpreter exit,
and (through a watchdog process, `indexadvisor._reaper`) when this process is SIGKILLed.

    with open_sandbox() as sb:            # local when binaries exist, else Docker
        conn = psycopg.connect(sb.dsn)

>>> render_settings({"work_mem": "8MB", "search_path": "a, 'b'", "fsync": False})
"fsync = 'off'\\nsearch_path = 'a, ''b'''\\nwork_mem = '8MB'\\n"
"""

from __future__ import annotations

import atexit
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType, TracebackType
from typing import Protocol, Self

import psycopg
from psycopg.conninfo import make_conninfo

from indexadvisor import _reaper
from indexadvisor.errors import SandboxError

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
_MANAGED = frozenset({"port", "unix_socket_directories"})
_SOCKET_PATH_MAX = 107
_LOG_NAME = "sandbox.log"
_INSTALL_HINT = (
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
            hint=_INSTALL_HINT,
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
        hint=_INSTALL_HINT + "; or use the Docker backend",
    )


def server_version(bindir: Path) -> str:
    """The version string of the server in `bindir` (``postgres --version``), e.g. ``15.8``."""
    try:
        done = _run([str(bindir / "postgres"), "--version"])
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"cannot run {bindir / 'postgres'}: {exc}", hint=_INSTALL_HINT) from exc
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)", done.stdout)
    if done.returncode != 0 or not match:
        raise SandboxError(
            f"{bindir / 'postgres'} --version failed: {(done.stderr or done.stdout).strip()}",
            hint=_INSTALL_HINT,
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

    It runs the file in isolated mode (``python -I .../_reaper.py``, equivalent to
    ``python -m indexadvisor._reaper``) so that it imports nothing but the standard library:
    neither a slow nor a half-edited ``indexadvisor/__init__.py`` can keep it from guarding.
    """
    script = Path(__file__).resolve().with_name("_reaper.py")
    return subprocess.Popen(
        [sys.executable, "-I", str(script), str(os.getpid()), str(datadir), str(bindir)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd="/",
    )


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

    def __repr__(self) -> str:
        return f"LocalSandbox(dsn={self.dsn!r})"

    @property
    def log_path(self) -> Path:
        """The server log (inside `datadir`, so it goes away with it)."""
        return self.datadir / _LOG_NAME

    @classmethod
    def start(cls, settings: Settings | None = None, *, bindir: Path | None = None) -> LocalSandbox:
        """initdb, start and prepare a sandbox; `settings` override DEFAULT_SETTINGS."""
        bindir = bindir or find_bindir()
        if not _has_programs(bindir):
            raise SandboxError(f"{bindir} lacks initdb, pg_ctl or postgres", hint=_INSTALL_HINT)
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
            raise SandboxError(f"{what} could not run: {exc}", hint=_INSTALL_HINT) from exc
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
        self.server_version_num, self.hypopg_version = prepare_server(self.dsn)

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


@contextmanager
def local_sandbox(settings: Settings | None = None) -> Iterator[LocalSandbox]:
    """A started LocalSandbox for the duration of a `with` block."""
    with LocalSandbox.start(settings) as sandbox:
        yield sandbox


def open_sandbox(backend: str = "auto", settings: Settings | None = None) -> Sandbox:
    """Start a sandbox: "local", "docker", or "auto" (local when the binaries exist, else Docker).

    The result is started; use it as a context manager so it is stopped.
    """
    if backend == "local":
        return LocalSandbox.start(settings)
    from indexadvisor import sandbox_docker  # imported late: optional, and it imports us

    if backend == "docker":
        return sandbox_docker.DockerSandbox.start(settings)
    if backend != "auto":
        raise SandboxError(f"unknown sandbox backend {backend!r}", hint="use auto, local or docker")
    try:
        bindir = find_bindir()
        find_hypopg(bindir)
    except SandboxError as local_problem:
        available, reason = sandbox_docker.docker_available()
        if available:
            return sandbox_docker.DockerSandbox.start(settings)
        raise SandboxError(
            f"no sandbox available: local: {local_problem.message}; docker: {reason}",
            hint=f"either install PostgreSQL with HypoPG ({_INSTALL_HINT}), "
            "or start a Docker engine (and pip install 'indexadvisor[docker]'), "
            "or pass a DSN of a server that has HypoPG",
        ) from local_problem
    return LocalSandbox.start(settings, bindir=bindir)
