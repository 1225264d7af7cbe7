"""Running the advisor for a command: plain, or validated by real execution (in the sandbox,
or on the database named with --validate-dsn, after telling the user plainly what happens
there)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..model import Advice, AdvisorConfig, ValidationSettings, Workload
from ..model.errors import ConfigError
from .console import err

if TYPE_CHECKING:
    import psycopg

    from ..db.target import Target


def validation_settings(runs: int, tolerance_pct: float, timeout_ms: int,
                        validate_dsn: str | None) -> ValidationSettings:
    """The settings --runs, --tolerance and --validate-timeout give."""
    where = "the sandbox"
    if validate_dsn:
        from ..db.connect import redact_dsn

        where = redact_dsn(validate_dsn)
    return ValidationSettings(runs=runs, tolerance=tolerance_pct / 100,
                              statement_timeout_ms=timeout_ms, where=where)


def run_advisor(workload: Workload, db: Target, config: AdvisorConfig,
                progress: Callable[[str], None] | None,
                settings: ValidationSettings | None, validate_dsn: str | None,
                replicas: Sequence[str] = (), *, started: float | None = None) -> Advice:
    """advise(), or advise and validate when `settings` are given; with `config.jobs` > 1 the
    what-if EXPLAINs are spread over that many sessions (on `replicas` where given).
    `started` (time.perf_counter()): when the time limit began, if before this call."""
    with db.more(config.jobs - 1, replicas) as workers:
        return _run(workload, db, config, progress, settings, validate_dsn, workers, started)


def _run(workload: Workload, db: Target, config: AdvisorConfig,
         progress: Callable[[str], None] | None, settings: ValidationSettings | None,
         validate_dsn: str | None, workers: Sequence[psycopg.Connection],
         started: float | None) -> Advice:
    from ..pipeline.advise import advice_run, advise

    if settings is None:
        return advise(workload, db.conn, config, progress, sandbox=db.sandbox, workers=workers,
                      started=started)
    from ..db.connect import Guards, connect, resolve_dsn
    from ..validate import ValidationTarget, validate

    if validate_dsn:
        dsn = resolve_dsn(validate_dsn)
        assert dsn is not None
        err.print(f"[bold yellow]--validate-dsn:[/bold yellow] indexes will be built in "
                  f"{settings.where} (CREATE INDEX inside a transaction that is never "
                  "committed: they are gone when it ends, also if indexadvisor is killed; "
                  "writes to those tables wait while it is open) and SELECT statements will "
                  "run there under EXPLAIN ANALYZE.", highlight=False)
        sandbox = False
    elif db.sandbox and db.dsn:
        dsn, sandbox = db.dsn, True
    else:
        raise ConfigError("--validate needs a sandbox or --validate-dsn")
    guards = Guards(settings.statement_timeout_ms, lock_timeout_ms=5_000)
    with advice_run(workload, db.conn, config, progress, sandbox=db.sandbox,
                    workers=workers, started=started) as run, \
            connect(dsn, read_only=False, guards=guards,
                    application_name="indexadvisor-validate") as writable:
        return validate(run, ValidationTarget(writable, sandbox=sandbox), settings, progress)
