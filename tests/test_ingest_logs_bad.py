"""Bad input, compression, rotation, stdin and the CLI, on a log a real server wrote.

Every kind of bad input is counted with file:line and the run goes on; nothing ends in a
traceback. The property test interleaves random garbage lines with the real records.
"""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexadvisor.ingest import read_sources
from indexadvisor.ingest.collect import collect
from indexadvisor.ingest.sources import read_logs_text
from indexadvisor.model import Skipped, Statement

from .pg_logs import real_logs


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> str:
    return (real_logs(tmp_path_factory.getbasetemp()) / "debian.log").read_text()


def calls(items: list[Statement | Skipped]) -> Counter[tuple[str, tuple[str | None, ...]]]:
    """(text, params) -> calls of the statements read (extra samples count 0)."""
    out: Counter[tuple[str, tuple[str | None, ...]]] = Counter()
    for i in items:
        if isinstance(i, Statement):
            out[(i.text, i.params)] += i.calls
    return out


def skipped(items: list[Statement | Skipped]) -> list[tuple[str, str]]:
    return [(i.source, i.reason) for i in items if isinstance(i, Skipped)]


def records(log: str) -> list[str]:
    """The log split into records (a line plus its TAB continuation lines)."""
    out: list[str] = []
    for line in log.rstrip("\n").split("\n"):
        if line.startswith("\t") and out:
            out[-1] += "\n" + line
        else:
            out.append(line)
    return out


def test_garbage_line_is_counted_and_nothing_lost(log: str) -> None:
    recs = records(log)
    bad = "\n".join([*recs[:3], "this is not a log line", *recs[3:]]) + "\n"
    items = read_logs_text(bad, "x.log")
    assert calls(items) == calls(read_logs_text(log, "x.log"))
    assert skipped(items) == [(f"x.log:{1 + sum(r.count(chr(10)) + 1 for r in recs[:3])}",
                               "no log format matches this line")]


def test_truncated_final_record(log: str) -> None:
    multi = next(r for r in records(log) if "SELECT o.id" in r)  # a multi-line statement
    cut = log + multi[:-5]  # ... that loses its end and its newline
    items = read_logs_text(cut, "x.log")
    ((source, reason),) = skipped(items)
    assert reason.startswith("truncated final record")
    assert source == f"x.log:{log.count(chr(10)) + 1}"
    assert calls(items) == calls(read_logs_text(log, "x.log"))


def test_binary_garbage_and_invalid_utf8(log: str, tmp_path: Path) -> None:
    recs = records(log)
    raw = ("\n".join(recs[:4]) + "\n").encode() + bytes(range(256)) * 4 + b"\n" + \
        ("\n".join(recs[4:]) + "\n").encode()
    raw = raw.replace(b"it''s", b"it''s \xff\xfe")  # invalid UTF-8 inside a statement
    path = tmp_path / "bad.log"
    path.write_bytes(raw)
    items = list(read_sources([str(path)]))
    reasons = Counter(reason.split(":")[0] for _, reason in skipped(items))
    assert reasons["invalid UTF-8"] >= 2  # the garbage block and the statement
    assert reasons["no log format matches this line"] >= 1
    texts = [text for text, _ in calls(items)]
    assert any("it''s \ufffd\ufffd" in t for t in texts)  # still read, with U+FFFD
    assert sum(calls(items).values()) == 8


def test_huge_statements(log: str, tmp_path: Path) -> None:
    head = records(log)[0].split("LOG:")[0]
    big = f"{head}LOG:  duration: 1.000 ms  statement: SELECT '{'x' * (10 << 20)}'\n"
    large = f"{head}LOG:  duration: 1.000 ms  statement: SELECT '{'y' * (2 << 20)}'\n"
    path = tmp_path / "huge.log"
    path.write_text(log + big + large + log)
    items = list(read_sources([str(path)]))
    reasons = [reason for _, reason in skipped(items)]
    assert any(r.startswith("record too long") for r in reasons)
    assert any(r.startswith("statement too long") for r in reasons)
    assert sum(calls(items).values()) == 16


