"""One error root for everything a user can cause; the CLI catches only this.

>>> isinstance(WorkloadError("x"), AdvisorError)
True
"""

from __future__ import annotations


class AdvisorError(Exception):
    """Root of every error indexadvisor reports to a user (never a traceback)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nhint: {self.hint}"


class ConfigError(AdvisorError):
    """Bad option, bad size, unknown key in [tool.indexadvisor]."""


class SourceError(AdvisorError):
    """A workload source cannot be read at all (missing file, unreadable directory)."""


class WorkloadError(AdvisorError):
    """The workload has nothing that can be advised on."""


class ConnectionFailed(AdvisorError):
    """The target database cannot be reached."""


class ExtensionMissing(AdvisorError):
    """HypoPG (or another required extension) is not available on the target."""


class SandboxError(AdvisorError):
    """The embedded PostgreSQL cannot be found, started or stopped."""


class CostingError(AdvisorError):
    """EXPLAIN failed for a reason that is not the statement's own fault."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (a server error's headline), or its type.

    >>> first_line(ValueError('relation "x" does not exist' + chr(10) + 'LINE 1: ...'))
    'relation "x" does not exist'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
