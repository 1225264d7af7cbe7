"""The validation part of the HTML report: what was built, what ran, what was withdrawn."""

from __future__ import annotations

from html import escape

from ..model import Advice, Measurement, QueryCheck, format_size, short


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _ms(m: Measurement) -> str:
    if m.timed_out:
        return "timeout"
    best = m.best_ms
    if best is None:
        return "—"
    return f"{best:,.0f}" if best >= 100 else f"{best:,.2f}"


def measured_cell(check: QueryCheck | None) -> tuple[str, str]:
    """The queries list's "measured" cell (HTML) and its sort value (the speed-up)."""
    if check is None:
        return "—", ""
    speed = check.speedup
    cls = "badtxt" if check.regressed else "good" if speed and speed > 1 else ""
    text = f"{_ms(check.before)} → {_ms(check.after)}"
    return f'<span class="{cls}">{_e(text)}</span>', "" if speed is None else f"{speed:.4f}"


def _buffers(m: Measurement) -> str:
    if m.shared_hit is None and m.shared_read is None:
        return "—"
    return f"{(m.shared_hit or 0) + (m.shared_read or 0):,} ({m.shared_read or 0:,} read)"


def validation_section(advice: Advice) -> str:
    """Settings, the rounds with their builds and withdrawals, and every measured statement."""
    v = advice.validation
    assert v is not None
    s = v.settings
    texts = {r.query.fingerprint: r.query.text for r in advice.results}
    intro = (f"Built for real in {_e(s.where)}, in one transaction per round that is never "
             f"committed. Each statement whose real plan reads a new index ran {s.warmup} "
             f"warm-up and {s.runs} measured times under EXPLAIN (ANALYZE, BUFFERS) without and "
             f"with the indexes, interleaved, {s.statement_timeout_ms / 1000:g} s limit per "
             f"run; the best runs are compared. Slower means more than {100 * s.tolerance:g}% and "
             f"{s.min_ms:g} ms slower; such an index is withdrawn and the selection tries "
             f"again ({len(v.rounds)} rounds, {v.elapsed_s:.1f} s).")
    parts = [f'<section id="validation"><h2>Validation by real execution</h2><p>{intro}</p>']
    if v.withdrawn:
        items = "".join(f"<li>round {w.round}: <span class=\"mono\">{_e(w.candidate.label)}"
                        f"</span>: {_e(w.reason)}</li>" for w in v.withdrawn)
        parts.append(f"<h3>Withdrawn</h3><ul>{items}</ul>")
    final = v.final
    if final is not None and final.built:
        rows = "".join(
            f"<tr><td class=\"mono\">{_e(b.candidate.label)}</td><td class=\"num\">"
            f"{_e(format_size(b.estimated_bytes))}</td><td class=\"num\">"
            f"{_e(format_size(b.real_bytes))}</td><td class=\"num\">{b.build_s:.2f}</td>"
            f"<td class=\"num\">{len(b.used_by)}</td></tr>" for b in final.built)
        parts.append("<h3>Indexes built (last round)</h3><table class=\"t\"><tr><th>index</th>"
                     "<th class=\"num\">estimated</th><th class=\"num\">real size</th>"
                     "<th class=\"num\">build s</th><th class=\"num\">statements reading it"
                     f"</th></tr>{rows}</table>")
    checks = [c for r in v.rounds for c in r.checks if c.regressed]
    if final is not None:
        checks += [c for c in final.checks if not c.regressed]
    if checks:
        rows = "".join(_check_row(c, texts.get(c.fingerprint, c.fingerprint)) for c in checks)
        parts.append(
            "<h3>Statements measured</h3><table class=\"t\"><tr><th>statement</th>"
            "<th class=\"num\">estimated cost</th><th class=\"num\">measured best ms</th>"
            "<th class=\"num\">buffers before → after</th><th>new indexes read</th>"
            f"<th>flags</th></tr>{rows}</table>")
        done = [c for c in (final.checks if final else ()) if c.speedup is not None]
        if done:
            before = sum(c.before.best_ms or 0.0 for c in done)
            after = sum(c.after.best_ms or 0.0 for c in done)
            parts.append(f"<p>The {len(done)} statements of the last round that finished both "
                         f"times: <b>{before:,.1f} ms → {after:,.1f} ms</b> (best runs, one "
                         f"call each).</p>")
    parts.append("</section>")
    return "".join(parts)


def _check_row(c: QueryCheck, text: str) -> str:
    ratio = c.estimated_ratio
    est = ("—" if c.estimated_before is None else
           f"{c.estimated_before:,.0f} → {c.estimated_after or 0:,.0f}"
           + ("" if ratio is None else f" (x{ratio:.2f})"))
    speed = c.speedup
    measured = f"{_ms(c.before)} → {_ms(c.after)}" + (
        "" if speed is None else f" ({speed:.1f}x faster)" if speed >= 1
        else f" ({1 / speed:.1f}x slower)")
    cls = ' class="badtxt"' if c.regressed else ""
    flags = ", ".join(c.flags) + (f" — {c.note}" if c.note else "")
    return (f"<tr{cls}><td class=\"mono\">{_e(short(text, 90))}</td><td class=\"num\">{_e(est)}"
            f"</td><td class=\"num\">{_e(measured)}</td><td class=\"num\">"
            f"{_e(_buffers(c.before))} → {_e(_buffers(c.after))}</td><td class=\"mono\">"
            f"{_e(', '.join(c.used))}</td><td>{_e(flags)}</td></tr>")
