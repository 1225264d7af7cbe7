"""IA201 unused-index: the migration creates an index that no watched statement's plan uses.

Every index costs storage and slows every write to its table; one the workload does not read
(with the plans HypoPG gives it) is likely a mistake, or serves statements the gate does not
watch: then add them to the workload.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...model.gate import Finding, Severity
from .context import Context, finding, make_rule

RULE = make_rule(__doc__, Severity.WARNING)


def check(ctx: Context) -> Iterator[Finding]:
    for index in ctx.created:
        if index.used_by:
            continue
        how = "" if index.simulated else " (built for real: HypoPG cannot simulate it)"
        yield finding(RULE, f"{index.location}: new index {index.name} on {index.table}{how} "
                      "is not used by any watched statement's plan", location=index.location,
                      subject=index.name)
