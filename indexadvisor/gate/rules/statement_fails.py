"""IA107 statement-fails: a watched statement no longer plans after the migration.

EXPLAIN fails with the server's message: a column or table the statement reads was dropped or
renamed, a type changed under an operator. The application would fail the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.ERROR)


def check(ctx: Context) -> Iterator[Finding]:
    for pair in ctx.pairs:
        if pair.after_error is None or pair.before_error is not None:
            continue
        yield finding(RULE, f"{pair.label}: EXPLAIN fails after the migration: "
                      f"{pair.after_error}", pair=pair)
