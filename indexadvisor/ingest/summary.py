"""A workload summary that merges exactly: the groups `collect` builds, from any split of input.

Every source (a log, a piece of a log read by another process, a `.sql` file, an earlier
summary written as JSON) adds to a `Summary`, and two summaries merge (`Summary.merge`) into
what reading both inputs at once gives, to the last sample. That holds because nothing kept
depends on the order records arrive in:

* sums are exact: time is counted in integer nanoseconds (a log's durations are whole
  microseconds, `duration: 0.123 ms`), calls and rows are integers; max, first and last seen
  are max and min;
* samples are the first `max_samples` distinct (text, bind values) of the group *by position*
  (file number, then line), each with its own occurrence's plan; the group's first sample
  (its earliest record) gives its text and its place in the workload;
* skip examples are the first `MAX_SKIPPED_EXAMPLES` of each category by position (a log's
  unparseable or utility statements: one per statement shape);
* query ids: the 16 smallest seen.

A position is one integer, `file << 40 | line` (`position`), so comparing two is one
comparison, and a piece of a log read with lines counted from its own start is moved to its
place by adding the lines before it (`shift`).

>>> s = Summary()
>>> s.add_statement(Statement("SELECT * FROM t WHERE a = 1", "x.sql:1", calls=2), 1)
>>> s.add_statement(Statement("SELECT * FROM t WHERE a = 2", "x.sql:2", calls=3), 2)
>>> q, = s.workload().queries
>>> q.calls, [x.text[-1] for x in q.samples]
(5, ['1', '2'])
"""

from __future__ import annotations

import hashlib
from bisect import insort
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..model import Outcome, Query, Sample, Skipped, Statement, Workload
from ..sql.parse import StatementError, parse_statement

MAX_SAMPLES = 3
MAX_SKIPPED_EXAMPLES = 50  # per reason category; the counts are exact
MAX_QUERYIDS = 16
LINE_BITS = 40
LINE_MASK = (1 << LINE_BITS) - 1
MAX_MEMO = 100_000  # parsed statements remembered (cleared beyond that)

# (position, text, bind values, plan, source or None: the file's name and the line)
Kept = tuple[int, str, tuple[str | None, ...], str | None, str | None]


def position(file: int, line: int) -> int:
    """The sortable position of a line of a file.

    >>> position(2, 7) > position(1, 10**9) > position(1, 3)
    True
    """
    return (file << LINE_BITS) | line


def line_of(pos: int) -> int:
    """The line of a position.

    >>> line_of(position(3, 42))
    42
    """
    return pos & LINE_MASK


def keep_sample(samples: list[Kept], new: Kept, limit: int) -> None:
    """Keep in `samples` (sorted by position) the first `limit` distinct (text, params).

    Any order of arrival gives the same list: a value keeps its earliest position, and once
    `limit` values are held, anything later than the last of them cannot enter.

    >>> kept: list[Kept] = []
    >>> for pos, text in [(5, "b"), (9, "c"), (2, "b"), (7, "a"), (1, "d")]:
    ...     keep_sample(kept, (pos, text, (), None, None), 2)
    >>> [(k[0], k[1]) for k in kept]
    [(1, 'd'), (2, 'b')]
    """
    pos = new[0]
    if len(samples) >= limit and pos >= samples[-1][0]:
        return
    text, params = new[1], new[2]
    for i, old in enumerate(samples):
        if old[1] == text and old[2] == params:
            if pos < old[0]:
                del samples[i]
                insort(samples, new, key=_pos)
            return
    insort(samples, new, key=_pos)
    del samples[limit:]


def _pos(kept: Kept) -> int:
    return kept[0]


def small_ids(ids: set[int], more: Iterable[int]) -> set[int]:
    """The `MAX_QUERYIDS` smallest of both (the same whatever the order of arrival)."""
    ids.update(more)
    if len(ids) > MAX_QUERYIDS:
        ids = set(sorted(ids)[:MAX_QUERYIDS])
    return ids


def query_fingerprint(fingerprint: str, relations: tuple[str, ...]) -> str:
    """The grouping key as one string: libpg_query's fingerprint, then the relation set's hash.

    >>> a = query_fingerprint("d73a1cd084f9bd7e", ("orders",))
    >>> b = query_fingerprint("d73a1cd084f9bd7e", ("invoices",))
    >>> a.split("-")[0] == b.split("-")[0], a == b
    (True, False)
    """
    digest = hashlib.sha1("\x00".join(relations).encode()).hexdigest()[:8]
    return f"{fingerprint}-{digest}"


