"""Reading logs in pieces and in several processes gives exactly what one reading gives.

Every group, count, time, sample (with its bind values and plan), skip count and skip example
must be the same whatever the cuts: the cuts here are every record start of a hand-written log
that holds each case of the pairing rules (execute + DETAIL, late DETAILs, bare durations,
auto_explain plans before and after their statement, multi-line statements, bad lines, invalid
UTF-8, a record too long, utility and unparseable statements), random cuts of the logs a real
server wrote (tests/pg_logs.py) and of a generated pgbench log with both protocols; with
chunk reads of 16 bytes and of 4 MiB. Then the command line: -j 1 against -j 2 (forked
workers) on a directory of rotated, compressed and plain logs with bad lines.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.ingest_speed import generate
from indexadvisor.cli import cli
from indexadvisor.cli import workload as cli_workload
from indexadvisor.ingest import SourceOptions
from indexadvisor.ingest import summarize as summarize_module
from indexadvisor.ingest.pg_log import chunks
from indexadvisor.ingest.summarize import summarize, worker_pool
from indexadvisor.model import Workload
from indexadvisor.model.errors import SourceError

from .pg_logs import PHASES, real_logs
from .test_ingest_logs_bad import _cli

HEAD = "2024-05-01 10:00:{s:02d}.{ms:03d} UTC [{pid}] app@shop "
PLAN = ("plan:\n\tQuery Text: {q}\n\tIndex Scan using v_c on v  (cost=0.29..8.31 rows=1 "
        "width=4)\n\t  Index Cond: (c = 1)")


def _cases(round_: int) -> list[tuple[int, str]]:
    """(pid, message) of one round: every pairing case, with this round's values."""
    n = round_
    return [
        (11, "LOG:  duration: 0.100 ms  parse S_1: SELECT * FROM t WHERE a = $1"),
        (11, "LOG:  duration: 0.100 ms  bind S_1: SELECT * FROM t WHERE a = $1"),
        (12, "LOG:  duration: 0.100 ms  bind S_1: SELECT * FROM t WHERE a = $1"),
        (11, f"DETAIL:  parameters: $1 = 'bind {n}'"),
        (11, "LOG:  duration: 1.000 ms  execute S_1: SELECT * FROM t WHERE a = $1"),
        (12, f"DETAIL:  parameters: $1 = 'bind of 12 {n}'"),
        (12, "LOG:  duration: 2.000 ms  execute S_1: SELECT * FROM t WHERE a = $1"),
        (11, f"DETAIL:  parameters: $1 = 'one {n}'"),  # not right after its execute
        (12, f"DETAIL:  parameters: $1 = 'two {n}', $2 = NULL"),
        (12, f"LOG:  duration: 4.000 ms  statement: SELECT {n}"),
        (11, "LOG:  duration: 8.125 ms  execute S_1: SELECT * FROM t WHERE a = $1"),
        (11, f"DETAIL:  parameters: $1 = 'three {n}'"),
        (13, f"LOG:  duration: 0.500 ms  statement: SELECT o.id\n\t  FROM orders o\n\t WHERE "
             f"o.status = 'x{n}'"),
        (14, f"LOG:  statement: SELECT * FROM u WHERE b = {n}"),  # log_statement = all
        (15, "LOG:  execute S_2: SELECT * FROM u WHERE b = $1"),
        (14, "LOG:  duration: 0.700 ms"),
        (15, f"DETAIL:  parameters: $1 = '{n}'"),
        (15, "LOG:  duration: 0.800 ms"),
        (16, "LOG:  duration: 0.300 ms  execute S_3: SELECT * FROM v WHERE c = $1"),
        (16, "DETAIL:  parameters: $1 = '1'"),
        (16, "LOG:  duration: 0.300 ms  " + PLAN.format(q="SELECT * FROM v WHERE c = $1")),
        (17, "LOG:  duration: 0.200 ms  " + PLAN.format(q=f"SELECT * FROM w WHERE d = {n}")),
        (17, f"LOG:  duration: 0.200 ms  statement: SELECT * FROM w WHERE d = {n}"),
        (18, "LOG:  duration: 0.250 ms  " + PLAN.format(q="SELECT * FROM z")),  # plan only
        (19, 'ERROR:  relation "nope" does not exist at character 15'),
        (19, "STATEMENT:  SELECT * FROM nope"),
        (11, "LOG:  duration: 0.010 ms  statement: BEGIN"),
        (12, f"LOG:  duration: 0.010 ms  statement: SELEC {n}"),
        (12, f"LOG:  duration: 0.010 ms  statement: SELECT * FROM t WHERE a = {n} {n}"),
        (20, "LOG:  connection received: host=[local]"),
        (13, f"LOG:  duration: 0.{n:03d} ms  statement: SELECT * FROM t WHERE a = 'long"
             + "x" * (300 if n % 2 else 10) + "'"),
    ]


