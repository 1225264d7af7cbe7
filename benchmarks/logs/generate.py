"""Write a real PostgreSQL log of a given size under pgbench, for the log-ingestion benchmark.

Usage::

    python -m benchmarks.logs.generate --size 1GB --prefix debian [--cut 100MB]
    python -m benchmarks.logs.generate --size 1GB --prefix rds --cut 100MB

A throwaway server (`indexadvisor.db.sandbox.LocalSandbox`, run as the ``postgres`` OS user) is
started with ``log_min_duration_statement = 0`` and the chosen ``log_line_prefix``
(``debian``: ``%m [%p] %q%u@%d ``, PostgreSQL's Debian packaging default; ``rds``:
``%t:%r:%u@%d:[%p]:``, the Amazon RDS / Aurora default), through the logging collector into one
un-rotated stderr-format file. ``pgbench -i`` at a small scale, then rounds of ``pgbench -T``
with several clients until the log holds ``--size`` bytes: two rounds in three use the simple
query protocol, the second of every three ``-M prepared`` (so ``execute <name>:`` lines with their
``DETAIL:  parameters: $1 = '...'`` lines are in the log, and the parse/bind lines that
``log_min_duration_statement`` writes for the extended protocol too).

The log is copied to ``/var/tmp/ia-logbench/<prefix>-<size>.log`` (``--out`` to change the
directory). An existing file of at least the requested size is reused, unless ``--force``.
``--cut 100MB`` also writes ``<prefix>-100MB.log``: the first 100 MB of the big log, cut before
the first ``LOG:`` record that starts past that offset, so no record is split.

A small ``<name>.json`` manifest beside each log says how it was made (server version, prefix,
pgbench rounds, bytes, lines).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from indexadvisor.db.sandbox import LocalSandbox
from indexadvisor.db.sandbox import reaper as _reaper

DEFAULT_OUT = Path("/var/tmp/ia-logbench")

PREFIXES: dict[str, str] = {
    "debian": "%m [%p] %q%u@%d ",
    "rds": "%t:%r:%u@%d:[%p]:",
}

#: A record's first line, per prefix flavour: the message starts with a severity.
RECORD_START: dict[str, re.Pattern[bytes]] = {
    "debian": re.compile(
        rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \S+ \[\d+\] (?:\S*@\S* )?LOG:  "
    ),
    "rds": re.compile(
        rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+:[^:]*:[^:@]*@[^:]*:\[\d+\]:LOG:  "
    ),
}

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}

SCALE = 10
CLIENTS = 4
THREADS = 2
ROUND_SECONDS = 10


def parse_size(text: str) -> int:
    """Bytes in ``100MB``, ``1GB``, ``512K`` (binary units).

    >>> parse_size("1GB"), parse_size("100MB"), parse_size("4096")
    (1073741824, 104857600, 4096)
    """
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 100MB or 1GB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def size_label(size: int) -> str:
    """``1GB``, ``100MB``: the label used in file names.

    >>> size_label(1 << 30), size_label(100 << 20), size_label(1000)
    ('1GB', '100MB', '1000B')
    """
    for unit in ("G", "M", "K"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}B"
    return f"{size}B"


def server_settings(prefix: str) -> dict[str, str | int | bool]:
    """postgresql.conf settings of the logging server."""
    return {
        "logging_collector": True,
        "log_destination": "stderr",
        "log_directory": "log",
        "log_filename": "postgresql.log",
        "log_rotation_age": 0,
        "log_rotation_size": 0,
        "log_line_prefix": PREFIXES[prefix],
        "log_min_duration_statement": 0,
        "log_checkpoints": True,
        "log_autovacuum_min_duration": 0,
        "max_connections": 20,
    }


def _pgbench(sandbox: LocalSandbox, args: list[str], timeout: float) -> str:
    """Run pgbench as the server's OS user against the sandbox's socket; its output."""
    argv = [
        str(sandbox.bindir / "pgbench"), "-h", str(sandbox.datadir), "-p", str(sandbox.port),
        "-U", "postgres", *args, "bench",
    ]  # fmt: skip
    done = _reaper.run_server_program(argv, cwd=sandbox.datadir, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"pgbench {' '.join(args)} failed: {(done.stderr + done.stdout)[-2000:]}")
    return done.stdout


def write_log(prefix: str, size: int, dest: Path) -> dict[str, object]:
    """Start a server, run pgbench until its log holds `size` bytes, copy the log to `dest`."""
    started = time.monotonic()
    rounds: list[dict[str, object]] = []
    with LocalSandbox.start(server_settings(prefix)) as sandbox:
        log = sandbox.datadir / "log" / "postgresql.log"
        import psycopg

        with psycopg.connect(sandbox.dsn, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
            version = conn.execute("SHOW server_version").fetchone()
        _pgbench(sandbox, ["-i", "-s", str(SCALE), "-q"], timeout=600)
        n = 0
        while not log.exists() or log.stat().st_size < size:
            mode = "prepared" if n % 3 == 1 else "simple"
            out = _pgbench(
                sandbox,
                ["-c", str(CLIENTS), "-j", str(THREADS), "-T", str(ROUND_SECONDS), "-M", mode],
                timeout=ROUND_SECONDS + 300,
            )
            tps = re.search(r"tps = ([\d.]+)", out)
            done = log.stat().st_size if log.exists() else 0
            rounds.append({"mode": mode, "tps": float(tps.group(1)) if tps else None,
                           "log_bytes": done})
            print(f"round {n + 1}: -M {mode}, {rounds[-1]['tps']} tps, log {done / 2**20:.0f} MB",
                  file=sys.stderr, flush=True)
            n += 1
        with psycopg.connect(sandbox.dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_catalog.pg_sleep(0.5)")  # let the collector flush
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".tmp")
        shutil.copyfile(log, tmp)
        os.replace(tmp, dest)
    return {
        "prefix": prefix,
        "log_line_prefix": PREFIXES[prefix],
        "server_version": version[0] if version else None,
        "pgbench": {"scale": SCALE, "clients": CLIENTS, "threads": THREADS,
                    "round_seconds": ROUND_SECONDS, "rounds": rounds},
        "seconds": round(time.monotonic() - started, 1),
    }


def cut_log(src: Path, dest: Path, size: int, prefix: str) -> int:
    """Copy the first `size` bytes of `src` to `dest`, ending before a record start; bytes."""
    start = RECORD_START[prefix]
    written = 0
    with src.open("rb") as inp, dest.with_suffix(".tmp").open("wb") as out:
        for line in inp:
            if written >= size and start.match(line):
                break
            out.write(line)
            written += len(line)
    os.replace(dest.with_suffix(".tmp"), dest)
    return written


def describe(path: Path) -> dict[str, int]:
    """Bytes and lines of a log file."""
    lines = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
    return {"bytes": path.stat().st_size, "lines": lines}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GB"))
    parser.add_argument("--prefix", choices=sorted(PREFIXES), default="debian")
    parser.add_argument("--cut", type=parse_size, action="append", default=[],
                        help="also write the first N bytes as <prefix>-<N>.log (repeatable)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)

    dest = args.out / f"{args.prefix}-{size_label(args.size)}.log"
    manifest = dest.with_suffix(".json")
    if not args.force and dest.exists() and dest.stat().st_size >= args.size:
        print(f"reusing {dest} ({dest.stat().st_size / 2**20:.0f} MB)", file=sys.stderr)
    else:
        info = write_log(args.prefix, args.size, dest)
        info.update(describe(dest))
        manifest.write_text(json.dumps(info, indent=2) + "\n")
        print(f"wrote {dest} ({info['bytes'] / 2**20:.0f} MB, {info['lines']} lines)",
              file=sys.stderr)
    for cut in args.cut:
        small = args.out / f"{args.prefix}-{size_label(cut)}.log"
        cut_log(dest, small, cut, args.prefix)
        info = {"cut_from": dest.name, "prefix": args.prefix, **describe(small)}
        small.with_suffix(".json").write_text(json.dumps(info, indent=2) + "\n")
        print(f"wrote {small} ({info['bytes'] / 2**20:.0f} MB, {info['lines']} lines)",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
