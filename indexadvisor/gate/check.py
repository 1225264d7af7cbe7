"""`indexadvisor check` as a sequence of stages on one connection:

    catalog -> plans before (or the baseline) -> migration (simulated) -> plans after
            -> new indexes priced -> rules -> fixes for regressions -> accepted regressions

On a staging database everything from the migration on happens inside one transaction that
is always rolled back; in a sandbox the migration runs for real (it is ours), index DDL
through HypoPG either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import date

from .._version import __version__
from ..analyze import SchemaMap
from ..catalog import Catalog
from ..catalog.read import read_catalog
from ..explain.hypo import HypoSession
from ..model import TableName, Workload
from ..model.baseline import Baseline, BaselineEntry
from ..model.gate import CheckConfig, CheckReport, Finding, StatementCheck
from ..pipeline.analysis import analyze_query
from ..selection.writes import WriteLoad
from .apply import MigrationRunner
from .fixes import find_fix
from .migration import MigrationStatement, index_columns
from .plans import Planned, plan_all, price_new_indexes
from .rules import REGRESSIONS, Context, Pair, rule_infos, run_rules
from .stats_export import PLANNER_SETTINGS
from .target import GateTarget
from .watch import Watched, watched_statements

WRITES = frozenset({"insert", "update", "delete", "merge"})


@dataclass(frozen=True)
class CheckRequest:
    """What to check: the workload, the migrations, the baseline to compare with."""

    workload: Workload
    migrations: tuple[MigrationStatement, ...] = ()
    baseline: Baseline | None = None
    baseline_path: str | None = None
    config: CheckConfig = field(default_factory=CheckConfig)
    today: date | None = None  # for expiring accepted regressions (default: today)


@dataclass(frozen=True)
class CheckOutcome:
    """The report, and the baseline the plans after the migration make."""

    report: CheckReport
    baseline: Baseline


class _Clock:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = self.phases.get(name, 0.0) + time.perf_counter() - started


def _settings(target: GateTarget) -> tuple[tuple[str, str], ...]:
    with target.conn.transaction():
        rows = target.conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)"
            " ORDER BY 1", (list(PLANNER_SETTINGS),)).fetchall()
    return tuple((str(n), str(v)) for n, v in rows)


def _memory(target: GateTarget) -> tuple[int, float]:
    """work_mem in bytes and hash_mem_multiplier, as the session has them."""
    with target.conn.transaction():
        row = target.conn.execute(
            "SELECT pg_size_bytes(current_setting('work_mem')),"
            " coalesce((SELECT setting::float8 FROM pg_settings"
            "           WHERE name = 'hash_mem_multiplier'), 1.0)").fetchone()
    assert row is not None
    return int(row[0]), float(row[1])


def _table_names(catalog: Catalog) -> frozenset[str]:
    names = set()
    for name in catalog.tables:
        names.add(name.name)
        names.add(f"{name.schema}.{name.name}")
        names.add(str(name))
    return frozenset(names)


def _write_loads(watched: Sequence[Watched], after: Mapping[str, Planned],
                 catalog: Catalog) -> list[WriteLoad]:
    schema = SchemaMap(tables=catalog.schema_columns, search_path=catalog.search_path)
    loads = []
    for w in watched:
        planned = after.get(w.key)
        if w.kind not in WRITES or planned is None or planned.shape is None:
            continue
        _, item = analyze_query(w.query, schema)
        if item is None:
            continue
        for table in sorted({c.table for c in item.analysis.written_columns} or
                            set(item.analysis.tables[:1])):
            cols = frozenset(c.column for c in item.analysis.written_columns if c.table == table)
            loads.append(WriteLoad(table, w.kind, planned.rows_written, w.calls, cols))
    return loads


def _resolve(table: str | None, catalog: Catalog) -> TableName | None:
    if not table:
        return None
    bare = table.split(".")[-1].strip('"')
    for name in catalog.tables:
        if name.name == bare and (("." not in table) or table.startswith(name.schema)):
            return name
    return None


def _pairs(watched: Sequence[Watched], before: Mapping[str, Planned],
           after: Mapping[str, Planned]) -> list[Pair]:
    out = []
    for w in watched:
        b, a = before.get(w.key), after.get(w.key)
        out.append(Pair(w.key, w.location, w.text, w.calls,
                        b.shape if b else None, a.shape if a else None,
                        b.error if b else None, a.error if a else None))
    return out


def _accept(findings: Sequence[Finding], baseline: Baseline | None,
            today: date) -> tuple[list[Finding], list[str]]:
    """Findings with the baseline's accepted regressions applied; notes on expired ones."""
    if baseline is None or not baseline.accepted:
        return list(findings), []
    out, notes = [], set()
    for f in findings:
        match = next((a for a in baseline.accepted if a.matches(f)), None)
        if match is not None and match.expired(today):
            notes.add(f"accepted regression expired on {match.expires}: "
                      f"{match.statement or '*'} {match.rule or '*'} ({match.reason})")
            out.append(f)
        elif match is not None:
            out.append(replace(f, accepted=match))
        else:
            out.append(f)
    return out, sorted(notes)