def _handmade(rounds: int = 6) -> bytes:
    lines: list[bytes] = []
    tick = 0
    for n in range(rounds):
        for pid, message in _cases(n):
            tick += 1
            lines.append((HEAD.format(s=tick // 1000 % 60, ms=tick % 1000, pid=pid)
                          + message).encode())
        lines.append(b"garbage that is no record")
        lines.append(b"\tcontinuation line after garbage")
        lines.append(HEAD.format(s=0, ms=n, pid=21).encode()
                     + b"LOG:  duration: 0.001 ms  statement: SELECT '\xff\xfe bad utf8'")
    return b"\n".join(lines) + b"\n"


def _record_starts(data: bytes, kind: str = "stderr") -> list[int]:
    pattern = rb"\n(?=[^\t])" if kind == "stderr" else rb"\n(?=.)"
    return [m.start() + 1 for m in re.finditer(pattern, data, re.S)]


def _read(path: Path, cuts: list[int] | None, monkeypatch: pytest.MonkeyPatch,
          options: SourceOptions | None = None) -> Workload:
    """The workload of `path`, read whole (`cuts` None) or in pieces starting at `cuts`."""
    if cuts is not None:
        monkeypatch.setattr(summarize_module, "cut_points",
                            lambda *_: [0, *sorted(set(cuts) - {0})])
    try:
        return summarize([str(path)], options, piece_bytes=1 if cuts else None).workload()
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("chunk_bytes", [16, 4 << 20])
def test_every_cut_of_a_handmade_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     chunk_bytes: int) -> None:
    log = tmp_path / "cases.log"
    data = _handmade()
    log.write_bytes(data)
    monkeypatch.setattr(chunks, "MAX_RECORD_BYTES", 200)  # the long statements are too long
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    whole = _read(log, None, monkeypatch)
    assert {s.category for s in whole.skipped} >= {
        "invalid UTF-8", "no log format matches this line", "utility statement",
        "continuation line without a record", "unparseable"}
    # a record is too long when no record starts in a read that ends past its limit
    assert ("record too long" in dict(whole.skipped_counts)) == (chunk_bytes == 16)
    assert any(q.samples[0].plan for q in whole.queries)
    assert any(s.params == ("three 0",) for q in whole.queries for s in q.samples)
    starts = _record_starts(data)
    rereads = []
    real_read = summarize_module.read_piece

    def counted(piece, *args):  # type: ignore[no-untyped-def]
        if piece.held or piece.plans:
            rereads.append(piece.start)
        return real_read(piece, *args)

    for cut in starts:
        monkeypatch.setattr(chunks, "MAX_RECORD_BYTES", 200)
        monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
        monkeypatch.setattr(summarize_module, "read_piece", counted)
        assert _read(log, [cut], monkeypatch) == whole, f"cut at byte {cut}"
    assert rereads  # the plan cases made pieces read again with the state before them
    for step in (3, 7):
        monkeypatch.setattr(chunks, "MAX_RECORD_BYTES", 200)
        monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
        assert _read(log, starts[::step], monkeypatch) == whole


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return real_logs(tmp_path_factory.getbasetemp())


PREFIXES = {"queryid": "%m [%p] %q%u@%d %Q "}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_cuts_of_real_logs(logs: Path, monkeypatch: pytest.MonkeyPatch,
                                  data: st.DataObject) -> None:
    phase = data.draw(st.sampled_from(list(PHASES)))
    suffix = data.draw(st.sampled_from([".log", ".json"]))
    path = logs / f"{phase}{suffix}"
    options = SourceOptions(log_prefix=PREFIXES.get(phase)) if suffix == ".log" else None
    chunk_bytes = data.draw(st.sampled_from([16, 300, 4 << 20]))
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    whole = _read(path, None, monkeypatch, options)
    starts = _record_starts(path.read_bytes(), "stderr" if suffix == ".log" else "json")
    cuts = data.draw(st.lists(st.sampled_from(starts), min_size=1, max_size=6))
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    assert _read(path, cuts, monkeypatch, options) == whole


