"""The sandbox against real PostgreSQL: lifecycle, and teardown on every way a process can end."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from indexadvisor.db.sandbox import LocalSandbox, local_sandbox, open_sandbox
from indexadvisor.db.sandbox import reaper as _reaper
from indexadvisor.db.sandbox.base import BINDIR_ENV
from indexadvisor.db.sandbox.docker import docker_available
from indexadvisor.db.sandbox.local import find_bindir, find_hypopg, server_version
from indexadvisor.model.errors import SandboxError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bindir() -> Path:
    """The local installation; the tests that need one skip where there is none."""
    try:
        found = find_bindir()
        find_hypopg(found)
    except SandboxError as exc:
        pytest.skip(f"no local PostgreSQL with HypoPG: {exc.message}")
    return found


@pytest.fixture
def private_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Make the sandbox create its dir inside a fresh dir of ours, to check nothing is left."""
    base = Path(tempfile.mkdtemp(prefix="ia-test-", dir="/tmp"))
    base.chmod(0o755)  # the server user must be able to reach the sandbox dir
    monkeypatch.setattr(tempfile, "tempdir", str(base))
    try:
        yield base
        assert list(base.iterdir()) == [], "a sandbox dir was left behind"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _gone(pid: int) -> bool:
    return not _reaper._alive(pid)


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_lifecycle(bindir: Path, private_tmp: Path) -> None:
    with open_sandbox("auto", settings={"work_mem": "8MB"}) as sb:
        assert isinstance(sb, LocalSandbox)
        assert sb.datadir.parent == private_tmp and sb.bindir == bindir
        assert sb.server_version_num >= 130000 and sb.hypopg_version
        postmaster = _reaper.postmaster_pid(sb.datadir)
        assert postmaster is not None and not _gone(postmaster)
        if os.geteuid() == 0:
            assert sb.datadir.stat().st_uid != 0  # initdb and the server ran unprivileged
        with psycopg.connect(sb.dsn, autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
            assert conn.execute("SHOW work_mem").fetchone() == ("8MB",)
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
            assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
            extensions = conn.execute("SELECT extname FROM pg_extension").fetchall()
            assert ("hypopg",) in extensions
            conn.execute("CREATE TABLE t (a int, b text)")
            row = conn.execute("SELECT * FROM hypopg_create_index('CREATE INDEX ON t (a)')")
            oid, name = row.fetchone() or (None, None)
            assert oid and "btree_t_a" in name
            plan = conn.execute("EXPLAIN SELECT * FROM t WHERE a = 1").fetchall()
            assert any("btree_t_a" in line for (line,) in plan)
        reaper = sb._reaper
        assert reaper is not None and reaper.poll() is None
    assert not sb.datadir.exists()
    assert _wait_until(lambda: _gone(postmaster), 5), "postmaster still running"
    assert reaper.poll() is not None, "reaper still running"
    sb.stop()  # twice is fine


def test_local_sandbox_context_manager(bindir: Path, private_tmp: Path) -> None:
    with local_sandbox() as sb, psycopg.connect(sb.dsn) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    assert not sb.datadir.exists()


def test_startup_failure_reports_the_log(bindir: Path, private_tmp: Path) -> None:
    with pytest.raises(SandboxError) as caught:
        LocalSandbox.start(settings={"shared_buffers": "lots"})
    assert "shared_buffers" in str(caught.value)  # the tail of the server log is in the message


def test_managed_settings_are_refused(bindir: Path) -> None:
    with pytest.raises(SandboxError, match="port"):
        LocalSandbox.start(settings={"port": 5432})


def test_unknown_backend() -> None:
    with pytest.raises(SandboxError, match="unknown sandbox backend"):
        open_sandbox("vm")


# --- the owning process ends badly ---------------------------------------------------------

_PREAMBLE = """
import sys
from indexadvisor.db.sandbox import reaper as _reaper
from indexadvisor.db.sandbox import LocalSandbox
def report(sb):
    print(sb.datadir, _reaper.postmaster_pid(sb.datadir), sb._reaper.pid, flush=True)
"""
_OWNER_WITH = """
with LocalSandbox.start() as sb:
    report(sb)
    sys.stdin.read()  # until the test process closes the pipe or dies
"""
_OWNER_BARE = """
sb = LocalSandbox.start()
report(sb)
sys.stdin.read()
"""


Owner = tuple[subprocess.Popen[str], Path, int, int]


@pytest.fixture
def spawn_owner() -> Iterator[Callable[..., Owner]]:
    """Start owner processes; at teardown, end those still alive by closing their stdin."""
    started: list[subprocess.Popen[str]] = []

    def spawn(*, use_with: bool) -> Owner:
        owner = _spawn_owner(use_with=use_with)
        started.append(owner[0])
        return owner

    yield spawn
    for proc in started:
        if proc.poll() is None:
            proc.communicate(timeout=30)  # closing stdin ends it normally


def _spawn_owner(*, use_with: bool) -> Owner:
    """A python process that owns a sandbox and waits for EOF on stdin.

    Returns (process, datadir, postmaster pid, reaper pid). Should this test process die, the
    pipe closes and the owner ends too.
    """
    code = _PREAMBLE + (_OWNER_WITH if use_with else _OWNER_BARE)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    )
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
    finally:
        watchdog.cancel()
    if len(line) != 3:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"owner process did not start a sandbox: {err}")
    return proc, Path(line[0]), int(line[1]), int(line[2])


