"""indexadvisor: workload-level index advice for PostgreSQL, costed by the real planner."""

from .errors import AdvisorError

__version__ = "0.1.0"
__all__ = ["AdvisorError", "__version__"]
