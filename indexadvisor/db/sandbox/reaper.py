"""Watchdog for a sandbox server, and the teardown it shares with `indexadvisor.sandbox`.

Run as ``python -m indexadvisor._reaper <parent_pid> <datadir> <bindir>`` in its own session.
It polls every 0.3 s whether the parent is alive; once the parent is gone (even SIGKILLed) it
stops the server (``pg_ctl stop -m immediate``, then SIGKILL), removes the data directory and
exits. When the data directory disappears while the parent lives (a normal teardown), it exits.

Only the standard library is imported here: the watchdog must start fast and must not depend
on anything that could be half-imported when the parent dies.

>>> is_sandbox_dir(Path("/tmp/indexadvisor-abc123")), is_sandbox_dir(Path("/tmp"))
(True, False)
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SANDBOX_PREFIX = "indexadvisor-"
SERVER_USER = "postgres"
POLL_SECONDS = 0.3
_SERVER_PROGRAMS = frozenset({"postgres", "postmaster", "pg_ctl", "initdb"})


def is_sandbox_dir(path: Path) -> bool:
    """True when `path` looks like a directory this package created (the only kind it removes)."""
    return path.name.startswith(SANDBOX_PREFIX) and path.is_absolute()


def server_user_kwargs() -> dict[str, Any]:
    """`subprocess` keyword arguments that run a PostgreSQL program as an unprivileged user.

    PostgreSQL refuses to run as root, so when our euid is 0 the programs are started as the
    ``postgres`` OS user (uid, gid, no supplementary groups); otherwise as ourselves.
    Raises KeyError when root and no such user exists.
    """
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(SERVER_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def clean_env() -> dict[str, str]:
    """Our environment minus the PG* variables that could redirect PostgreSQL programs."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def run_server_program(
    args: Sequence[str], *, cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run one PostgreSQL program (argument list, no shell) as the server user, output captured.

    It runs in its own session, so a Ctrl-C at the terminal reaches only Python, which then
    tears down in order.
    """
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        start_new_session=True,
        **server_user_kwargs(),
    )


def postmaster_pid(datadir: Path) -> int | None:
    """The postmaster pid recorded in ``postmaster.pid``, or None."""
    try:
        first = (datadir / "postmaster.pid").read_text().split("\n", 1)[0].strip()
        return int(first)
    except (OSError, ValueError):
        return None


def _argv(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; it only waits for its parent to reap it
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _cwd(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/cwd").removesuffix(" (deleted)")
    except OSError:
        return None


def server_processes(datadir: Path) -> list[int]:
    """Pids of PostgreSQL programs working on `datadir` (Linux; elsewhere []).

    A program qualifies when it is initdb, pg_ctl or postgres (also with a rewritten process
    title such as ``postgres: checkpointer``) and either names `datadir` in its arguments or
    runs inside it (every postgres process, including the ``--single`` backends that initdb
    starts without ``-D``, changes into its data directory). This finds a postmaster that is
    still starting (no ``postmaster.pid`` yet) and the programs of an interrupted initdb.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    target = str(datadir)
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        argv = _argv(pid)
        if not argv or Path(argv[0].split(":")[0]).name not in _SERVER_PROGRAMS:
            continue
        cwd = _cwd(pid)
        inside = cwd is not None and (cwd == target or cwd.startswith(target + os.sep))
        if inside or target in argv[1:]:
            found.append(pid)
    return sorted(found)


def _kill(pids: Iterable[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _belongs_to(pid: int, datadir: Path) -> bool:
    """Guard against a stale pid file naming a pid the system has since reused."""
    return not Path("/proc").is_dir() or pid in server_processes(datadir)


def shut_down(datadir: Path, bindir: Path, modes: Sequence[str] = ("immediate",)) -> list[str]:
    """Stop the server on `datadir`: pg_ctl with each mode in turn, then SIGKILL what is left.

    Returns the pg_ctl messages of failed attempts (for error reports).
    """
    problems: list[str] = []
    for mode in modes:
        if not (datadir / "postmaster.pid").exists():
            break
        args = [str(bindir / "pg_ctl"), "stop", "-D", str(datadir), "-m", mode, "-w", "-t", "20"]
        try:
            done = run_server_program(args, cwd=Path("/"), timeout=30)
        except (OSError, subprocess.TimeoutExpired, KeyError) as exc:
            problems.append(f"pg_ctl stop -m {mode}: {exc}")
            continue
        if done.returncode == 0:
            break
        problems.append(f"pg_ctl stop -m {mode}: {(done.stderr or done.stdout).strip()}")
    pid = postmaster_pid(datadir)
    leftovers = set(server_processes(datadir))
    if pid is not None and _alive(pid) and _belongs_to(pid, datadir):
        leftovers.add(pid)
    _kill(leftovers)
    _wait_gone(leftovers, timeout=5.0)
    return problems


def _wait_gone(pids: Iterable[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(pids)
    while pending and time.monotonic() < deadline:
        pending = {pid for pid in pending if _alive(pid)}
        if pending:
            time.sleep(0.05)


def remove_dir(path: Path) -> None:
    """Remove a sandbox directory (refuses anything not named like one)."""
    if not is_sandbox_dir(path):
        raise ValueError(f"refusing to remove {path}: not a sandbox directory")
    shutil.rmtree(path, ignore_errors=True)


def teardown(datadir: Path, bindir: Path, modes: Sequence[str] = ("immediate",)) -> list[str]:
    """Stop the server and remove `datadir`, killing whatever still writes into it meanwhile.

    Returns the pg_ctl messages of failed attempts (for error reports).
    """
    problems = shut_down(datadir, bindir, modes)
    for _ in range(50):
        remove_dir(datadir)
        late = server_processes(datadir)
        if not late and not datadir.exists():
            break
        _kill(late)
        _wait_gone(late, timeout=5.0)
        time.sleep(0.05)
    return problems


def watch(parent_pid: int, datadir: Path, bindir: Path) -> None:
    """Poll until the parent is gone (then tear down) or the directory is gone (then just exit)."""
    # Reparenting is the reliable sign: a dead parent's pid can be reused, our ppid cannot return.
    adopted = os.getppid() == parent_pid

    def parent_alive() -> bool:
        return os.getppid() == parent_pid if adopted else _alive(parent_pid)

    while parent_alive():
        if not datadir.exists():
            return
        time.sleep(POLL_SECONDS)
    if datadir.exists():
        teardown(datadir, bindir)


def main(argv: Sequence[str]) -> int:
    """Entry point: ``<parent_pid> <datadir> <bindir>``."""
    if len(argv) != 3:
        print("usage: _reaper.py <parent_pid> <datadir> <bindir>", file=sys.stderr)
        return 2
    datadir = Path(argv[1])
    if not is_sandbox_dir(datadir):
        print(f"not a sandbox directory: {datadir}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    watch(int(argv[0]), datadir, Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
