"""Log ingestion speed: MB of log per CPU-second and peak RSS, on a generated pgbench log.

The generator writes what a PostgreSQL server logs under pgbench's TPC-B-like script with
`log_min_duration_statement = 0` (the record layout was copied from a real server's log):
simple protocol by default (new literals in every statement), `--protocol prepared` for
execute + DETAIL parameters records. Each measurement runs in a fresh process, so its peak RSS
is its own.

    python -m benchmarks.ingest_speed --mb 150                 # generate and measure
    python -m benchmarks.ingest_speed --mb 100 --mb 1000 --prefix rds
    python -m benchmarks.ingest_speed --measure existing.log   # just measure a file
    python -m benchmarks.ingest_speed --measure existing.log --jobs 2   # two processes
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

PREFIXES = {
    "debian": "{ts}.{ms:03d} UTC [{pid}] postgres@pgbench ",
    "vanilla": "{ts}.{ms:03d} UTC [{pid}] ",
    "rds": "{ts} UTC:10.0.1.17({port}):postgres@pgbench:[{pid}]:",
}
SIMPLE = (
    "BEGIN;",
    "UPDATE pgbench_accounts SET abalance = abalance + {delta} WHERE aid = {aid};",
    "SELECT abalance FROM pgbench_accounts WHERE aid = {aid};",
    "UPDATE pgbench_tellers SET tbalance = tbalance + {delta} WHERE tid = {tid};",
    "UPDATE pgbench_branches SET bbalance = bbalance + {delta} WHERE bid = {bid};",
    "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) "
    "VALUES ({tid}, {bid}, {aid}, {delta}, CURRENT_TIMESTAMP);",
    "END;",
)
PREPARED = (
    ("P_0", "BEGIN;", ()),
    ("P_1", "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
     ("delta", "aid")),
    ("P_2", "SELECT abalance FROM pgbench_accounts WHERE aid = $1;", ("aid",)),
    ("P_3", "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2;",
     ("delta", "tid")),
    ("P_4", "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2;",
     ("delta", "bid")),
    ("P_5", "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES "
     "($1, $2, $3, $4, CURRENT_TIMESTAMP);", ("tid", "bid", "aid", "delta")),
    ("P_6", "END;", ()),
)


def generate(path: Path, megabytes: float, prefix: str = "debian", protocol: str = "simple",
             clients: int = 8, scale: int = 100, seed: int = 1) -> int:
    """Write about `megabytes` MB of pgbench log to `path`; returns the number of statements."""
    rng = random.Random(seed)
    fmt = PREFIXES[prefix]
    start = datetime(2024, 5, 1, 10, 0, 0)
    pids = [20000 + i for i in range(clients)]
    target = int(megabytes * 1e6)
    written = statements = 0
    tick = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target:
            lines = []
            for _ in range(200):  # transactions per batch
                pid = rng.choice(pids)
                values = {"aid": rng.randint(1, 100_000 * scale), "tid": rng.randint(1, 10 * scale),
                          "bid": rng.randint(1, scale), "delta": rng.randint(-5000, 5000)}
                for i in range(7):
                    tick += 1
                    now = start + timedelta(microseconds=tick * 137)
                    head = fmt.format(ts=now.strftime("%Y-%m-%d %H:%M:%S"),
                                      ms=now.microsecond // 1000, pid=pid,
                                      port=40000 + pid % 1000)
                    duration = f"{rng.expovariate(20):.3f}"
                    if protocol == "simple":
                        lines.append(f"{head}LOG:  duration: {duration} ms  statement: "
                                     f"{SIMPLE[i].format(**values)}\n")
                    else:
                        name, text, params = PREPARED[i]
                        lines.append(f"{head}LOG:  duration: {duration} ms  execute {name}: "
                                     f"{text}\n")
                        if params:
                            detail = ", ".join(f"${n} = '{values[p]}'"
                                               for n, p in enumerate(params, 1))
                            lines.append(f"{head}DETAIL:  parameters: {detail}\n")
                    statements += 1
            chunk = "".join(lines)
            out.write(chunk)
            written += len(chunk)
    return statements


def measure(paths: list[str], jobs: int = 1) -> dict[str, float]:
    """Ingest `paths` (read + group) with `jobs` processes: CPU seconds (this process and its
    workers), MB/CPU-s, wall seconds, peak RSS (the largest process)."""
    from indexadvisor.ingest import SourceOptions
    from indexadvisor.ingest.summarize import plan, run, worker_pool

    size = sum(Path(p).stat().st_size for p in paths)
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    todo = plan(paths, SourceOptions(jobs=jobs), jobs)
    with worker_pool(jobs if len(todo.tasks) > 1 else 1) as pool:
        workload = run(todo, pool).workload()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    here = time.process_time() - cpu0
    cpu = here + children.ru_utime + children.ru_stime
    per_process: dict[int, float] = {}
    for worker, seconds, _ in todo.done:
        per_process[worker] = per_process.get(worker, 0.0) + seconds
    return {
        "megabytes": size / 1e6,
        "statements": workload.statements,
        "groups": len(workload.queries),
        "skipped": len(workload.skipped),
        "cpu_s": round(cpu, 2),
        "pieces": len(todo.tasks),
        # the busiest process's CPU time in pieces, plus this process's own: the wall time
        # on a machine with a free core per process (other load only stretches it)
        "critical_path_s": round((0.0 if jobs <= 1 else here)
                                 + max(per_process.values(), default=0.0), 2),
        "wall_s": round(time.perf_counter() - wall0, 2),
        "mb_per_cpu_s": round(size / 1e6 / cpu, 1),
        "peak_rss_mb": round(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                 children.ru_maxrss) / 1024, 1),
    }


def _measure_in_child(path: str, jobs: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.ingest_speed", "--measure", path,
                          "--json", "--jobs", str(jobs)], capture_output=True, text=True,
                         check=True)
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, action="append", help="log size(s) to generate")
    parser.add_argument("--prefix", choices=sorted(PREFIXES), default="debian")
    parser.add_argument("--protocol", choices=["simple", "prepared"], default="simple")
    parser.add_argument("--measure", nargs="+", help="measure these files in this process")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--keep", type=Path, help="directory to keep the generated logs in")
    args = parser.parse_args()
    if args.measure:
        result = measure(args.measure, args.jobs)
        print(json.dumps(result) if args.json else result)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        for mb in args.mb or [150.0]:
            path = folder / f"pgbench-{args.prefix}-{args.protocol}-{mb:g}MB.log"
            if not path.exists():
                statements = generate(path, mb, args.prefix, args.protocol)
                print(f"generated {path} ({statements:,} statements)", file=sys.stderr)
            print(json.dumps({"log": path.name, "jobs": args.jobs,
                              **_measure_in_child(str(path), args.jobs)}))


if __name__ == "__main__":
    main()