@dataclass
class Group:
    """One group's accumulator: statements with the same fingerprint and relation set."""

    relations: tuple[str, ...]
    kind: str
    calls: int = 0
    timed: bool = False
    total_ns: int = 0
    max_ms: float | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    rows: int | None = None
    queryids: set[int] = field(default_factory=set)
    samples: list[Kept] = field(default_factory=list)
    plan: Kept | None = None  # the earliest record logged with a plan

    def add(self, calls: int, total_ns: int | None, max_ms: float | None, first: str | None,
            last: str | None, rows: int | None, queryids: Iterable[int],
            samples: Iterable[Kept], plan: Kept | None, limit: int) -> None:
        """Count one contribution (a statement, a shape's records, another summary's group)."""
        self.calls += calls
        if total_ns is not None:
            self.timed = True
            self.total_ns += total_ns
        if max_ms is not None and (self.max_ms is None or max_ms > self.max_ms):
            self.max_ms = max_ms
        if first is not None and (self.first_seen is None or first < self.first_seen):
            self.first_seen = first
        if last is not None and (self.last_seen is None or last > self.last_seen):
            self.last_seen = last
        if rows is not None:
            self.rows = (self.rows or 0) + rows
        self.queryids = small_ids(self.queryids, queryids)
        for sample in samples:
            keep_sample(self.samples, sample, limit)
        if plan is not None and (self.plan is None or plan[0] < self.plan[0]):
            self.plan = plan


class Skips:
    """Skips counted by category, with the first examples of each by position."""

    def __init__(self, max_examples: int = MAX_SKIPPED_EXAMPLES) -> None:
        self.max_examples = max_examples
        self.counts: Counter[str] = Counter()
        # category -> [(position, distinct key, Skipped)] sorted by position
        self.examples: dict[str, list[tuple[int, Any, Skipped]]] = {}

    def add(self, item: Skipped, pos: int, records: int = 1, key: Any = None) -> None:
        """Count `records` skips of `item`'s category; `key` makes examples distinct (a
        statement shape: one example per shape), else each position is its own example."""
        category = item.category
        self.counts[category] += records
        kept = self.examples.setdefault(category, [])
        if len(kept) >= self.max_examples and pos >= kept[-1][0]:
            return
        if key is not None:  # else the position is the example's own
            for i, (old, old_key, _) in enumerate(kept):
                if old_key == key:
                    if pos < old:
                        del kept[i]
                        insort(kept, (pos, key, item), key=_first)
                    return
        insort(kept, (pos, key, item), key=_first)
        del kept[self.max_examples:]

    def merge(self, other: Skips, shift: int = 0) -> None:
        """Add another's counts and examples (positions moved by `shift`)."""
        self.counts.update(other.counts)
        for examples in other.examples.values():
            for pos, key, item in examples:
                self.add(item, pos + shift, 0, key)

    def ordered(self) -> list[Skipped]:
        """Every example, by position (then category)."""
        rows = [(pos, cat, item) for cat, kept in self.examples.items() for pos, _, item in kept]
        return [item for _, _, item in sorted(rows, key=lambda r: (r[0], r[1]))]


def _first(row: tuple[int, Any, Skipped]) -> int:
    return row[0]


@dataclass(frozen=True)
class _Parsed:
    key: str
    relations: tuple[str, ...]
    kind: str


_MEMO: dict[tuple[str, str], _Parsed | StatementError] = {}


