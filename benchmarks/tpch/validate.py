"""TPC-H SF1, advice validated by real execution: the 22 queries timed with no new index, with
the set the estimates alone chose, and with the validated set, side by side in one run; plus
the size and render time of the HTML report of that run.

Usage::

    python -m benchmarks.tpch.validate [--budget 1GB] [--runs 3] [--timeout 60] [--tolerance 10]
                                       [--out benchmarks/tpch/results/validate.json]
                                       [--html reports/tpch-validated.html]

Always a fresh local sandbox (indexes are built in it), loaded with SF1 from the CSV cache.
The advisor sees all 22 queries, each weighted once. Validation (`indexadvisor.validate`) runs
with `--runs` measured runs after one warm-up and `--timeout` seconds per run. Then each of
the three sets is timed on the 22 queries, interleaved (see `interleaved`): one warm-up and
`--runs` measured runs, the best kept; a query whose run times out is reported as a timeout
(a lower bound).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

import indexadvisor
from indexadvisor.model import AdvisorConfig, Candidate, ValidationSettings, parse_size
from indexadvisor.pipeline.advise import advice_run
from indexadvisor.report import advice_to_dict, render_html
from indexadvisor.report.facts import ReportOptions
from indexadvisor.sql.ddl import create_index
from indexadvisor.sql.mask import mask_advice
from indexadvisor.validate import ValidationTarget, validate

from . import load
from .run import QUERY_DIR, SANDBOX_SETTINGS, environment, log, query_name

HERE = Path(__file__).resolve().parent
PREFIX = "iaval_"


def interleaved(conn: psycopg.Connection[Any], sets: dict[str, list[Candidate]],
                queries: dict[str, str], runs: int, timeout_s: int) -> dict[str, Any]:
    """Every query under every set, interleaved: the union of the sets is built once, in a
    transaction that is rolled back at the end; for each run of each query, each set in turn
    (the order rotating) drops the indexes it does not have inside a savepoint, runs the query
    under EXPLAIN (ANALYZE, BUFFERS) and rolls the savepoint back. So the three sets meet the
    same machine load, which on a shared machine moves more than any index does. One warm-up
    round, then `runs` measured ones; a set whose run times out stops there (a timeout)."""
    union = sorted({c for cands in sets.values() for c in cands})
    names = {c: f"{PREFIX}{n}" for n, c in enumerate(union, 1)}
    out: dict[str, Any] = {label: {"queries": {}} for label in sets}
    labels = list(sets)
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL statement_timeout = 0")
        started = time.perf_counter()
        for cand in union:
            conn.execute(sql.SQL(create_index(cand, names[cand])))
        out["build_s"] = time.perf_counter() - started
        log(f"built the union of the sets: {len(union)} indexes in {out['build_s']:.0f} s")
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(timeout_s * 1000))
        for name, text in queries.items():
            results: dict[str, dict[str, Any]] = {
                label: {"timeout": False, "runs_ms": []} for label in labels}
            for n in range(1 + runs):
                order = labels[n % len(labels):] + labels[:n % len(labels)]
                for label in order:
                    r = results[label]
                    if r["timeout"]:
                        continue
                    keep = set(sets[label])
                    with conn.transaction(force_rollback=True):
                        for cand in union:
                            if cand not in keep:
                                conn.execute(sql.SQL("DROP INDEX {}").format(
                                    sql.Identifier(names[cand])))
                        try:
                            with conn.transaction():
                                row = conn.execute(
                                    sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ")
                                    + sql.SQL(text)).fetchone()
                        except psycopg.errors.QueryCanceled:
                            r["timeout"] = True
                            continue
                    assert row is not None
                    doc = row[0] if not isinstance(row[0], str) else json.loads(row[0])
                    if n:
                        r["runs_ms"].append(doc[0]["Execution Time"])
            for label, r in results.items():
                if not r["timeout"]:
                    r["best_ms"] = min(r["runs_ms"])
                out[label]["queries"][name] = r
            log("  " + name + ": " + ", ".join(
                f"{label} {'timeout' if r['timeout'] else format(r['best_ms'], '.0f')}"
                for label, r in results.items()))
    return out


def render_timing(advice: indexadvisor.Advice, path: Path) -> dict[str, Any]:
    """Write the HTML report; its size, Python render time and Chromium load time."""
    started = time.perf_counter()
    page = render_html(mask_advice(advice), ReportOptions(literals_masked=True))
    render_s = time.perf_counter() - started
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    chromium = Path("/usr/lib/chromium/chromium")
    load_s = None
    if chromium.exists():
        profile = tempfile.mkdtemp()
        started = time.perf_counter()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--log-level=3",
                        f"--user-data-dir={profile}", "--dump-dom", path.resolve().as_uri()],
                       capture_output=True, timeout=120, check=False)
        load_s = time.perf_counter() - started
        shutil.rmtree(profile, ignore_errors=True)
    return {"bytes": len(page.encode()), "render_s": render_s, "chromium_dump_dom_s": load_s,
            "path": str(path)}


def bench(dsn: str, budget: int, runs: int, timeout_s: int, tolerance: float,
          html: Path) -> dict[str, Any]:
    workload = indexadvisor.load_workload([str(QUERY_DIR)])
    queries = {query_name(q.source): q.text for q in sorted(workload.queries,
                                                             key=lambda q: q.source)}
    settings = ValidationSettings(runs=runs, statement_timeout_ms=timeout_s * 1000,
                                  tolerance=tolerance / 100, where="the benchmark sandbox")
    started = time.perf_counter()
    with indexadvisor.connect(dsn) as conn, \
            advice_run(workload, conn, AdvisorConfig(budget_bytes=budget), log,
                       sandbox=True) as run, \
            psycopg.connect(dsn) as writable:
        advice = validate(run, ValidationTarget(writable, sandbox=True), settings, log)
    advise_s = time.perf_counter() - started
    v = advice.validation
    assert v is not None
    unvalidated = list(v.unvalidated)
    validated = [r.candidate for r in advice.recommendations]
    log(f"validated in {advise_s:.0f} s: {len(unvalidated)} -> {len(validated)} indexes, "
        f"{len(v.withdrawn)} withdrawn")
    with psycopg.connect(dsn) as conn:
        phases = interleaved(conn, {"none": [], "unvalidated": unvalidated,
                                    "validated": validated}, queries, runs, timeout_s)
    return {
        "budget_bytes": budget, "runs": runs, "timeout_s": timeout_s, "tolerance_pct": tolerance,
        "advise_and_validate_s": advise_s,
        "unvalidated": [c.label for c in unvalidated],
        "validated": [c.label for c in validated],
        "withdrawn": [{"index": w.candidate.label, "round": w.round, "reason": w.reason,
                       "queries": [query_name(next(q.source for q in workload.queries
                                                   if q.fingerprint == f)) for f in w.queries]}
                      for w in v.withdrawn],
        "rounds": len(v.rounds),
        "validation_s": v.elapsed_s,
        "phases": phases,
        "html": render_timing(advice, html),
        "advice": advice_to_dict(advice),
    }


def markdown(result: dict[str, Any]) -> str:
    """The per-query table and the totals."""
    p = {k: v for k, v in result["phases"].items() if k != "build_s"}

    def cell(r: dict[str, Any]) -> str:
        return f">{result['timeout_s'] * 1000:,}" if r["timeout"] else f"{r['best_ms']:,.0f}"

    def ratio(r: dict[str, Any], base: dict[str, Any]) -> str:
        if r["timeout"] or base["timeout"]:
            return ""
        return f"{r['best_ms'] / base['best_ms']:.2f}"

    lines = ["| query | no new index, ms | unvalidated set, ms | ratio | validated set, ms | "
             "ratio |", "|---|---:|---:|---:|---:|---:|"]
    totals = {k: 0.0 for k in p}
    for name in sorted(p["none"]["queries"]):
        rows = {k: p[k]["queries"][name] for k in p}
        for k, r in rows.items():
            totals[k] += result["timeout_s"] * 1000 if r["timeout"] else r["best_ms"]
        lines.append(f"| {name} | {cell(rows['none'])} | {cell(rows['unvalidated'])} | "
                     f"{ratio(rows['unvalidated'], rows['none'])} | {cell(rows['validated'])} | "
                     f"{ratio(rows['validated'], rows['none'])} |")
    lines.append(f"| **total** (a timeout counts as the limit) | {totals['none']:,.0f} | "
                 f"{totals['unvalidated']:,.0f} | | {totals['validated']:,.0f} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", default="1GB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=60, help="seconds per run")
    parser.add_argument("--tolerance", type=float, default=10.0, help="percent")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "validate.json")
    parser.add_argument("--html", type=Path, default=Path("reports") / "tpch-validated.html")
    args = parser.parse_args(argv)
    from indexadvisor.db.sandbox import open_sandbox

    started = time.perf_counter()
    with open_sandbox("local", settings=SANDBOX_SETTINGS) as sandbox:
        load.main(["--dsn", sandbox.dsn, "--sf", "1"])
        result = bench(sandbox.dsn, parse_size(args.budget), args.runs, args.timeout,
                       args.tolerance, args.html)
        result["environment"] = environment(sandbox.dsn, sys.argv[1:] if argv is None
                                            else argv, _advice_of(result))
        result["environment"]["command"] = "python -m benchmarks.tpch.validate " + " ".join(
            sys.argv[1:] if argv is None else argv)
    result["wall_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))
    print(f"\nHTML report: {result['html']}")
    print(f"withdrawn: {json.dumps(result['withdrawn'], indent=1)}")
    return 0


def _advice_of(result: dict[str, Any]) -> indexadvisor.Advice:
    from indexadvisor.report import advice_from_dict

    return advice_from_dict(result["advice"])


if __name__ == "__main__":
    sys.exit(main())
