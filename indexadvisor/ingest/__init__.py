"""Workload sources. Each yields `Statement`s and `Skipped` records; nothing more.

`read_sources` sniffs every file (.sql, PostgreSQL logs, pg_stat_statements exports); the
collector (`indexadvisor.collect`) turns that stream into a `Workload`.
"""

from .pg_log.records import Filters
from .sources import SourceOptions, read_sources
from .sql_files import read_sql_paths, split_sql

__all__ = ["Filters", "SourceOptions", "read_sources", "read_sql_paths", "split_sql"]