def test_not_a_log_and_binary_file(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("Meeting notes\nNothing to see here.\n")
    (tmp_path / "image.log").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    items = list(read_sources([str(tmp_path / "notes.txt"), str(tmp_path / "image.log")]))
    assert [reason.split(" (")[0] for _, reason in skipped(items)] == [
        "not a PostgreSQL log, SQL file or pg_stat_statements export",
        "binary file"]


def test_compressed_rotated_and_corrupt(log: str, tmp_path: Path) -> None:
    whole = calls(read_logs_text(log, "x.log"))
    recs = records(log)
    # rotation points between messages that are not a statement and its DETAIL
    cuts = [i for i in range(1, len(recs)) if "DETAIL:" not in recs[i]]
    a, b = cuts[len(cuts) // 3], cuts[2 * len(cuts) // 3]
    parts = ["\n".join(recs[:a]) + "\n", "\n".join(recs[a:b]) + "\n",
             "\n".join(recs[b:]) + "\n"]
    folder = tmp_path / "pglog"
    folder.mkdir()
    (folder / "postgresql.log.2.gz").write_bytes(gzip.compress(parts[0].encode()))
    (folder / "postgresql.log.1").write_bytes(bz2.compress(parts[1].encode()))
    (folder / "postgresql.log").write_bytes(lzma.compress(parts[2].encode()))
    (folder / "README.md").write_text("ignored: not a log name")
    items = list(read_sources([str(folder)]))
    assert calls(items) == whole and not skipped(items)
    sources = [i.source for i in items if isinstance(i, Statement) and i.calls]
    assert any("postgresql.log.2.gz" in s for s in sources)
    corrupt = tmp_path / "corrupt.log.gz"
    corrupt.write_bytes(gzip.compress(log.encode())[:-30])
    reasons = [reason for _, reason in skipped(list(read_sources([str(corrupt)])))]
    assert any(r.startswith("corrupt gzip data") for r in reasons)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_garbage_never_loses_a_valid_record(log: str, data: st.DataObject) -> None:
    """Random garbage lines (anything but a TAB continuation line, which by the format belongs
    to the record before it) between the real records: every record is still read."""
    recs = records(log)
    garbage = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                      max_size=120).filter(lambda s: not s.startswith("\t"))
    out: list[str] = []
    inserted = 0
    for rec in recs:
        lines = data.draw(st.lists(garbage, max_size=3))
        inserted += sum(1 for g in lines if g.strip())
        out.extend(lines)
        out.append(rec)
    items = read_logs_text("\n".join(out) + "\n", "x.log")
    assert calls(items) == calls(read_logs_text(log, "x.log"))
    assert len(skipped(items)) == inserted


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "INDEXADVISOR_DSN"}
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, "-m", "indexadvisor", *args], capture_output=True,
                          text=True, input=stdin, env=env, timeout=120)


