"""Workload sources. Each yields `Statement`s and `Skipped` records; nothing more.

The collector (`indexadvisor.collect`) turns that stream into a `Workload`.
"""

from .sql_files import read_sql_paths, split_sql

__all__ = ["read_sql_paths", "split_sql"]
