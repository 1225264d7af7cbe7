"""Ingest the benchmark logs with pgBadger and with indexadvisor; compare speed, memory, counts.

Usage::

    python -m benchmarks.logs.run                       # every /var/tmp/ia-logbench/*.log
    python -m benchmarks.logs.run /var/tmp/ia-logbench/debian-1GB.log --only pgbadger
    python -m benchmarks.logs.run --reuse-pgbadger benchmarks/logs/results/latest.json

For each log (made by ``benchmarks.logs.generate``; its flavour comes from the file name,
``debian-*`` or ``rds-*``) three counts of the statements in it, and two measured runs:

* ``reference``: a plain regex count of the records PostgreSQL wrote for executed statements,
  ``LOG:  duration: <ms> ms  statement: ...`` and ``LOG:  duration: <ms> ms  execute <name>:
  ...``. ``parse <name>:`` and ``bind <name>:`` records (the extended protocol logs all three
  under ``log_min_duration_statement``) are not executions and are not counted; ``BEGIN`` and
  ``END`` are statements and are counted.
* ``pgbadger -j 1 -q -f stderr --prefix PREFIX -x text -o OUT LOG``: its count is the
  "Number of queries" line of the overall statistics, which counts exactly the LOG-level
  ``statement:`` and ``execute`` records (parse and bind only add to its duration totals).
* ``python -m indexadvisor ingest --format json LOG``: its ``statements`` field (records read).
  When the command does not exist yet the row says "indexadvisor ingest not available".

Each tool runs as a child process measured with ``os.wait4``: CPU seconds = user + system time of
the child and everything it waited for, max RSS, and wall time (noisy on a shared machine, so
the comparison uses CPU seconds). MB = 2^20 bytes of log. Results go to
``benchmarks/logs/results/latest.json`` (not committed) and a Markdown table goes to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.logs.generate import DEFAULT_OUT, PREFIXES

REPO = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).with_name("results")
MB = float(1 << 20)
#: The issue's bars: MB per CPU-second ratio, and peak-memory difference between 100 MB and 1 GB.
MIN_RATIO = 20.0
MAX_RSS_GROWTH = 0.20

_EXECUTED = re.compile(rb"LOG:  duration: [0-9.]+ ms  (?:statement: |execute [^:\n]*: )")
_PGBADGER_QUERIES = re.compile(r"^Number of queries: ([\d,]+)\s*$", re.MULTILINE)
_PGBADGER_ENTRIES = re.compile(r"^Parsed ([\d,]+) log entries", re.MULTILINE)
UNAVAILABLE = "indexadvisor ingest not available"


@dataclass(frozen=True)
class Measured:
    """One child process: its resource use and what it said."""

    argv: list[str]
    returncode: int
    cpu_s: float
    user_s: float
    sys_s: float
    wall_s: float
    max_rss_mb: float
    stdout: str
    stderr_tail: str


#: Runs the measured command as its own child and reports that child's rusage as JSON.
#: Why a launcher: on Linux a child's ru_maxrss starts from the RSS of the process that forked
#: it (exec records the old address space's high-water mark), so measuring straight from this
#: script would report at least this script's own peak (~150 MB after counting a 1 GB log).
#: The launcher is a bare ``python -I -S`` (about 10 MB), far below either tool's real peak.
LAUNCHER = """
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(report, "w") as f:
    json.dump({"status": os.waitstatus_to_exitcode(status), "user": ru.ru_utime,
               "sys": ru.ru_stime, "maxrss_kib": ru.ru_maxrss, "wall": wall}, f)
