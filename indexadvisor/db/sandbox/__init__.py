"""Throwaway PostgreSQL servers with HypoPG: local (initdb in a temp dir) or Docker.

    with open_sandbox() as sb:            # local when binaries exist, else Docker
        conn = psycopg.connect(sb.dsn)
"""

from __future__ import annotations

from ...model.errors import SandboxError
from .base import DEFAULT_SETTINGS, INSTALL_HINT, Sandbox, Settings, prepare_server
from .local import LocalSandbox, find_bindir, find_hypopg, local_sandbox

__all__ = ["DEFAULT_SETTINGS", "LocalSandbox", "Sandbox", "Settings", "local_sandbox",
           "open_sandbox", "prepare_server"]


def open_sandbox(backend: str = "auto", settings: Settings | None = None) -> Sandbox:
    """Start a sandbox: "local", "docker", or "auto" (local when the binaries exist, else Docker).

    The result is started; use it as a context manager so it is stopped.
    """
    if backend == "local":
        return LocalSandbox.start(settings)
    from . import docker as sandbox_docker  # imported late: optional (testcontainers)

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
            hint=f"either install PostgreSQL with HypoPG ({INSTALL_HINT}), "
            "or start a Docker engine (and pip install 'indexadvisor[docker]'), "
            "or pass a DSN of a server that has HypoPG",
        ) from local_problem
    return LocalSandbox.start(settings, bindir=bindir)
