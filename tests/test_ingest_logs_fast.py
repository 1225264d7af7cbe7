"""The stderr reader's fast paths give what the record-by-record rules give.

Real logs (tests/pg_logs.py) re-read as CloudWatch exports and in tiny chunks (every record
pending across chunk ends), and a hand-written interleaving of two processes' execute, bind
and DETAIL lines, as PostgreSQL writes them without the logging collector.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexadvisor.ingest import SourceOptions, read_sources
from indexadvisor.ingest.pg_log import chunks
from indexadvisor.model import Statement

from .test_ingest_logs import logs, normalize, read  # noqa: F401  (logs: the fixture)

STDERR_PHASES = ("debian", "vanilla", "rds", "log_statement", "explain_text", "explain_json")


def _statements(items: list[object]) -> list[dict[str, object]]:
    return [d for d in normalize(items) if "skipped" not in d]  # type: ignore[arg-type]


@pytest.mark.parametrize("phase", STDERR_PHASES)
def test_cloudwatch_export_reads_like_the_log(logs: Path, phase: str,  # noqa: F811
                                              tmp_path: Path) -> None:
    plain = logs / f"{phase}.log"
    export = tmp_path / f"{phase}.log"
    export.write_text("".join(line if line.startswith("\t") else
                              "2024-05-01T10:00:00.123Z " + line
                              for line in plain.read_text().splitlines(keepends=True)))
    assert _statements(read(export, phase)) == _statements(read(plain, phase))


@pytest.mark.parametrize("phase", STDERR_PHASES)
def test_tiny_chunks_read_like_one_chunk(logs: Path, phase: str,  # noqa: F811
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _statements(read(logs / f"{phase}.log", phase))
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 16)
    assert _statements(read(logs / f"{phase}.log", phase)) == whole


HEAD = "2024-05-01 10:00:00.{ms:03d} UTC [{pid}] app@shop "
INTERLEAVED = [
    (11, "LOG:  duration: 0.100 ms  parse S_1: SELECT * FROM t WHERE a = $1"),
    (11, "LOG:  duration: 0.100 ms  bind S_1: SELECT * FROM t WHERE a = $1"),
    (12, "LOG:  duration: 0.100 ms  bind S_1: SELECT * FROM t WHERE a = $1"),
    (11, "DETAIL:  parameters: $1 = 'bind of 11'"),
    (11, "LOG:  duration: 1.000 ms  execute S_1: SELECT * FROM t WHERE a = $1"),
    (12, "DETAIL:  parameters: $1 = 'bind of 12'"),
    (12, "LOG:  duration: 2.000 ms  execute S_1: SELECT * FROM t WHERE a = $1"),
    (11, "DETAIL:  parameters: $1 = 'one'"),  # not right after its execute
    (12, "DETAIL:  parameters: $1 = 'two'"),
    (12, "LOG:  duration: 4.000 ms  statement: SELECT 1"),
    (11, "LOG:  duration: 8.000 ms  execute S_1: SELECT * FROM t WHERE a = $1"),
    (11, "DETAIL:  parameters: $1 = 'three'"),  # right after, same prefix: one match
]


@pytest.mark.parametrize("chunk_bytes", [16, 4 << 20])
def test_interleaved_processes_get_their_own_parameters(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int) -> None:
    log = tmp_path / "interleaved.log"
    log.write_text("".join(HEAD.format(ms=ms, pid=pid) + text + "\n"
                           for ms, (pid, text) in enumerate(INTERLEAVED)))
    monkeypatch.setattr(chunks, "CHUNK_BYTES", chunk_bytes)
    got = [s for s in read_sources([str(log)], SourceOptions()) if isinstance(s, Statement)]
    select = [s for s in got if s.text.startswith("SELECT * FROM t")]
    assert sum(s.calls for s in select) == 3  # parse and bind are not calls
    assert sum(s.total_time_ms or 0 for s in select) == pytest.approx(11.0)
    assert {s.params for s in select} == {("one",), ("two",), ("three",)}
    assert [s.calls for s in got if s.text == "SELECT 1"] == [1]