"""


def measure(argv: list[str], *, stdout_path: Path | None = None, cwd: Path = REPO) -> Measured:
    """Run `argv` to completion; CPU (user+sys) and max RSS from wait4, wall from a clock."""
    out = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryFile() as err:
        report = Path(tmp) / "rusage.json"
        subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, str(report), *argv],
                       cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, check=False)
        if stdout_path:
            out.close()  # type: ignore[union-attr]
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        usage = json.loads(report.read_text()) if report.exists() else None
    if usage is None:
        raise SystemExit(f"could not run {argv[0]}: {stderr[-2000:]}")
    text = stdout_path.read_text(errors="replace") if stdout_path else ""
    return Measured(
        argv=argv,
        returncode=usage["status"],
        cpu_s=round(usage["user"] + usage["sys"], 3),
        user_s=round(usage["user"], 3),
        sys_s=round(usage["sys"], 3),
        wall_s=round(usage["wall"], 3),
        max_rss_mb=round(usage["maxrss_kib"] / 1024, 1),  # Linux: KiB
        stdout=text,
        stderr_tail=stderr[-2000:],
    )


def reference_count(log: Path) -> int:
    """Executed-statement records in `log`, by a plain regex over the bytes."""
    count = 0
    carry = b""
    with log.open("rb") as f:
        while chunk := f.read(1 << 24):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            count += len(_EXECUTED.findall(data, 0, cut))
            carry = data[cut:]
    return count + len(_EXECUTED.findall(carry))


def flavour(log: Path) -> str:
    """``debian`` or ``rds`` from the file name (``debian-1GB.log``)."""
    name = log.name.split("-")[0]
    if name not in PREFIXES:
        raise SystemExit(f"{log}: cannot tell the log_line_prefix (name it debian-* or rds-*)")
    return name


def run_pgbadger(log: Path, workdir: Path) -> dict[str, Any]:
    """pgBadger, one job, quiet, text report; its query count and resource use."""
    exe = shutil.which("pgbadger")
    if exe is None:
        return {"error": "pgbadger not installed (apt-get install -y pgbadger)"}
    report = workdir / f"{log.stem}.pgbadger.txt"
    argv = [exe, "-j", "1", "-q", "-f", "stderr", "--prefix", PREFIXES[flavour(log)],
            "-x", "text", "-o", str(report), str(log)]
    m = measure(argv)
    if m.returncode != 0 or not report.exists():
        return {"error": f"pgbadger exit {m.returncode}: {m.stderr_tail}", **_usage(m, log)}
    text = report.read_text(errors="replace")
    queries = _PGBADGER_QUERIES.search(text)
    entries = _PGBADGER_ENTRIES.search(text)
    return {
        **_usage(m, log),
        "statements": _int(queries.group(1)) if queries else None,
        "log_entries": _int(entries.group(1)) if entries else None,
    }


def ingest_available(repo: Path) -> bool:
    """Whether the checkout's CLI has an ``ingest`` command."""
    done = subprocess.run(
        [sys.executable, "-m", "indexadvisor", "ingest", "--help"],
        cwd=repo, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )
    return done.returncode == 0


def run_indexadvisor(log: Path, workdir: Path, extra: list[str], repo: Path = REPO,
                     jobs: int | None = None) -> dict[str, Any]:
    """``python -m indexadvisor ingest --format json [-j JOBS] LOG`` in `repo`; counts,
    resource use, and a digest of the JSON (equal digests: the same output)."""
    if not ingest_available(repo):
        return {"error": UNAVAILABLE}
    out = workdir / f"{log.stem}.indexadvisor.json"
    more = [] if jobs is None else ["-j", str(jobs)]
    argv = [sys.executable, "-m", "indexadvisor", "ingest", "--format", "json", *more, *extra,
            str(log)]
    m = measure(argv, stdout_path=out, cwd=repo)
    usage = _usage(m, log)
    try:
        doc = json.loads(m.stdout)
    except json.JSONDecodeError:
        return {"error": f"exit {m.returncode}, no JSON on stdout: {m.stderr_tail}", **usage}
    skipped = doc.get("skipped")
    groups = doc.get("groups") or []
    return {
        **usage,
        "jobs": jobs,
        "digest": hashlib.sha256(m.stdout.encode()).hexdigest()[:16],
        "returncode": m.returncode,
        "statements": doc.get("statements"),
        "skipped": (skipped.get("total", skipped.get("count")) if isinstance(skipped, dict)
                    else skipped),
        "groups": len(groups),
        "calls": sum(int(g.get("calls") or 0) for g in groups),
    }


def _usage(m: Measured, log: Path) -> dict[str, Any]:
    mb = log.stat().st_size / MB
    return {
        "command": shlex.join(m.argv),
        "cpu_s": m.cpu_s, "user_s": m.user_s, "sys_s": m.sys_s, "wall_s": m.wall_s,
        "max_rss_mb": m.max_rss_mb,
        "mb_per_cpu_s": round(mb / m.cpu_s, 2) if m.cpu_s > 0 else None,
    }


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def machine(repo: Path = REPO) -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pgbadger = subprocess.run(["pgbadger", "--version"], capture_output=True, text=True,
                              check=False) if shutil.which("pgbadger") else None
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
        "pgbadger": pgbadger.stdout.strip() if pgbadger else None,
        "indexadvisor_commit": commit,
    }