def _assert_cleaned(datadir: Path, postmaster: int, reaper: int, timeout: float) -> None:
    assert _wait_until(lambda: not datadir.exists(), timeout), f"{datadir} left behind"
    assert _wait_until(lambda: _gone(postmaster), timeout), "postmaster left running"
    assert _wait_until(lambda: _gone(reaper), timeout), "reaper left running"


def test_owner_sigkilled_reaper_cleans_up(bindir: Path, spawn_owner: Callable[..., Owner]) -> None:
    proc, datadir, postmaster, reaper = spawn_owner(use_with=False)
    assert datadir.exists() and not _gone(postmaster)
    proc.kill()
    proc.wait(timeout=10)
    proc.communicate()
    _assert_cleaned(datadir, postmaster, reaper, timeout=15)


def test_owner_interrupted_cleans_up_itself(
    bindir: Path, spawn_owner: Callable[..., Owner]
) -> None:
    proc, datadir, postmaster, reaper = spawn_owner(use_with=True)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)  # before communicate() closes stdin
    _, err = proc.communicate()
    assert "KeyboardInterrupt" in err
    # cleaned up before the process ended, not later by the reaper
    assert not datadir.exists()
    _assert_cleaned(datadir, postmaster, reaper, timeout=5)


def test_owner_terminated_cleans_up_at_exit(
    bindir: Path, spawn_owner: Callable[..., Owner]
) -> None:
    proc, datadir, postmaster, reaper = spawn_owner(use_with=False)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)  # before communicate() closes stdin
    _, err = proc.communicate()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert not datadir.exists()  # done by the SIGTERM handler and atexit, not the reaper
    _assert_cleaned(datadir, postmaster, reaper, timeout=5)


# --- missing pieces ------------------------------------------------------------------------


def test_missing_binaries_name_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))
    with pytest.raises(SandboxError) as caught:
        find_bindir()
    assert "postgresql-15" in str(caught.value)
    with pytest.raises(SandboxError, match="postgresql-15"):
        LocalSandbox.start()


def test_missing_hypopg_names_the_package(bindir: Path, tmp_path: Path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("initdb", "pg_ctl", "postgres"):
        (fake_bin / name).symlink_to(bindir / name)
    share = tmp_path / "share"
    (share / "extension").mkdir(parents=True)
    pg_config = fake_bin / "pg_config"
    pg_config.write_text(f"#!/bin/sh\necho {share}\n")
    pg_config.chmod(0o755)
    major = server_version(bindir).split(".")[0]
    with pytest.raises(SandboxError, match=f"postgresql-{major}-hypopg"):
        find_hypopg(fake_bin)


def test_session_server_has_hypopg(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'hypopg'")
        assert row.fetchone() is not None


@pytest.mark.docker
def test_docker_backend() -> None:
    available, reason = docker_available()
    if not available:
        pytest.skip(reason)
    with open_sandbox("docker") as sb, psycopg.connect(sb.dsn, autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.execute("CREATE TABLE t (a int)")
        row = conn.execute("SELECT * FROM hypopg_create_index('CREATE INDEX ON t (a)')")
        assert row.fetchone() is not None
