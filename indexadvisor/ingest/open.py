"""Opening sources: files (gzip, bz2, xz by their magic bytes), directories of rotated
files, stdin; a peek at the head of each for sniffing; progress in bytes read.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from ..model.errors import SourceError

HEAD_BYTES = 64 << 10
_COMPRESSED = (".gz", ".bz2", ".xz")
_DIR_SUFFIXES = frozenset({".sql", ".log", ".csv", ".json", ".txt", ""})
_ROTATION = re.compile(r"(.*?)\.(\d+)$")
_DIGITS = re.compile(r"(\d+)")


def _plain_name(name: str) -> str:
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def rotation_key(path: Path) -> tuple[object, ...]:
    """Oldest first: `x.log.3.gz`, `x.log.2`, `x.log.1`, `x.log`; numbers in names compare as
    numbers (`postgresql-9.log` before `postgresql-10.log`).

    >>> names = ["pg.log", "pg.log.1", "pg.log.10.gz", "pg.log.2.gz", "a-10.csv", "a-9.csv"]
    >>> [p.name for p in sorted(map(Path, names), key=rotation_key)]
    ['a-9.csv', 'a-10.csv', 'pg.log.10.gz', 'pg.log.2.gz', 'pg.log.1', 'pg.log']
    """
    base = _plain_name(path.name)
    m = _ROTATION.match(base)
    stem, number = (m.group(1), int(m.group(2))) if m else (base, 0)
    natural = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _DIGITS.split(stem))
    return (str(path.parent), natural, -number)


def _wanted(path: Path) -> bool:
    """Files of a directory we read: SQL, logs, CSV/JSON exports, rotations, compressed."""
    if path.name.startswith("."):
        return False
    base = _plain_name(path.name)
    m = _ROTATION.match(base)
    if m:
        base = m.group(1)
    return Path(base).suffix.lower() in _DIR_SUFFIXES


def expand(paths: Iterable[str]) -> list[str]:
    """Files to read, in order: directories expanded recursively and sorted as rotations
    (oldest first); '-' is stdin. Missing paths raise SourceError."""
    out: list[str] = []
    for raw in paths:
        if raw == "-":
            out.append(raw)
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted((p for p in path.rglob("*") if p.is_file() and _wanted(p)),
                           key=rotation_key)
            if not found:
                raise SourceError(f"{path}: directory holds no .sql or log files",
                                  hint="give .sql files, PostgreSQL logs, or directories "
                                  "holding them")
            out.extend(str(p) for p in found)
        elif path.is_file():
            out.append(str(path))
        else:
            raise SourceError(f"{path}: no such file or directory")
    return out


def total_bytes(files: Iterable[str]) -> int | None:
    """Sum of file sizes (None when stdin is among them)."""
    total = 0
    for name in files:
        if name == "-":
            return None
        total += Path(name).stat().st_size
    return total


class Source:
    """One opened input: a binary stream of its (decompressed) bytes, with the head peeked.

    Reading never raises for corrupt compressed data: the stream ends there and `error` says
    why.
    """

    def __init__(self, name: str, progress: Callable[[int], None] | None = None) -> None:
        self.name = name
        self.error: tuple[str, str] | None = None  # (category, detail)
        self.compression: str | None = None
        self._progress = progress
        self._reported = 0
        try:
            self._raw: BinaryIO = (sys.stdin.buffer if name == "-"
                                   else open(name, "rb"))  # noqa: SIM115
        except OSError as exc:
            raise SourceError(f"{name}: cannot read: {exc.strerror}") from None
        magic = self._raw.peek(6)[:6] if hasattr(self._raw, "peek") else b""
        self._stream: Any = self._raw
        if magic.startswith(b"\x1f\x8b"):
            self.compression, self._stream = "gzip", gzip.GzipFile(fileobj=self._raw)
        elif magic.startswith(b"BZh"):
            self.compression, self._stream = "bz2", bz2.BZ2File(self._raw)
        elif magic.startswith(b"\xfd7zXZ\x00"):
            self.compression, self._stream = "xz", lzma.LZMAFile(self._raw)  # noqa: SIM115
        self.head = self._read(HEAD_BYTES)
        self._pending = self.head

    @property
    def display(self) -> str:
        return "<stdin>" if self.name == "-" else self.name

    def _read(self, size: int) -> bytes:
        if self.error is not None:
            return b""
        try:
            data = self._stream.read(size)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            self.error = (f"corrupt {self.compression or ''} data".replace("  ", " "), str(exc))
            return b""
        if self._progress is not None and self.name != "-":
            try:
                position = self._raw.tell()
            except OSError:
                position = self._reported
            self._progress(position - self._reported)
            self._reported = position
        return data

    def read(self, size: int = -1) -> bytes:
        """Like BinaryIO.read (`size` bytes unless the stream ends): the peeked head first,
        then the rest of the stream."""
        if self._pending:
            if size < 0:
                data, self._pending = self._pending, b""
                return data + self._read(-1)
            data, self._pending = self._pending[:size], self._pending[size:]
            if len(data) < size:
                data += self._read(size - len(data))
            return data
        return self._read(size)

    def close(self) -> None:
        if self.name != "-":
            self._raw.close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
