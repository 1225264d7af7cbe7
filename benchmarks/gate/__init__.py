"""CI gate benchmark: `indexadvisor check` on TPC-H SF1 (see run.py)."""
