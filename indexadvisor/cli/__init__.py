"""Command line: `indexadvisor advise`, `ingest`, `demo`, `report`, `check`, `stats`, one
module each. Catches AdvisorError only: a user mistake is a message and an exit code, never a
traceback.

Exit codes: 0 done, 1 `check` found a regression, 2 a user-facing error (bad option,
unreachable database, a migration that fails, ...), 3 `--strict` and some input could not be
read, 130 Ctrl-C.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..model.errors import AdvisorError
from . import advise, check, demo, ingest, report  # noqa: F401  (each registers its command)
from .app import cli
from .console import err

__all__ = ["cli", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="indexadvisor",
                 standalone_mode=False)
    except AdvisorError as exc:
        err.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False)
        if exc.hint:
            err.print(f"[dim]hint: {exc.hint}[/dim]", highlight=False)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err.print("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
