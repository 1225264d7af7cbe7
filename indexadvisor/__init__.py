"""indexadvisor: workload-level index advice for PostgreSQL, costed by the real planner.

The public API::

    from indexadvisor import AdvisorConfig, advise, connect, load_workload
    workload = load_workload(["queries/"])
    with connect(dsn) as conn:
        advice = advise(workload, conn, AdvisorConfig(budget_bytes=10**9))

    from indexadvisor import load_advice       # a saved JSON report, back as values
    advice = load_advice("reports/advice.json")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .model.errors import AdvisorError

if TYPE_CHECKING:
    from .db.connect import connect
    from .ingest import SourceOptions
    from .model import Advice, AdvisorConfig, Workload
    from .pipeline.advise import advise
    from .report import load_advice

# Imported on first use: `python -m indexadvisor ingest` need not load the planner side
# (psycopg, SQLAlchemy, sqlglot), which is about a third of a second of start-up.
_LAZY = {"Advice": ".model", "AdvisorConfig": ".model", "Workload": ".model",
         "advise": ".pipeline.advise", "connect": ".db.connect", "load_advice": ".report",
         "SourceOptions": ".ingest"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_workload(paths: list[str], options: SourceOptions | None = None) -> Workload:
    """Read .sql files, PostgreSQL logs, pg_stat_statements exports, ingest summaries and
    directories into a grouped, weighted workload (in this process: `options.jobs` is for
    the command line, which makes the worker processes)."""
    from .ingest.open import expand
    from .ingest.summarize import summarize

    return summarize(expand(paths), options).workload()


__all__ = [
    "Advice",
    "AdvisorConfig",
    "AdvisorError",
    "Workload",
    "__version__",
    "advise",
    "connect",
    "load_advice",
    "load_workload",
]
