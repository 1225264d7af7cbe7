"""A pytest plugin: record the SQL an application's test suite runs, as a workload file.

Off unless asked for::

    pytest --indexadvisor-capture workload/tests.sql

Every SQLAlchemy engine the tests create is recorded (`capture.WorkloadRecorder` on the
`Engine` class): statements with their bind values inlined, counted, written when the session
ends as a `.sql` file with ``-- calls: N`` weights that `indexadvisor check` and `advise` read.
Under pytest-xdist each worker writes its own file (``tests.gw0.sql``, ...); give them all to
the gate. Loading the plugin costs nothing when the option is not given (SQLAlchemy is only
imported then).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

OPTION = "--indexadvisor-capture"
_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("indexadvisor")
    group.addoption(OPTION, metavar="FILE", default=None,
                    help="record every SQL statement SQLAlchemy runs during the tests into "
                    "this workload file (for `indexadvisor check`).")


def capture_path(target: str, worker: str | None) -> Path:
    """The file a (worker) process writes.

    >>> capture_path("w/tests.sql", None), capture_path("w/tests.sql", "gw1")
    (PosixPath('w/tests.sql'), PosixPath('w/tests.gw1.sql'))
    """
    path = Path(target)
    return path if not worker else path.with_name(f"{path.stem}.{worker}{path.suffix}")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption(OPTION)
    if not target:
        return
    from .capture import WorkloadRecorder

    config.stash[_KEY] = (WorkloadRecorder.attach_all(),
                          capture_path(target, os.environ.get("PYTEST_XDIST_WORKER")))


def pytest_unconfigure(config: pytest.Config) -> None:
    found = config.stash.get(_KEY, None)
    if found is None:
        return
    recorder, path = found
    recorder.detach()
    recorder.write(path)
    del config.stash[_KEY]


def pytest_report_header(config: pytest.Config) -> str | None:
    found = config.stash.get(_KEY, None)
    return None if found is None else f"indexadvisor: recording SQL to {found[1]}"