def test_cli_ingest_json_stdin_strict(log: str, tmp_path: Path) -> None:
    out = _cli("ingest", "-", "--format", "json", stdin=log)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema_version"] == 2 and doc["statements"] == 8
    assert doc["skipped"] == {"total": 0, "by_reason": {}, "examples": [], "kept": []}
    group = next(g for g in doc["groups"] if g["params"] == ["7", "shipped"])
    assert group["calls"] == 2 and group["relations"] == ["orders"]
    assert group["mean_time_ms"] == pytest.approx(group["total_time_ms"] / 2, abs=1e-3)
    assert group["max_time_ms"] <= group["total_time_ms"]
    assert group["first_seen"] <= group["last_seen"]
    bad = tmp_path / "bad.log"
    bad.write_text(log + "garbage\n")
    table = _cli("ingest", str(bad), "--strict")
    assert table.returncode == 3
    assert "no log format matches this line" in table.stdout
    assert "Top statements by total time" in table.stdout
    assert _cli("ingest", str(bad), "--top", "1", "--format", "json").returncode == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--log-prefix", "%u@%d "], "no time escape"),
    (["--log-prefix", "%m %u "], "no process escape"),
    (["--log-format", "stderr", "--log-prefix", "%t [%p]: [%l-1] "], "matches no line"),
])
def test_cli_prefix_errors(log: str, tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "x.log"
    path.write_text(log)
    out = _cli("ingest", str(path), *args)
    assert out.returncode == 2 and message in out.stderr
    assert "Traceback" not in out.stderr + out.stdout


def test_skipped_examples_are_capped_counts_exact() -> None:
    items = [Skipped(f"x.log:{n}", "no log format matches this line", "junk")
             for n in range(10_000)]
    workload = collect(items)
    assert dict(workload.skipped_counts) == {"no log format matches this line": 10_000}
    assert len(workload.skipped) == 50


# -- records damaged by foreign lines (issue 11) ---------------------------------------------

def test_a_foreign_line_inside_a_statement_is_a_damaged_record(log: str) -> None:
    """A junk line between the TAB-continued lines of a multi-line statement: the first part is
    still valid SQL (the statement without its WHERE), so it must not be read as a statement;
    it is counted as damaged, with the line it starts on."""
    recs = records(log)
    n = next(i for i, r in enumerate(recs) if "SELECT o.id" in r and "\n\t" in r)
    first, rest = recs[n].split("\n", 1)
    broken = "\n".join([*recs[:n], first, "junk from another program", rest, *recs[n + 1:]])
    items = read_logs_text(broken + "\n", "x.log")
    clean = calls(read_logs_text(log, "x.log"))
    texts = {text for text, _ in clean}
    assert {text for text, _ in calls(items)} <= texts
    line = 1 + sum(r.count("\n") + 1 for r in recs[:n])
    damaged = [s for s in items if isinstance(s, Skipped) and s.category == "damaged record"]
    assert [d.source for d in damaged] == [f"x.log:{line}"]
    assert damaged[0].text.startswith(first.split("statement: ")[-1][:20])
    assert sum(calls(items).values()) == sum(clean.values()) - 1


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_foreign_lines_never_turn_a_statement_into_another(log: str, data: st.DataObject) -> None:
    """Random foreign lines (not a TAB continuation, which by the format belongs to the record
    before it) inserted anywhere, inside multi-line records too, with large or tiny chunks:
    every statement read is one the server ran, and every statement lost is a record counted
    as damaged, with file:line."""
    from unittest import mock

    from indexadvisor.ingest.pg_log import chunks

    lines = log.rstrip("\n").split("\n")
    foreign = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
                      max_size=60).filter(lambda s: not s.startswith("\t"))
    inside = [i for i, text in enumerate(lines) if text.startswith("\t")]
    positions = data.draw(st.lists(st.integers(0, len(lines)), max_size=6))
    positions += data.draw(st.lists(st.sampled_from(inside), min_size=1, max_size=3))
    out = list(lines)
    for position in sorted(positions, reverse=True):
        out.insert(position, data.draw(foreign))
    chunk_bytes = data.draw(st.sampled_from([chunks.CHUNK_BYTES, 64, 300]))
    with mock.patch.object(chunks, "CHUNK_BYTES", chunk_bytes):
        items = read_logs_text("\n".join(out) + "\n", "x.log")
    clean = calls(read_logs_text(log, "x.log"))
    got = calls(items)
    assert {text for text, _ in got} <= {text for text, _ in clean}
    damaged = [s for s in items if isinstance(s, Skipped) and s.category == "damaged record"]
    assert damaged, "a foreign line inside a multi-line record damages it"
    assert all(d.source.startswith("x.log:") and d.source[6:].isdigit() for d in damaged)
    assert sum(got.values()) <= sum(clean.values()) <= sum(got.values()) + len(damaged)