def run_check(target: GateTarget, request: CheckRequest,
              say: Callable[[str], None] | None = None,
              timings: Sequence[tuple[str, float]] = ()) -> CheckOutcome:
    """Check the migrations against the workload on `target` (see the module docstring)."""
    tell = say or (lambda _m: None)
    clock = _Clock()
    config = request.config
    conn = target.conn
    watched = watched_statements(request.workload.queries, config.variants)
    catalog = read_catalog(conn)
    settings = _settings(target)
    work_mem, multiplier = _memory(target)
    notes = list(target.notes)
    with HypoSession(conn, catalog) as session:
        if request.baseline is None:
            tell(f"planning {len(watched)} statements before the migration")
            with clock.phase("explain"):
                before = plan_all(session, watched)
        else:
            before = {e.key: Planned(e.plan, e.error) for e in request.baseline.entries}
        block = conn.transaction(force_rollback=True) if target.staging else nullcontext()
        with block:
            tell(f"applying {len(request.migrations)} migration statements")
            runner = MigrationRunner(session, catalog, staging=target.staging,
                                     keep_statistics=target.stats is not None, say=tell)
            with clock.phase("migration"):
                applied = runner.run(request.migrations)
                if not target.staging and target.stats is not None and applied.executed:
                    target.reapply_stats()
                after_catalog = read_catalog(conn)
            tell(f"planning {len(watched)} statements after the migration")
            with clock.phase("explain"):
                after = plan_all(session, watched)
            columns = {}
            for c in applied.created:
                name = _resolve(c.table, after_catalog)
                if name is not None:
                    columns[c.name] = (name, index_columns(c.statement))
            rows = {name: t.rows for name, t in after_catalog.tables.items()}
            with clock.phase("new indexes"):
                created = price_new_indexes(session, applied.created, watched, after,
                                            _write_loads(watched, after, after_catalog), rows,
                                            columns)
            ctx = Context(
                pairs=tuple(_pairs(watched, before, after)),
                migration=request.migrations, created=tuple(created),
                dropped=tuple(applied.dropped),
                table_rows={n.name: t.rows for n, t in after_catalog.tables.items()},
                existing_tables=_table_names(catalog), work_mem=work_mem,
                hash_mem_multiplier=multiplier, config=config)
            findings = run_rules(ctx)
            with clock.phase("fixes"):
                findings = _with_fixes(findings, session, watched, ctx, after_catalog)
            runner.unhide()
    findings, expired = _accept(findings, request.baseline,
                                request.today or date.today())
    notes += expired
    notes += _baseline_notes(request.baseline, catalog, settings, watched)
    statements = tuple(
        StatementCheck(w.key, w.text, w.location, w.calls, w.params,
                       p.before, p.after, p.after_error,
                       "" if request.baseline is None or request.baseline.entry(w.key)
                       else "not in the baseline")
        for w, p in zip(watched, ctx.pairs, strict=True))
    report = CheckReport(
        tool_version=__version__, server_version=catalog.server_version,
        mode="staging" if target.staging else "sandbox", statements=statements,
        findings=tuple(sorted(findings, key=lambda f: f.sort_key())), rules=rule_infos(),
        steps=tuple(applied.steps),
        timings=(*timings, *sorted(clock.phases.items(), key=lambda kv: _ORDER.get(kv[0], 9))),
        notes=tuple(notes), baseline=request.baseline_path, fail_on=config.fail_on,
        hypopg_version=catalog.hypopg_version or "")
    new_baseline = Baseline(
        catalog.server_version, catalog.server_version_num, settings,
        tuple(BaselineEntry(w.key, str(w.location), w.text, w.calls, after[w.key].shape,
                            w.params, after[w.key].error) for w in watched),
        request.baseline.accepted if request.baseline else ())
    return CheckOutcome(report, new_baseline)


_ORDER = {"sandbox": 0, "migration": 1, "explain": 2, "new indexes": 3, "fixes": 4}


def _with_fixes(findings: Sequence[Finding], session: HypoSession, watched: Sequence[Watched],
                ctx: Context, catalog: Catalog) -> list[Finding]:
    """Each regression with the index that brings its statement's cost back."""
    by_key = {w.key: w for w in watched}
    pairs = {p.key: p for p in ctx.pairs}
    fixes: dict[str, object] = {}
    out = []
    for f in findings:
        if f.rule not in REGRESSIONS or f.key is None or f.key not in by_key:
            out.append(f)
            continue
        pair = pairs[f.key]
        if f.key not in fixes:
            fixes[f.key] = None if pair.before is None else find_fix(
                session, by_key[f.key], pair.before.cost, ctx.thresholds(pair).cost_increase,
                catalog, ctx.dropped)
        fix = fixes[f.key]
        if fix is not None:
            f = replace(f, fix=fix.ddl, fix_cost=fix.cost)  # type: ignore[attr-defined]
        out.append(f)
    return out


def _baseline_notes(baseline: Baseline | None, catalog: Catalog,
                    settings: Sequence[tuple[str, str]], watched: Sequence[Watched]) -> list[str]:
    if baseline is None:
        return []
    notes = []
    if baseline.server_version_num // 10000 != catalog.server_version_num // 10000:
        notes.append(f"the baseline was taken on PostgreSQL {baseline.server_version}, this "
                     f"check runs on {catalog.server_version}: costs may differ for that alone")
    mine = dict(settings)
    changed = sorted(k for k, v in baseline.settings if k in mine and mine[k] != v)
    if changed:
        notes.append("planner settings differ from the baseline's: " + ", ".join(
            f"{k} {dict(baseline.settings)[k]} -> {mine[k]}" for k in changed))
    keys = {w.key for w in watched}
    gone = sorted(e.key for e in baseline.entries if e.key not in keys)
    if gone:
        notes.append(f"{len(gone)} baseline statement(s) are no longer in the workload: "
                     + ", ".join(gone[:5]) + (" ..." if len(gone) > 5 else ""))
    return notes
