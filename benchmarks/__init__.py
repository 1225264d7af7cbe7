"""Benchmarks for indexadvisor (see BENCHMARKS.md)."""
