"""Scale benchmarks: a snowflake-schema analytic workload and 5,000 OLTP statements, both
generated here, deterministically, with no download (see README.md)."""
