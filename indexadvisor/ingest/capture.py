"""Capture the SQL an application emits through SQLAlchemy into a workload file.

Attach a recorder to the application's engine (in a test run, a staging job, a notebook);
it counts statements with their real bind values inlined by psycopg's client-side binding,
and writes them as a `.sql` file with `-- calls: N` weights that `indexadvisor advise` reads::

    from indexadvisor.capture import WorkloadRecorder
    recorder = WorkloadRecorder.attach(engine)
    ...  # run the application
    recorder.write("workload/app.sql")

Only statements the application really sent are recorded; nothing is executed by us.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..model import Statement
from .sql_files import split_sql


class WorkloadRecorder:
    """Counts the statements an engine executes, with bind values inlined."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._engine: Engine | type[Engine] | None = None

    @classmethod
    def attach(cls, engine: Engine) -> WorkloadRecorder:
        """Start recording every statement `engine` executes."""
        recorder = cls()
        recorder._engine = engine
        event.listen(engine, "before_cursor_execute", recorder._on_execute)
        return recorder

    @classmethod
    def attach_all(cls) -> WorkloadRecorder:
        """Start recording every statement of every SQLAlchemy engine (listens on the
        `Engine` class: engines created later are recorded too)."""
        recorder = cls()
        recorder._engine = Engine
        event.listen(Engine, "before_cursor_execute", recorder._on_execute)
        return recorder

    def detach(self) -> None:
        """Stop recording."""
        if self._engine is not None:
            event.remove(self._engine, "before_cursor_execute", self._on_execute)
            self._engine = None

    def _on_execute(self, conn: Any, cursor: Any, statement: str, parameters: Any,
                    context: Any, executemany: bool) -> None:
        text = self._inline(cursor, statement, parameters, executemany)
        with self._lock:
            self._counts[text.strip()] += 1

    @staticmethod
    def _inline(cursor: Any, statement: str, parameters: Any, executemany: bool) -> str:
        """The statement with its values, as psycopg would bind them client-side."""
        raw = getattr(cursor, "connection", None)
        if executemany and isinstance(parameters, (list, tuple)) and parameters:
            parameters = parameters[0]
        if isinstance(raw, psycopg.Connection) and parameters:
            try:
                return psycopg.ClientCursor(raw).mogrify(statement, parameters)
            except (psycopg.Error, TypeError, KeyError, IndexError):
                return statement
        return statement

    def statements(self) -> list[Statement]:
        """What was recorded, most frequent first, as workload statements."""
        with self._lock:
            items = sorted(self._counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Statement(text, "sqlalchemy capture", calls=calls) for text, calls in items]

    def render(self) -> str:
        """The workload file's text."""
        parts = [f"-- calls: {s.calls}\n{s.text.rstrip().rstrip(';')};\n"
                 for s in self.statements()]
        return "-- captured by indexadvisor.capture.WorkloadRecorder\n" + "".join(parts)

    def write(self, path: str | Path) -> Path:
        """Write the workload file (a round trip through our own splitter is checked)."""
        text = self.render()
        assert len([s for s in split_sql(text, "check") if isinstance(s, Statement)]) == \
            len(self.statements())
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target