class Summary:
    """Groups, skips and counts of everything read so far (see the module docstring)."""

    def __init__(self, max_samples: int = MAX_SAMPLES,
                 max_examples: int = MAX_SKIPPED_EXAMPLES) -> None:
        self.max_samples = max(1, max_samples)
        self.groups: dict[str, Group] = {}
        self.skips = Skips(max_examples)
        self.statements = 0
        self.files: list[str] = []  # file number -> name, for sources kept without one
        self.notes: list[str] = []  # what a reader should know (a summary that was filtered)

    def file(self, name: str) -> int:
        """The number of a new file (positions of its lines start with it)."""
        self.files.append(name)
        return len(self.files) - 1

    def parse(self, text: str, key: str | None = None) -> _Parsed | StatementError:
        """The group of a statement, or why it has none (remembered by `key`, a statement
        shape, or by the text, for this process: the answer is a function of either)."""
        memo = ("shape", key) if key is not None else ("text", text)
        found = _MEMO.get(memo)
        if found is None:
            try:
                parsed = parse_statement(text)
                found = _Parsed(query_fingerprint(parsed.fingerprint, parsed.relations),
                                parsed.relations, parsed.kind)
            except StatementError as exc:
                found = exc
            if len(_MEMO) >= MAX_MEMO:
                _MEMO.clear()
            _MEMO[memo] = found
        return found

    def add_skip(self, item: Skipped, pos: int, records: int = 1, key: Any = None) -> None:
        self.skips.add(item, pos, records, key)

    def add_statement(self, item: Statement, pos: int) -> None:
        """One statement as a source delivered it (it may stand for many calls)."""
        total = None if item.total_time_ms is None else round(item.total_time_ms * 1e6)
        top = item.max_time_ms
        if top is None and item.total_time_ms is not None and item.calls == 1:
            top = item.total_time_ms
        sample = (pos, item.text, item.params, item.plan, item.source)
        self.add_records(item.text, None, item.records, item.calls, total, top,
                         item.first_seen, item.last_seen, item.rows,
                         () if item.queryid is None else (item.queryid,), [sample],
                         sample if item.plan is not None else None)

    def add_records(self, text: str, key: str | None, records: int, calls: int,
                    total_ns: int | None, max_ms: float | None, first: str | None,
                    last: str | None, rows: int | None, queryids: Iterable[int],
                    samples: list[Kept], plan: Kept | None) -> None:
        """`records` source records of one statement shape (`key`: their literal-free shape,
        None for one statement): parsed once, grouped, or counted as skipped."""
        self.statements += records
        parsed = self.parse(text, key)
        if isinstance(parsed, _Parsed) and parsed.kind != "utility":
            group = self.groups.get(parsed.key)
            if group is None:
                group = self.groups[parsed.key] = Group(parsed.relations, parsed.kind)
            group.add(calls, total_ns, max_ms, first, last, rows, queryids, samples, plan,
                      self.max_samples)
            return
        if not records:  # an extra sample of a shape already counted
            return
        pos, first_text, _, _, source = samples[0]
        where = source or self.source(pos)
        if isinstance(parsed, StatementError):
            own = self.parse(first_text) if key is not None else parsed
            error = own if isinstance(own, StatementError) else parsed  # (its own literals)
            skip = Skipped(where, "unparseable", first_text, detail=error.message)
        else:
            skip = Skipped(where, "utility statement", first_text, Outcome.NOT_ADVISED,
                           "nothing to index")
        self.skips.add(skip, pos, records, None if key is None else ("shape", key))

    def source(self, pos: int) -> str:
        """`file:line` of a position."""
        return f"{self.files[pos >> LINE_BITS]}:{line_of(pos)}"

    def merge(self, other: Summary, shift: int = 0) -> None:
        """Add everything of `other`, its positions moved by `shift` (to its file number and
        the lines before it: its file table is the caller's business)."""
        self.statements += other.statements
        self.notes.extend(other.notes)
        self.skips.merge(other.skips, shift)
        limit = self.max_samples
        for key, theirs in other.groups.items():
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = Group(theirs.relations, theirs.kind)
            moved = [(s[0] + shift, *s[1:]) for s in theirs.samples] if shift \
                else theirs.samples
            plan = theirs.plan
            if plan is not None and shift:
                plan = (plan[0] + shift, *plan[1:])
            group.add(theirs.calls, theirs.total_ns if theirs.timed else None, theirs.max_ms,
                      theirs.first_seen, theirs.last_seen, theirs.rows, theirs.queryids,
                      moved, plan, limit)

    def workload(self, *, min_calls: int = 0, min_time_ms: float = 0.0,
                 top: int | None = None) -> Workload:
        """The groups as queries, in the order of their first record; then `min_calls`,
        `min_time_ms` (total time) and `top` (the N with the most total time, then calls)."""
        ordered = sorted(self.groups.items(), key=lambda kv: kv[1].samples[0][0])
        kept = [(key, g) for key, g in ordered
                if g.calls >= min_calls and g.total_ns / 1e6 >= min_time_ms]
        if top is not None:
            rank = {key: i for i, (key, _) in enumerate(kept)}
            best = sorted(kept, key=lambda kv: (-kv[1].total_ns, -kv[1].calls, rank[kv[0]]))
            chosen = {key for key, _ in best[:top]}
            kept = [(key, g) for key, g in kept if key in chosen]
        return Workload(queries=tuple(self.query(key, g) for key, g in kept),
                        statements=self.statements, skipped=tuple(self.skips.ordered()),
                        skipped_counts=tuple(sorted(self.skips.counts.items())))

    def query(self, key: str, group: Group) -> Query:
        """One group as a `Query`: its first sample gives the text; when that sample has no
        plan of its own, the earliest plan logged for the same text is shown with it."""
        samples = [Sample(text, source or self.source(pos), params, plan)
                   for pos, text, params, plan, source in group.samples]
        if samples[0].plan is None and group.plan is not None \
                and group.plan[1] == samples[0].text:
            samples[0] = replace(samples[0], plan=group.plan[3])
        return Query(
            fingerprint=key, text=samples[0].text, relations=group.relations,
            calls=group.calls, total_time_ms=group.total_ns / 1e6 if group.timed else None,
            samples=tuple(samples), is_select=group.kind == "select",
            max_time_ms=group.max_ms, first_seen=group.first_seen, last_seen=group.last_seen,
            queryids=tuple(sorted(group.queryids)), rows=group.rows)
