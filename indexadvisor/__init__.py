"""indexadvisor: workload-level index advice for PostgreSQL, costed by the real planner.

The public API::

    from indexadvisor import AdvisorConfig, advise, connect, load_workload
    workload = load_workload(["queries/"])
    with connect(dsn) as conn:
        advice = advise(workload, conn, AdvisorConfig(budget_bytes=10**9))
"""

from .errors import AdvisorError

__version__ = "0.1.0"

from .advise import Advice, advise
from .collect import collect
from .config import AdvisorConfig
from .db import connect
from .ingest import SourceOptions, read_sources
from .model import Workload


def load_workload(paths: list[str], options: SourceOptions | None = None) -> Workload:
    """Read .sql files, PostgreSQL logs and directories into a grouped, weighted workload."""
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
