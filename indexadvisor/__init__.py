"""indexadvisor: workload-level index advice for PostgreSQL, costed by the real planner.

The public API::

    from indexadvisor import AdvisorConfig, advise, connect, load_workload
    workload = load_workload(["queries/"])
    with connect(dsn) as conn:
        advice = advise(workload, conn, AdvisorConfig(budget_bytes=10**9))
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from .errors import AdvisorError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .advise import Advice, advise
    from .config import AdvisorConfig
    from .db import connect
    from .ingest import SourceOptions
    from .model import Workload

# Imported on first use: `python -m indexadvisor ingest` need not load the planner side
# (psycopg, SQLAlchemy), which is about a third of a second of start-up.
_LAZY = {"Advice": ".advise", "advise": ".advise", "AdvisorConfig": ".config",
         "connect": ".db", "Workload": ".model", "collect": ".collect",
         "SourceOptions": ".ingest", "read_sources": ".ingest"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """`advise` and `collect` name both a submodule and its function; the package attribute
    stays the function (as with an eager `from .advise import advise`), although importing
    the submodule later sets it to the module."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("advise", "collect") and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def load_workload(paths: list[str], options: SourceOptions | None = None) -> Workload:
    """Read .sql files, PostgreSQL logs and directories into a grouped, weighted workload."""
    from .collect import collect
    from .ingest import read_sources

    return collect(read_sources(paths, options))


__all__ = [
    "Advice",
    "AdvisorConfig",
    "AdvisorError",
    "Workload",
    "__version__",
    "advise",
    "connect",
    "load_workload",
]
