"""The sandbox through testcontainers, for machines with a Docker engine but no local PostgreSQL.

The image is ``$INDEXADVISOR_DOCKER_IMAGE`` or ``postgres:15`` (the official image). When the
image lacks HypoPG, ``postgresql-<PG_MAJOR>-hypopg`` is installed inside the running container
with apt (the official images carry the apt.postgresql.org source; this needs network access).
An image with HypoPG baked in skips that step, e.g. one built from::

    FROM postgres:15
    RUN apt-get update && apt-get install -y postgresql-15-hypopg

Testcontainers' own reaper (Ryuk) removes the container if this process is killed.
"""

from __future__ import annotations

import os
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from psycopg.conninfo import make_conninfo

from ...model.errors import SandboxError, first_line
from .base import (
    DEFAULT_SETTINGS,
    Settings,
    StopOnExit,
    prepare_server,
    track,
    untrack,
)

if TYPE_CHECKING:
    from testcontainers.community.postgres import PostgresContainer

IMAGE_ENV = "INDEXADVISOR_DOCKER_IMAGE"
DEFAULT_IMAGE = "postgres:15"
_CONTAINER_ONLY = frozenset({"listen_addresses"})  # the container must listen on TCP
_HYPOPG_CONTROL = "/usr/share/postgresql/{major}/extension/hypopg.control"


def docker_available(timeout: float = 3.0) -> tuple[bool, str]:
    """(True, "") when a Docker engine answers a ping within `timeout` s, else (False, reason)."""
    try:
        import docker
    except ImportError:
        return False, "the docker Python package is missing (pip install 'indexadvisor[docker]')"
    try:
        client = docker.from_env(timeout=int(max(1, timeout)))
    except Exception as exc:  # docker raises DockerException or plain OS errors here
        return False, f"no Docker engine answers: {first_line(exc)}"
    try:
        client.ping()
    except Exception as exc:
        return False, f"no Docker engine answers: {first_line(exc)}"
    finally:
        client.close()
    return True, ""


def _postgres_container_class() -> type[PostgresContainer]:
    try:  # testcontainers >= 4.14 moved it; older 4.x only have the top-level module
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError as exc:
            raise SandboxError(
                "testcontainers is not installed", hint="pip install 'indexadvisor[docker]'"
            ) from exc
    return PostgresContainer



def _command(settings: Settings) -> list[str]:
    merged = {**DEFAULT_SETTINGS, **settings}
    args = ["postgres"]
    for name in sorted(merged):
        if name in _CONTAINER_ONLY:
            continue
        value = merged[name]
        text = ("on" if value else "off") if isinstance(value, bool) else str(value)
        args += ["-c", f"{name}={text}"]
    return args


class DockerSandbox(StopOnExit):
    """A PostgreSQL container with HypoPG, with the LocalSandbox interface."""

    def __init__(self, container: PostgresContainer) -> None:
        self.container = container
        self.dsn = ""
        self.server_version_num = 0
        self.hypopg_version = ""
        self._stopped = False

    def __repr__(self) -> str:
        return f"DockerSandbox(image={self.container.image!r}, dsn={self.dsn!r})"

    @classmethod
    def start(cls, settings: Settings | None = None, *, image: str | None = None) -> DockerSandbox:
        """Start a container, make sure HypoPG is there, and create the extension."""
        available, reason = docker_available()
        if not available:
            raise SandboxError(
                f"Docker sandbox unavailable: {reason}",
                hint="start a Docker engine, or install PostgreSQL and HypoPG locally",
            )
        postgres_container = _postgres_container_class()
        image = image or os.environ.get(IMAGE_ENV) or DEFAULT_IMAGE
        container = postgres_container(
            image, username="postgres", password="postgres", dbname="postgres", driver=None
        ).with_command(_command(settings or {}))
        sandbox = cls(container)
        track(sandbox)
        try:
            container.start()
            sandbox._install_hypopg()
            sandbox.dsn = make_conninfo(
                host=container.get_container_host_ip(),
                port=container.get_exposed_port(5432),
                user="postgres",
                password="postgres",
                dbname="postgres",
            )
            sandbox.server_version_num, sandbox.hypopg_version = prepare_server(sandbox.dsn)
        except BaseException as exc:
            with suppress(SandboxError):
                sandbox.stop()
            if isinstance(exc, Exception) and not isinstance(exc, SandboxError):
                raise SandboxError(f"Docker sandbox ({image}) failed to start: {exc}") from exc
            raise
        return sandbox

    def _exec(self, *args: str) -> tuple[int, str]:
        result: Any = self.container.exec(list(args))
        return int(result.exit_code), bytes(result.output or b"").decode(errors="replace")

    def _install_hypopg(self) -> None:
        code, out = self._exec("printenv", "PG_MAJOR")
        major = out.strip()
        if code != 0 or not major:
            raise SandboxError(
                f"image {self.container.image} does not say its PG_MAJOR",
                hint="use an official postgres image, or one with HypoPG installed",
            )
        if self._exec("test", "-f", _HYPOPG_CONTROL.format(major=major))[0] == 0:
            return
        package = f"postgresql-{major}-hypopg"
        for step in (("apt-get", "update", "-qq"), ("apt-get", "install", "-y", "-qq", package)):
            code, out = self._exec(*step)
            if code != 0:
                tail = "\n".join(out.strip().splitlines()[-10:])
                raise SandboxError(
                    f"could not install {package} in {self.container.image}: {tail}",
                    hint=f"build an image with it: FROM {self.container.image} / "
                    f"RUN apt-get update && apt-get install -y {package}; "
                    f"then set {IMAGE_ENV}",
                )

    def stop(self) -> None:
        """Remove the container (idempotent)."""
        if self._stopped:
            return
        try:
            self.container.stop()
        except Exception as exc:
            raise SandboxError(f"could not remove the sandbox container: {exc}") from exc
        self._stopped = True
        untrack(self)

