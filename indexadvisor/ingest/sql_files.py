"""Read .sql files and directories: statements split with PostgreSQL's own scanner.

A comment `-- calls: N` (or `-- indexadvisor: calls=N`) before a statement gives its weight.
Text the scanner cannot read (an unterminated quote, say) is reported, not lost.

>>> [(s.text, s.calls) for s in split_sql("-- calls: 7\\nSELECT 1;\\nSELECT 2", "x.sql")]
[('SELECT 1', 7), ('SELECT 2', 1)]
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from pglast.parser import ParseError, scan

from ..model import Outcome, Skipped, Statement
from ..model.errors import SourceError

_CALLS = re.compile(r"--\s*(?:indexadvisor:\s*)?calls\s*[:=]\s*(\d+)", re.IGNORECASE)
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_SEMICOLON = "ASCII_59"


def split_sql(text: str, source: str) -> list[Statement | Skipped]:
    """Split a script into statements, each with its `file:line` source and weight."""
    try:
        tokens = list(scan(text))
        tail: Skipped | None = None
    except ParseError as exc:
        stop = _error_location(exc)
        tokens = _scan_prefix(text, stop)
        ends = [i for i, tok in enumerate(tokens) if tok.name == _SEMICOLON]
        tokens = tokens[: ends[-1] + 1] if ends else []
        begin = tokens[-1].end + 1 if tokens else 0
        tail_text = text[begin:].strip()
        line = text.count("\n", 0, begin + len(text[begin:]) - len(text[begin:].lstrip())) + 1
        tail = Skipped(f"{source}:{line}", "cannot be scanned", tail_text, detail=str(exc.args[0]))
    out: list[Statement | Skipped] = []
    calls: int | None = None
    first: int | None = None
    last = 0
    for tok in tokens:
        if tok.name in _COMMENTS:
            match = _CALLS.search(text[tok.start : tok.end + 1])
            if match and first is None:
                calls = int(match.group(1))
            continue
        if tok.name == _SEMICOLON:
            if first is not None:
                out.append(_statement(text, first, last, source, calls))
            first, calls = None, None
            continue
        if first is None:
            first = tok.start
        last = tok.end
    if first is not None:
        out.append(_statement(text, first, last, source, calls))
    if tail is not None and tail.text:
        out.append(tail)
    return out


def _scan_prefix(text: str, stop: int) -> list:
    """Tokens of the longest prefix the scanner accepts (up to the failing position)."""
    while stop > 0:
        try:
            return list(scan(text[:stop]))
        except ParseError as exc:
            new_stop = _error_location(exc)
            stop = new_stop if new_stop < stop else stop - 1
    return []


def _error_location(exc: ParseError) -> int:
    """The 0-based character offset libpg_query reports with a scan error."""
    return int(exc.args[1]) if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0


def _statement(text: str, start: int, end: int, source: str, calls: int | None) -> Statement:
    line = text.count("\n", 0, start) + 1
    return Statement(text[start : end + 1], f"{source}:{line}", calls=calls or 1)


def sql_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand files and directories (recursively, *.sql, sorted) into a list of files."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.sql") if p.is_file())
            if not found:
                raise SourceError(f"{path}: directory holds no .sql files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise SourceError(f"{path}: no such file or directory")
    return files


def read_sql_paths(paths: Iterable[str | Path]) -> Iterator[Statement | Skipped]:
    """Statements of every .sql file under `paths`, in a stable order."""
    for file in sql_files(paths):
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise SourceError(f"{file}: cannot read: {exc.strerror}") from None
        if b"\x00" in raw:
            yield Skipped(str(file), "binary file (NUL bytes), not SQL")
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            yield Skipped(f"{file}:{line}", "invalid UTF-8 (replaced with U+FFFD, statements "
                          "still read)", "", Outcome.NOT_ADVISED)
            text = raw.decode("utf-8", errors="replace")
        yield from split_sql(text, str(file))
