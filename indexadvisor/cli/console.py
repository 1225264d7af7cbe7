"""The terminal: stderr for progress and messages, and writing report files."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from rich.console import Console

from ..model.errors import ConfigError

err = Console(stderr=True)


@contextlib.contextmanager
def progress_display() -> Iterator[Callable[[str], None] | None]:
    """A spinner with the current stage on stderr, only when stderr is a terminal."""
    if not err.is_terminal:
        yield None
        return
    with err.status("starting…") as status:
        yield lambda message: status.update(message + "…")


def write_file(path: Path, text: str) -> None:
    """Write a report, creating its folder; a clear error when that is not possible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None