@pytest.fixture(scope="module")
def pgbench(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pgbench")
    simple, prepared = folder / "simple.part", folder / "prepared.part"
    generate(simple, 0.4, "debian", "simple", seed=3)
    generate(prepared, 0.4, "debian", "prepared", seed=4)
    log = folder / "pgbench.log"
    log.write_bytes(simple.read_bytes() + prepared.read_bytes() + simple.read_bytes())
    return log


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_random_cuts_of_a_pgbench_log(pgbench: Path, monkeypatch: pytest.MonkeyPatch,
                                      data: st.DataObject) -> None:
    whole = _read(pgbench, None, monkeypatch)
    starts = _record_starts(pgbench.read_bytes())
    cuts = data.draw(st.lists(st.sampled_from(starts), min_size=1, max_size=12))
    assert _read(pgbench, cuts, monkeypatch) == whole


def test_worker_processes_give_what_one_process_gives(pgbench: Path, logs: Path,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line, -j 1 against -j 2: rotated, compressed, plain, with bad lines."""
    folder = tmp_path / "pglog"
    folder.mkdir()
    data = pgbench.read_bytes()
    third = _record_starts(data)[len(_record_starts(data)) // 3]
    (folder / "postgresql.log.2.gz").write_bytes(gzip.compress(data[:third]))
    (folder / "postgresql.log.1").write_bytes(data[third:] + _handmade(2))
    (folder / "postgresql.log").write_bytes((logs / "debian.log").read_bytes() + b"junk\n")
    monkeypatch.setattr(cli_workload, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(summarize_module, "MIN_PIECE", 64 << 10)
    runner = CliRunner()
    out = {}
    for jobs in ("1", "2"):
        result = runner.invoke(cli, ["ingest", str(folder), "--format", "json", "-j", jobs])
        assert result.exit_code == 0, result.output
        out[jobs] = json.loads(result.stdout)
    assert out["1"] == out["2"]
    doc = out["1"]
    assert doc["statements"] > 5_000 and doc["skipped"]["by_reason"]["utility statement"]
    cuts: list[list[int]] = []
    real_cut_points = summarize_module.cut_points
    monkeypatch.setattr(summarize_module, "cut_points",
                        lambda *a: cuts.append(real_cut_points(*a)) or cuts[-1])
    with worker_pool(2) as pool:  # the pieces really are read by other processes
        split = summarize([str(folder / "postgresql.log.1")], SourceOptions(jobs=2), pool)
    assert len(cuts[0]) > 5
    assert split.workload() == summarize([str(folder / "postgresql.log.1")]).workload()


def test_merged_summaries_equal_reading_all_logs(pgbench: Path, logs: Path,
                                                 tmp_path: Path) -> None:
    """Two machines' summaries merged = all their logs read at once (but `sources`)."""
    host1, host2 = tmp_path / "host1", tmp_path / "host2"
    host1.mkdir()
    host2.mkdir()
    (host1 / "postgresql.log.1").write_bytes(pgbench.read_bytes())
    (host1 / "postgresql.log").write_bytes((logs / "debian.log").read_bytes())
    (host2 / "postgresql.json").write_bytes((logs / "explain_json.json").read_bytes())
    (host2 / "app.sql").write_text("SELECT * FROM orders WHERE customer_id = 7;\nVACUUM;\n")
    runner = CliRunner()

    def ingest(*args: str) -> dict[str, object]:
        result = runner.invoke(cli, ["ingest", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        doc: dict[str, object] = json.loads(result.stdout)
        doc.pop("sources")
        return doc

    for host in (host1, host2):
        (tmp_path / f"{host.name}.json").write_text(json.dumps(ingest(str(host))))
    fleet = ingest(str(tmp_path / "host1.json"), str(tmp_path / "host2.json"))
    assert fleet == ingest(str(host1), str(host2))
    assert fleet["statements"] == sum(ingest(str(h))["statements"]  # type: ignore[misc]
                                      for h in (host1, host2))
    (tmp_path / "fleet.json").write_text(json.dumps(fleet))
    again = ingest(str(tmp_path / "fleet.json"))
    assert again == fleet  # a merged summary merges again
    workload = cli_workload.read_workload([str(tmp_path / "fleet.json")])
    assert workload == cli_workload.read_workload([str(host1), str(host2)])


def test_old_and_filtered_summaries(tmp_path: Path, logs: Path) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"schema_version": 1, "tool": {"name": "indexadvisor",
                                                             "version": "0.1.0"},
                               "sources": ["x.log"], "statements": 1, "groups": []}, indent=2))
    result = _cli("ingest", str(old))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "schema version 1, which cannot be merged" in result.stderr
    assert "run indexadvisor ingest --format json on the logs again" in result.stderr
    top = tmp_path / "top.json"
    result = _cli("ingest", str(logs / "debian.log"), "--top", "1", "--format", "json",
                  "-o", str(top))
    assert result.returncode == 0, result.stderr
    result = _cli("ingest", str(top), "--format", "json", "--log-format", "csvlog")
    assert result.returncode == 0  # a summary is recognised whatever --log-format says
    assert json.loads(result.stdout)["fingerprints"] == 1
    assert "written with --top 1: the statements it left out are not in it" in \
        " ".join(result.stderr.split())


def _die(*_: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_that_dies_is_an_error(pgbench: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(summarize_module, "read_piece", _die)  # forked: the workers have it
    monkeypatch.setattr(summarize_module, "MIN_PIECE", 64 << 10)
    with pytest.raises(SourceError, match="a process reading logs stopped") as caught, \
            worker_pool(2) as pool:
        summarize([str(pgbench)], SourceOptions(jobs=2), pool)
    assert caught.value.hint == "read with fewer processes: -j 1"
