"""The DDL as a runnable .sql file, beside the other reports: every recommended index in the
order of the advice, then the advised drops (after the indexes that may replace them), GIN
proposals HypoPG could not cost commented out. Run it with
``psql -v ON_ERROR_STOP=1 -f FILE`` (CREATE INDEX CONCURRENTLY cannot run inside a
transaction block, so not with ``--single-transaction``).
"""

from __future__ import annotations

from ..model import Advice, Verdict, format_size


def _comment(text: str) -> str:
    """One SQL line comment per line of `text` (a label cannot end the comment early).

    >>> _comment("a\\nb")
    '-- a\\n-- b'
    """
    return "\n".join("-- " + line for line in str(text).splitlines() or [""])


def render_ddl(advice: Advice) -> str:
    """The .sql file's text."""
    budget = format_size(advice.config.budget_bytes) if advice.config.budget_bytes else "none"
    out = [_comment(f"indexadvisor {advice.tool_version}: {len(advice.recommendations)} new "
                    f"indexes ({format_size(advice.index_bytes)}), workload cost "
                    f"-{advice.improvement_pct:.1f}% (planner estimate), budget {budget}"),
           _comment(f"made for PostgreSQL {advice.server_version}"),
           "-- run: psql -v ON_ERROR_STOP=1 -f this-file.sql  (not in one transaction: "
           "CONCURRENTLY)",
           "-- a CREATE INDEX CONCURRENTLY that fails leaves an INVALID index: drop it, then "
           "run that statement again"]
    if advice.validation is not None:
        v = advice.validation
        out.append(_comment(f"validated by real execution in {v.settings.where}: "
                            f"{'passed' if v.passed else 'regressions left'}, "
                            f"{len(v.withdrawn)} withdrawn"))
    for n, rec in enumerate(advice.recommendations, 1):
        out += ["", _comment(f"{n}. {rec.candidate.label}: {format_size(rec.size_bytes)}, "
                             f"saves {rec.benefit:,.0f}, {len(rec.queries)} queries"), rec.ddl]
    drops = [d for d in advice.drops if d.verdict is Verdict.DROP]
    if drops:
        out += ["", "-- existing indexes to drop (after the indexes above are built)"]
        for d in drops:
            out += [_comment(f"{d.candidate.index}: {d.candidate.reason.value}, frees "
                             f"{format_size(d.candidate.size_bytes)}"), d.candidate.ddl]
    if advice.not_costed:
        out += ["", "-- proposed but not costed (HypoPG cannot simulate GIN): uncomment to use"]
        for proposal in advice.not_costed:
            out += [_comment(proposal.label), _comment(proposal.ddl)]
    return "\n".join(out) + "\n"
