"""The CI gate on TPC-H SF1: check a migration against a baseline of 100+ statements.

Usage::

    python -m benchmarks.gate.run --dsn "host=/var/tmp/ia-bench port=5499 dbname=tpch user=postgres"
                                  [--repeat 3] [--out FILE]

The DSN is a TPC-H SF1 database used read-only: its statistics are exported once
(`stats export`, read-only), and it is the "staging" database of the second case.

1. **sandbox + stats** (the CI case): `indexadvisor check` starts a local sandbox, creates
   the TPC-H schema with its keys and indexes (no data), imports the production statistics,
   checks the migration (drop an index the joins read, add a column, add an unused index)
   against the committed baseline. The baseline is made first with `--update-baseline`.
2. **staging DSN**: the same workload checked on the TPC-H database itself, the migration
   (index DDL only, simulated with HypoPG: no lock, nothing written) in a transaction that is
   rolled back; plans before the migration are taken in the same run.

Each run is the real command line in a subprocess (`python -m indexadvisor check ... --format
json`): wall time, the CPU seconds of the command itself (the servers' backends are not
counted: pg_ctl detaches the sandbox's, the staging server is not ours), and the phases the
report times: sandbox (start, schema, stats import) or connect, migration, explain, new
indexes, fixes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from indexadvisor.db.connect import redact_dsn
from indexadvisor.gate.stats_export import read_stats, render_stats

from .workload import MIGRATION, STAGING_MIGRATION, schema_sql, write_workload

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "results" / "latest.json"
PYPROJECT = """[tool.indexadvisor.check]
variants = 5
workload = ["workload"]
baseline = "baseline.json"
"""
STAGING_PYPROJECT = """[tool.indexadvisor.check]
variants = 5
workload = ["../workload"]
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], cwd: Path) -> dict[str, Any]:
    """One `indexadvisor check` in a subprocess: wall, CPU, exit code, the JSON report."""
    cpu0, t0 = _cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "indexadvisor", "check", *args],
                          cwd=cwd, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    if done.returncode not in (0, 1):
        raise RuntimeError(f"check failed ({done.returncode}): {done.stderr[-2000:]}")
    report = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    return {"exit": done.returncode, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "report": report, "stderr": done.stderr[-500:]}


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    report = run["report"] or {}
    findings = report.get("findings", [])
    return {
        "exit": run["exit"], "wall_s": run["wall_s"], "cpu_s": run["cpu_s"],
        "timings": report.get("timings", {}),
        "statements": len(report.get("statements", [])),
        "findings": {code: sum(1 for f in findings if f["rule"] == code)
                     for code in sorted({f["rule"] for f in findings})},
        "fixes": sorted({f["fix"] for f in findings if f.get("fix")}),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="TPC-H SF1 database (read-only use)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    opts = parser.parse_args(argv)
    load_start = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        root = Path(tmp)
        write_workload(root / "workload")
        (root / "schema.sql").write_text(schema_sql())
        (root / "migrations").mkdir()
        (root / "migrations" / "0042_cleanup.sql").write_text(MIGRATION)
        (root / "pyproject.toml").write_text(PYPROJECT)
        staging = root / "staging"  # its own project: no baseline, plans before are live
        staging.mkdir()
        (staging / "pyproject.toml").write_text(STAGING_PYPROJECT)
        (staging / "migration.sql").write_text(STAGING_MIGRATION)
        t0 = time.perf_counter()
        with psycopg.connect(opts.dsn) as conn:
            conn.read_only = True
            (root / "stats.json").write_text(render_stats(read_stats(conn)))
        export_s = time.perf_counter() - t0
        sandbox = ["--schema", "schema.sql", "--stats", "stats.json", "--sandbox", "local"]
        update = _run([*sandbox, "--update-baseline"], root)
        baseline_entries = len(json.loads((root / "baseline.json").read_text())["statements"])
        runs: dict[str, list[dict[str, Any]]] = {"sandbox": [], "staging": []}
        for _ in range(opts.repeat):  # interleaved, so both cases see the same noise
            runs["sandbox"].append(_run([*sandbox, "--migrations", "migrations",
                                         "--format", "json"], root))
            runs["staging"].append(_run(["--dsn", opts.dsn, "--migrations", "migration.sql",
                                         "--format", "json"], staging))
    result = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_avg_start": load_start, "load_avg_end": os.getloadavg()},
        "command": "python -m benchmarks.gate.run " + " ".join(
            shlex.quote(a) for a in [*(["--dsn", redact_dsn(opts.dsn)]),
                                     "--repeat", str(opts.repeat)]),
        "stats_export_s": round(export_s, 2),
        "baseline": {**_summary(update), "statements": baseline_entries},
        "sandbox": [_summary(r) for r in runs["sandbox"]],
        "staging": [_summary(r) for r in runs["staging"]],
        "server": (runs["sandbox"][0]["report"] or {}).get("server"),
        "staging_server": (runs["staging"][0]["report"] or {}).get("server"),
    }
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(result, indent=2) + "\n")
    for case in ("sandbox", "staging"):
        for n, r in enumerate(result[case], 1):  # type: ignore[arg-type]
            phases = " · ".join(f"{k} {v:.2f}" for k, v in r["timings"].items())
            print(f"{case} run {n}: exit {r['exit']}, {r['statements']} statements, wall "
                  f"{r['wall_s']:.2f} s, CPU {r['cpu_s']:.2f} s ({phases}); {r['findings']}")
    print(f"results in {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
