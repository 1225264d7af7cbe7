"""PostgreSQL server logs: stderr (any log_line_prefix), csvlog, jsonlog.

`records` holds the pairing rules shared by the formats, `aggregate` the shape
pre-aggregation that keeps the common record off the per-statement slow path.
"""

from .prefix import Prefix, compile_prefix, detect_prefix
from .records import Filters, parse_parameters

__all__ = ["Filters", "Prefix", "compile_prefix", "detect_prefix", "parse_parameters"]
