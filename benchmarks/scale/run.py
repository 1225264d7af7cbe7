"""Advice at scale: `indexadvisor advise` on the generated analytic and OLTP workloads.

Usage::

    python -m benchmarks.scale.run --dsn "host=/var/tmp/ia-bench port=5499 user=postgres" \\
        [--workload analytic,oltp] [--runs serial,jobs2,limit10] [--out results.json]

The workloads are generated (``snowflake.queries``, ``oltp.workload_sql``) into a work folder
and their databases loaded (``load``) when missing. Each run is the command a DBA types,
``python -m indexadvisor advise FILES --dsn ... --format json -o FILE``, in its own process;
its wall time and peak RSS come from ``os.wait4`` on that process, its EXPLAIN counts (per
stage, derived, cache hits), cost before and after and outcomes from the JSON it wrote.

Runs (``--runs``, comma-separated, in this order):

* ``serial``: ``--jobs 1``; ``jobs2``: ``--jobs 2`` (must choose the same indexes);
* ``limit10``: ``--time-limit 10s`` (checks every query has an outcome and the set is valid);
* ``no-derive``, ``no-bounds``, ``no-probe``: serial with one what-if shortcut off (the
  settings ``derive-costs``, ``bound-moves``, ``probe-rounds = 0`` in a pyproject.toml of
  the run's folder), to count the EXPLAINs each saves; ``no-probe`` on the analytic workload
  takes about half an hour.

Analytic runs use ``--budget 1GB --fill-budget`` (the database holds 473 MB: about twice its
data, as 2GB is for TPC-H SF1, and the budget filled, as the search before the knee rule
did); OLTP runs ``--budget 2GB``. Every run is told ``--time-limit 0`` except ``limit10``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import load, oltp, snowflake

RUNS = ("serial", "jobs2", "limit10", "no-derive", "no-bounds", "no-probe")
FLAGS = {"analytic": ("--budget", "1GB", "--fill-budget"), "oltp": ("--budget", "2GB")}
SETTINGS = {"no-derive": "derive-costs = false", "no-bounds": "bound-moves = false",
            "no-probe": "probe-rounds = 0"}


@dataclass(frozen=True)
class Result:
    workload: str
    run: str
    command: str
    exit_code: int
    wall_s: float
    peak_rss_mb: float
    cpu_s: float  # the advisor process's own CPU (the server's is not in it)
    summary: dict[str, Any]
    chosen: tuple[str, ...]
    queries: int
    outcomes_missing: int

    def row(self) -> dict[str, Any]:
        s = self.summary
        before, after = s.get("cost_before") or 0.0, s.get("cost_after") or 0.0
        return {
            "workload": self.workload, "run": self.run, "exit_code": self.exit_code,
            "wall_s": round(self.wall_s, 1), "peak_rss_mb": round(self.peak_rss_mb, 1),
            "cpu_s": round(self.cpu_s, 1),
            "explains": s.get("whatif_calls"), "derived": s.get("derived"),
            "cache_hits": s.get("cache_hits"), "by_stage": s.get("whatif_by_stage"),
            "sessions": s.get("sessions"), "timed_out": s.get("timed_out"),
            "cost_before": before, "cost_after": after,
            "ratio": round(after / before, 4) if before else None,
            "indexes": len(self.chosen), "queries": self.queries,
            "outcomes_missing": self.outcomes_missing, "stop_reason": s.get("stop_reason"),
            "command": self.command,
        }


def workload_files(work: Path, workload: str) -> Path:
    """The workload's SQL, written once into `work` (deterministic: same bytes every time)."""
    folder = work / workload
    folder.mkdir(parents=True, exist_ok=True)
    if workload == "analytic":
        for n, text in enumerate(snowflake.queries(), start=1):
            _write_if_changed(folder / f"q{n:03d}.sql", text.rstrip() + ";\n")
    else:
        _write_if_changed(folder / "workload.sql", oltp.workload_sql())
    return folder


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def run_one(workload: str, run: str, sources: Path, dsn: str, work: Path) -> Result:
    """One `indexadvisor advise` process; its wall time, peak RSS and JSON summary."""
    folder = work / "runs" / f"{workload}-{run}"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "pyproject.toml"
    config.write_text("[tool.indexadvisor]\n" + (SETTINGS.get(run, "") + "\n"),
                      encoding="utf-8")
    out = folder / "advice.json"
    out.unlink(missing_ok=True)
    jobs = "2" if run == "jobs2" else "1" if run != "limit10" else "2"
    limit = "10s" if run == "limit10" else "0"
    argv = [sys.executable, "-m", "indexadvisor", "advise", str(sources), "--dsn", dsn,
            *FLAGS[workload], "--jobs", jobs, "--time-limit", limit,
            "--format", "json", "-o", str(out)]
    started = time.perf_counter()
    with open(folder / "stderr.txt", "wb") as err:
        proc = subprocess.Popen(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    summary: dict[str, Any] = {}
    chosen: tuple[str, ...] = ()
    queries = missing = 0
    if out.exists():
        doc = json.loads(out.read_text(encoding="utf-8"))
        summary = doc["summary"]
        chosen = tuple(sorted(r["ddl"] for r in doc["recommendations"]))
        queries = len(doc["queries"])
        missing = sum(1 for q in doc["queries"] if not q.get("outcome"))
    command = " ".join(argv[1:]).replace(str(sources), f"<{workload}>")
    return Result(workload, run, command, proc.returncode, wall, usage.ru_maxrss / 1024,
                  usage.ru_utime + usage.ru_stime, summary, chosen, queries, missing)


def check(results: Sequence[Result]) -> list[str]:
    """What the issue asks of these runs, as failures (empty: all hold)."""
    problems = []
    by = {(r.workload, r.run): r for r in results}
    for r in results:
        if r.exit_code != 0:
            problems.append(f"{r.workload}/{r.run}: exit code {r.exit_code}")
        if r.outcomes_missing:
            problems.append(f"{r.workload}/{r.run}: {r.outcomes_missing} queries without outcome")
    for workload in ("analytic", "oltp"):
        serial, jobs2 = by.get((workload, "serial")), by.get((workload, "jobs2"))
        if serial and jobs2 and serial.chosen != jobs2.chosen:
            problems.append(f"{workload}: --jobs 2 chose other indexes than --jobs 1")
    limited = by.get(("analytic", "limit10"))
    if limited and limited.wall_s > 11:
        problems.append(f"analytic/limit10: {limited.wall_s:.1f} s (over 11 s)")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", required=True, help="server DSN (the databases are made on it)")
    parser.add_argument("--workload", default="analytic,oltp")
    parser.add_argument("--runs", default="serial,jobs2,limit10")
    parser.add_argument("--work", type=Path, default=Path("/var/tmp/ia-scale"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = [r for r in args.runs.split(",") if r]
    unknown = set(runs) - set(RUNS)
    if unknown:
        parser.error(f"unknown runs: {', '.join(sorted(unknown))} (known: {', '.join(RUNS)})")
    results = []
    for workload in [w for w in args.workload.split(",") if w]:
        if workload not in FLAGS:
            parser.error(f"unknown workload {workload!r} (analytic, oltp)")
        dsn = load.load(args.dsn, workload)
        sources = workload_files(args.work, workload)
        for run in runs:
            result = run_one(workload, run, sources, dsn, args.work)
            results.append(result)
            row = result.row()
            print(f"{workload:9} {run:10} {row['wall_s']:7.1f} s  CPU {row['cpu_s']:5.1f} s"
                  f"  RSS {row['peak_rss_mb']:6.0f} MB"
                  f"  EXPLAINs {row['explains']}  derived {row['derived']}  ratio {row['ratio']}"
                  f"  indexes {row['indexes']}  {row['stop_reason']}", flush=True)
    problems = check(results)
    for problem in problems:
        print("FAIL", problem)
    if args.out:
        args.out.write_text(json.dumps({
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores",
            "runs": [r.row() for r in results], "problems": problems}, indent=1) + "\n",
            encoding="utf-8")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