def verdicts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The issue's checks: counts agree, speed ratio, peak memory 100 MB vs 1 GB."""
    out: dict[str, Any] = {"counts_agree": {}, "ratio_ok": {}, "rss_growth": {}}
    for row in rows:
        ia, pb = row["indexadvisor"], row["pgbadger"]
        counts = {row["reference"], pb.get("statements"), ia.get("statements")}
        out["counts_agree"][row["log"]] = None if "error" in ia or "error" in pb else (
            len(counts) == 1)
        ratio = row.get("ratio")
        out["ratio_ok"][row["log"]] = None if ratio is None else ratio >= MIN_RATIO
    by_prefix: dict[str, dict[int, float]] = {}
    for row in rows:
        rss = row["indexadvisor"].get("max_rss_mb")
        if rss:
            by_prefix.setdefault(row["prefix"], {})[row["bytes"]] = rss
    for prefix, sizes in by_prefix.items():
        if len(sizes) >= 2:
            small, big = sizes[min(sizes)], sizes[max(sizes)]
            growth = (big - small) / small
            out["rss_growth"][prefix] = {"small_mb": small, "big_mb": big,
                                         "growth": round(growth, 3),
                                         "ok": abs(growth) < MAX_RSS_GROWTH}
    return out


def markdown(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The table for BENCHMARKS.md."""
    def cell(tool: dict[str, Any], key: str, fmt: str = "{}") -> str:
        value = tool.get(key)
        return "-" if value is None else fmt.format(value)

    lines = [
        f"Measured {info['date']} on {info['cpu']} ({info['cores']} cores, shared), "
        f"{info['pgbadger']}, indexadvisor {info['indexadvisor_commit']}.",
        "",
        "| log | MB | tool | statements | CPU s | MB / CPU s | max RSS MB | wall s |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        for name in ("pgbadger", "indexadvisor"):
            tool = row[name]
            if "error" in tool and "cpu_s" not in tool:
                lines.append(f"| {row['log']} | {row['mb']:.0f} | {name} | "
                             f"{tool['error']} | | | | |")
                continue
            lines.append(
                f"| {row['log']} | {row['mb']:.0f} | {name} | {cell(tool, 'statements', '{:,}')} "
                f"| {cell(tool, 'cpu_s', '{:.1f}')} | {cell(tool, 'mb_per_cpu_s', '{:.2f}')} "
                f"| {cell(tool, 'max_rss_mb', '{:.0f}')} | {cell(tool, 'wall_s', '{:.1f}')} |"
            )
        ratio = "-" if row.get("ratio") is None else f"{row['ratio']:.1f}x"
        lines.append(f"| {row['log']} | | reference count / speed ratio | {row['reference']:,} "
                     f"| | {ratio} | | |")
    return "\n".join(lines)


def repeated(log: Path, workdir: Path, extra: list[str], repo: Path, jobs: list[int | None],
             repeat: int) -> dict[str, Any]:
    """Each `jobs` value `repeat` times, interleaved (1, 2, 1, 2, ...) so that the load of a
    shared machine falls on all of them alike; the spread, and whether every run wrote the
    same JSON."""
    runs: dict[str, list[dict[str, Any]]] = {str(j): [] for j in jobs}
    for _ in range(repeat):
        for j in jobs:
            run = run_indexadvisor(log, workdir, extra, repo, j)
            runs[str(j)].append(run)
            print(f"  indexadvisor -j {j}: cpu {run.get('cpu_s')} wall {run.get('wall_s')}",
                  file=sys.stderr, flush=True)
    stats: dict[str, Any] = {}
    for j, done in runs.items():
        ok = [r for r in done if "error" not in r]
        if not ok:
            stats[j] = {"error": done[0].get("error")}
            continue
        stats[j] = {key: _spread([r[key] for r in ok])
                    for key in ("cpu_s", "wall_s", "mb_per_cpu_s", "max_rss_mb")}
    digests = {r.get("digest") for done in runs.values() for r in done}
    out: dict[str, Any] = {"runs": runs, "stats": stats, "identical": len(digests) == 1}
    if len(jobs) >= 2 and all("error" not in stats[str(j)] for j in jobs[:2]):
        one, two = (runs[str(j)] for j in jobs[:2])
        pairs = [a["wall_s"] / b["wall_s"] for a, b in zip(one, two, strict=True)]
        out["wall_speedup"] = _spread(pairs, 2)
        out["cpu_overhead"] = _spread([b["cpu_s"] / a["cpu_s"] for a, b
                                       in zip(one, two, strict=True)], 3)
    return out


def _spread(values: list[float], digits: int = 2) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits),
            "min": round(min(values), digits), "max": round(max(values), digits)}


def markdown_jobs(rows: list[dict[str, Any]]) -> str:
    """One line per log and -j value: medians with the range over the repetitions."""
    lines = ["| log | MB | -j | CPU s | MB / CPU s | vs pgBadger | wall s | max RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        rep = row.get("repeated")
        if not rep:
            continue
        pb = row["pgbadger"].get("mb_per_cpu_s")
        for j, st in rep["stats"].items():
            if "error" in st:
                continue
            cpu, wall, speed = st["cpu_s"], st["wall_s"], st["mb_per_cpu_s"]
            ratio = f"{speed['median'] / pb:.1f}x" if pb else "-"
            lines.append(
                f"| {row['log']} | {row['mb']:.0f} | {j} "
                f"| {cpu['median']:.2f} ({cpu['min']:.2f}-{cpu['max']:.2f}) "
                f"| {speed['median']:.1f} ({speed['min']:.1f}-{speed['max']:.1f}) | {ratio} "
                f"| {wall['median']:.2f} ({wall['min']:.2f}-{wall['max']:.2f}) "
                f"| {st['max_rss_mb']['max']:.0f} |")
        if "wall_speedup" in rep:
            sp, ov = rep["wall_speedup"], rep["cpu_overhead"]
            lines.append(f"| {row['log']} | | speed-up | wall {sp['median']:.2f}x "
                         f"({sp['min']:.2f}-{sp['max']:.2f}); CPU {ov['median']:.3f}x | "
                         f"| same JSON: {'yes' if rep['identical'] else 'NO'} | | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logs", nargs="*", type=Path)
    parser.add_argument("--only", choices=("pgbadger", "indexadvisor"))
    parser.add_argument("--reuse-pgbadger", type=Path, metavar="RESULTS_JSON",
                        help="take pgBadger's numbers from an earlier results file")
    parser.add_argument("--ia-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for indexadvisor ingest (repeatable)")
    parser.add_argument("--jobs", type=int, action="append", metavar="N",
                        help="run indexadvisor with -j N (repeatable: -j 1 and -j 2 side by "
                        "side); default: its own default")
    parser.add_argument("--repeat", type=int, default=1, metavar="R",
                        help="runs of indexadvisor per --jobs value, interleaved")
    parser.add_argument("--repo", type=Path, default=REPO,
                        help="the checkout whose indexadvisor runs (default: this one)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)

    logs = args.logs or sorted(DEFAULT_OUT.glob("*.log"),
                               key=lambda p: (flavour(p), p.stat().st_size))
    if not logs:
        raise SystemExit(f"no logs: run python -m benchmarks.logs.generate first ({DEFAULT_OUT})")
    earlier: dict[str, Any] = {}
    if args.reuse_pgbadger:
        earlier = {r["log"]: r["pgbadger"] for r in json.loads(args.reuse_pgbadger.read_text())
                   ["rows"]}
    jobs: list[int | None] = args.jobs or [None]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ia-logbench-") as tmp:
        workdir = Path(tmp)
        for log in logs:
            size = log.stat().st_size
            row: dict[str, Any] = {"log": log.name, "prefix": flavour(log), "bytes": size,
                                   "mb": round(size / MB, 1), "reference": reference_count(log)}
            print(f"{log.name}: {row['mb']} MB, {row['reference']:,} statements",
                  file=sys.stderr, flush=True)
            if args.only == "indexadvisor":
                row["pgbadger"] = {"error": "not run"}
            elif log.name in earlier:
                row["pgbadger"] = {**earlier[log.name], "reused": str(args.reuse_pgbadger)}
            else:
                row["pgbadger"] = run_pgbadger(log, workdir)
            print(f"  pgbadger: {row['pgbadger']}", file=sys.stderr, flush=True)
            if args.only == "pgbadger":
                row["indexadvisor"] = {"error": "not run"}
            elif len(jobs) == 1 and args.repeat == 1:
                row["indexadvisor"] = run_indexadvisor(log, workdir, args.ia_arg, args.repo,
                                                       jobs[0])
            else:
                rep = repeated(log, workdir, args.ia_arg, args.repo, jobs, args.repeat)
                row["repeated"] = rep
                first = rep["runs"][str(jobs[0])]  # the median run of the first -j value
                row["indexadvisor"] = sorted(first, key=lambda r: r.get("cpu_s") or 0)[
                    len(first) // 2]
            print(f"  indexadvisor: {row['indexadvisor']}", file=sys.stderr, flush=True)
            pb, ia = row["pgbadger"].get("mb_per_cpu_s"), row["indexadvisor"].get("mb_per_cpu_s")
            row["ratio"] = round(ia / pb, 2) if pb and ia else None
            rows.append(row)
    info = machine(args.repo)
    result = {"machine": info, "rows": rows, "checks": verdicts(rows)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(rows, info))
    if any("repeated" in row for row in rows):
        print()
        print(markdown_jobs(rows))
    print()
    print("checks: " + json.dumps(result["checks"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
