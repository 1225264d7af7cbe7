"""Pre-aggregation of log statements by a cheap literal-normalized key ("shape").

Logs written under `log_min_duration_statement = 0` hold millions of statements that differ
only in their literals (pgbench's simple protocol puts new numbers in every one). Parsing each
with libpg_query would dominate the run, so statements are first grouped by a *shape key*: the
text with string and number literals replaced by `?`. Each shape then reaches `collect` (and
pglast) once, as one `Statement` that carries the summed calls and times, plus up to
`max_samples - 1` further real samples as `Statement`s with `calls=0`.

Even one regex substitution per statement costs too much at the speed we want (Python's regex
engine needs ~20 ns per character), so the key is found in two steps. First the *mask*: the
text with every digit turned into `0`, one `str.translate` over a whole chunk (~2 ns per
character). Texts with the same mask differ only in digits and have the same token structure,
so the mask's first text is tokenized once (`shape_key`) and its key serves them all, unless
that key still holds digits (in identifiers like `t1`, in comments, in `$n`): then texts of that
mask are keyed one by one (cached by exact text). So the key is never coarser than the
libpg_query fingerprint: same key => same fingerprint and relation set.

>>> shape_keys(["SELECT * FROM t WHERE a = 12 AND b = 'it''s'", 'SELECT "t1".a FROM "t1" -- 3'])
['SELECT * FROM t WHERE a = ? AND b = ?', 'SELECT "t1".a FROM "t1" -- 3']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from itertools import repeat
from math import fsum
from operator import itemgetter
from typing import TYPE_CHECKING

from ...model import Skipped, Statement
from ..summary import LINE_BITS, Kept, keep_sample, line_of, position, small_ids

if TYPE_CHECKING:
    from ..summary import Summary

MAX_SHAPES = 50_000  # distinct shapes held before they are handed on to collect
MAX_CACHED = 100_000  # masks / exact texts remembered (the caches are cleared beyond that)
MAX_CACHED_TEXT = 4096  # longer texts are keyed without the exact-text cache

_PRECISE = re.compile(
    r"""(?P<keep>--[^\n]*|/\*.*?\*/|"[^"]*(?:""[^"]*)*"|\$\d+)"""
    r"|\$(?P<tag>(?:[A-Za-z_]\w*)?)\$.*?\$(?P=tag)\$"
    r"|[Ee]'(?:[^'\\]|\\.|'')*'"
    r"|'[^']*(?:''[^']*)*'"
    r"|(?<![\w$.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?",
    re.S,
)
_DIGIT = re.compile(r"\d")
_PARAM = re.compile(r"\$(\d+) = (?:'([^']*(?:''[^']*)*)'|NULL)")
_MASK = str.maketrans("123456789", "000000000")


def parse_parameters(detail: str) -> tuple[str | None, ...] | None:
    """Bind values from `parameters: $1 = '...', $2 = NULL` (None for NULL), in $n order.

    >>> parse_parameters("parameters: $1 = 'it''s, a\\nb', $2 = NULL, $10 = '7'")
    ("it's, a\\nb", None, None, None, None, None, None, None, None, '7')
    """
    if not detail.startswith("parameters: "):
        return None
    values: dict[int, str | None] = {}
    for m in _PARAM.finditer(detail, 12):
        raw = m.group(2)
        values[int(m.group(1))] = None if raw is None else raw.replace("''", "'")
    if not values:
        return None
    return tuple(values.get(n) for n in range(1, max(values) + 1))


def _precise(match: re.Match[str]) -> str:
    return match.group() if match.group("keep") is not None else "?"


def shape_key(text: str) -> str:
    """The shape key of one statement: literals replaced by `?` (a small SQL tokenizer that
    knows comments, quoted identifiers, dollar quotes and E'' strings)."""
    return _PRECISE.sub(_precise, text)


class ShapeKeys:
    """Shape keys through the mask cache (see the module docstring)."""

    def __init__(self) -> None:
        self._by_mask: dict[str, str | None] = {}  # mask -> key, None: key text by text
        self._by_text: dict[str, str] = {}

    def exact(self, text: str) -> str:
        key = self._by_text.get(text)
        if key is None:
            key = shape_key(text)
            if len(text) <= MAX_CACHED_TEXT:
                if len(self._by_text) >= MAX_CACHED:
                    self._by_text.clear()
                self._by_text[text] = key
        return key

    def keys(self, texts: Sequence[str]) -> list[str]:
        """Keys of single-line texts."""
        masks = "\n".join(texts).translate(_MASK).split("\n")
        by_mask = self._by_mask
        out: list[str | None] = list(map(by_mask.get, masks, repeat("", len(masks))))
        if "" in out or None in out:  # new masks, or masks keyed text by text
            for i, key in enumerate(out):
                if key == "":
                    key = by_mask.get(masks[i], "")  # keyed earlier in this batch?
                if key == "":
                    key = shape_key(texts[i])
                    if _DIGIT.search(key):
                        key = None
                    if len(by_mask) >= MAX_CACHED:
                        by_mask.clear()
                    by_mask[masks[i]] = key
                if key is None:
                    key = self.exact(texts[i])
                out[i] = key
        return out  # type: ignore[return-value]


_KEYS: list[ShapeKeys] = []


def shared_keys() -> ShapeKeys:
    """This process's shape-key caches (pure functions of the text: safe to share)."""
    if not _KEYS:
        _KEYS.append(ShapeKeys())
    return _KEYS[0]


def _groups(keys: list[str]) -> list[list[int]]:
    """Indices of `keys` grouped by key: ascending within a group, groups in the order of
    their first index (one dict look-up per index: cheaper than sorting them by key).

    >>> _groups(["b", "a", "b", "c", "a"])
    [[0, 2], [1, 4], [3]]
    """
    if keys and keys.count(keys[0]) == len(keys):
        return [list(range(len(keys)))]
    index: dict[str, list[int]] = {}
    get = index.get
    for i, key in enumerate(keys):
        rows = get(key)
        if rows is None:
            index[key] = [i]
        else:
            rows.append(i)
    return list(index.values())


def shape_keys(texts: Sequence[str]) -> list[str]:
    """Shape keys of single-line statements (a fresh cache)."""
    return ShapeKeys().keys(texts)


class _Shape:
    """One shape's records so far: counts, exact time, and its first samples by position."""

    __slots__ = ("calls", "db", "first", "last", "max", "plan", "queryids", "samples", "timed",
                 "total", "user")

    def __init__(self, first: str, db: str | None, user: str | None) -> None:
        self.calls = 0
        self.timed = 0
        self.total = 0  # microseconds: a log's durations are whole microseconds
        self.max = 0.0
        self.first = first
        self.last = first
        self.samples: list[Kept] = []  # sorted by position, see summary.keep_sample
        self.queryids: set[int] = set()
        self.plan: Kept | None = None  # the earliest record with a plan
        self.db = db
        self.user = user


class Batch:
    """Fast-path records of one chunk, column by column, handed to `Aggregator.add_bulk`."""

    __slots__ = ("db_end", "dbs", "durations", "lines", "texts", "tss", "user_end", "users")

    def __init__(self) -> None:
        # users and dbs may be as the regex matched them: end them at user_end / db_end
        self.user_end: int | None = None
        self.db_end: int | None = None
        self.texts: list[str] = []
        self.durations: list[str] = []
        self.tss: list[str] = []
        self.users: list[str | None] = []
        self.dbs: list[str | None] = []
        self.lines: list[int] = []

    def flush(self, aggregator: Aggregator, path: str, max_chars: int,
              skip: Callable[[Skipped], None]) -> int:
        """Aggregate the batch (too-long statements are skipped); the number aggregated."""
        texts = self.texts
        if not texts:
            return 0
        columns = (texts, self.durations, self.tss, self.users, self.dbs, self.lines)
        if max(map(len, texts)) > max_chars:
            keep = [i for i, t in enumerate(texts) if len(t) <= max_chars]
            for i in sorted(set(range(len(texts))) - set(keep)):
                skip(Skipped(f"{path}:{self.lines[i]}", "statement too long", texts[i][:200] + "…",
                             detail=f"{len(texts[i]):,} characters (limit {max_chars:,})"))
            columns = tuple([col[i] for i in keep] for col in columns)  # type: ignore[assignment]
        aggregator.add_bulk(*columns, self.user_end, self.db_end)
        return len(columns[0])


class ExecBatch:
    """Fast-path `duration: X ms  execute NAME: ...` records of one chunk, column by column,
    each with the text of its `DETAIL:  parameters: ...` line ("" without one). `release()`
    hands those listed in `order` to the aggregator, in that order."""

    __slots__ = ("db_end", "dbs", "details", "durations", "filtered", "lines", "max_chars",
                 "order", "path", "skip", "texts", "tss", "user_end", "users")

    def __init__(self, path: str, max_chars: int, skip: Callable[[Skipped], None]) -> None:
        self.user_end: int | None = None  # as in Batch
        self.db_end: int | None = None
        self.path = path
        self.max_chars = max_chars
        self.skip = skip
        self.texts: list[str] = []
        self.durations: list[str] = []
        self.tss: list[str] = []
        self.users: list[str | None] = []
        self.dbs: list[str | None] = []
        self.lines: list[int] = []
        self.details: list[str] = []
        self.filtered: set[int] = set()  # rejected by --since/--until/--db/--user
        self.order: list[int] = []

    def release(self, aggregator: Aggregator) -> int:
        """Aggregate the records in `order` (too-long statements are skipped) and empty it;
        the number aggregated."""
        order = self.order[:]
        self.order.clear()  # in place: callers hold on to the list
        texts, max_chars = self.texts, self.max_chars
        if self.filtered:
            order = [i for i in order if i not in self.filtered]
        if order and max(map(len, map(texts.__getitem__, order))) > max_chars:
            for i in order:
                if len(texts[i]) > max_chars:
                    self.skip(Skipped(f"{self.path}:{self.lines[i]}", "statement too long",
                                      texts[i][:200] + "…", detail=f"{len(texts[i]):,} "
                                      f"characters (limit {max_chars:,})"))
            order = [i for i in order if len(texts[i]) <= max_chars]
        if order:
            aggregator.add_executes(self, order)
        return len(order)


class Aggregator:
    """Shapes seen so far. `drain()` hands them on: into `sink` (a `Summary`) when there is
    one, else as `Statement`s (the first of a shape carries its counts, the others are further
    samples with no calls). Lines are numbered per file: `begin(name)` starts a file."""

    def __init__(self, max_samples: int = 3, max_shapes: int = MAX_SHAPES,
                 sink: Summary | None = None) -> None:
        self.max_samples = max(1, max_samples)
        self.max_shapes = max_shapes
        self.shapes: dict[str, _Shape] = {}
        self.keys = shared_keys()
        self.sink = sink
        self.names: list[str] = sink.files if sink is not None else []
        self.base = 0  # the position of line 0 of the file being read

    def begin(self, name: str) -> None:
        """The records that follow are from the file `name` (its own file number)."""
        if self.sink is not None:
            self.base = position(self.sink.file(name), 0)
        else:
            self.names.append(name)
            self.base = position(len(self.names) - 1, 0)

    @property
    def full(self) -> bool:
        return len(self.shapes) >= self.max_shapes

    def add(self, text: str, duration: float | None, ts: str, user: str | None,
            db: str | None, params: tuple[str | None, ...], plan: str | None,
            queryid: int | None, line: int, key: str | None = None) -> None:
        """One statement execution at `line` (the general path)."""
        if key is None:
            key = self.keys.exact(text) if "\n" in text else self.keys.keys([text])[0]
        shape = self.shapes.get(key)
        if shape is None:
            shape = self.shapes[key] = _Shape(ts, db, user)
        shape.calls += 1
        if duration is not None:
            shape.timed += 1
            shape.total += round(duration * 1000)
            if duration > shape.max:
                shape.max = duration
        if ts < shape.first:
            shape.first = ts
        if ts > shape.last:
            shape.last = ts
        if queryid:
            shape.queryids = small_ids(shape.queryids, (queryid,))
        kept = (self.base + line, text, params, plan, None)
        keep_sample(shape.samples, kept, self.max_samples)
        if plan is not None and (shape.plan is None or kept[0] < shape.plan[0]):
            shape.plan = kept

    def add_bulk(self, texts: list[str], durations: list[str], tss: list[str],
                 users: list[str | None], dbs: list[str | None], lines: list[int],
                 user_end: int | None = None, db_end: int | None = None) -> None:
        """Many `duration: X ms  statement: ...` records at once (the fast path), in line
        order. The same result as `add` record by record, computed per shape (see `_fold`).
        Users and databases end at `user_end` / `db_end` (see `Batch`)."""
        keys = self.keys.keys(texts)
        base, limit = self.base, self.max_samples
        for group in _groups(keys):
            shape = self._fold(keys[group[0]], group, durations, tss, dbs, users, user_end,
                               db_end)
            samples = shape.samples
            if len(samples) < limit or base + lines[group[0]] < samples[-1][0]:
                # only the first record of each text can become a sample
                firsts = dict(zip(map(texts.__getitem__, reversed(group)), reversed(group),
                                  strict=True))
                for i in sorted(firsts.values()):
                    pos = base + lines[i]
                    if len(samples) >= limit and pos >= samples[-1][0]:
                        break
                    keep_sample(samples, (pos, texts[i], (), None, None), limit)

    def add_executes(self, batch: ExecBatch, order: list[int]) -> None:
        """`execute` records (single-line texts) of a batch, by index. Bind values are parsed
        only for the records that may become samples."""
        texts = list(map(batch.texts.__getitem__, order))
        known = {text: self.keys.exact(text) for text in set(texts)}
        keys = list(map(known.__getitem__, texts))
        details, lines, base, limit = batch.details, batch.lines, self.base, self.max_samples
        for group in _groups(keys):
            rows = list(map(order.__getitem__, group))  # in release order
            shape = self._fold(keys[group[0]], rows, batch.durations, batch.tss, batch.dbs,
                               batch.users, batch.user_end, batch.db_end)
            samples = shape.samples
            if len(samples) < limit or base + min(map(lines.__getitem__, rows)) \
                    < samples[-1][0]:
                rows.sort(key=lines.__getitem__)
                pairs = zip(map(batch.texts.__getitem__, reversed(rows)),
                            map(details.__getitem__, reversed(rows)), strict=True)
                firsts = dict(zip(pairs, reversed(rows), strict=True))  # -> earliest row
                for i in sorted(firsts.values(), key=lines.__getitem__):
                    pos = base + lines[i]
                    if len(samples) >= limit and pos >= samples[-1][0]:
                        break
                    keep_sample(samples, (pos, batch.texts[i],
                                          parse_parameters(details[i]) or (), None, None), limit)

    def _fold(self, key: str, rows: list[int], durations: list[str], tss: list[str],
              dbs: list[str | None], users: list[str | None], user_end: int | None,
              db_end: int | None) -> _Shape:
        """Count timed records `rows` (indices into the columns) into the shape of `key`.
        Time is summed exactly (`fsum`, then whole microseconds), so it equals adding one
        record at a time in any order."""
        shape = self.shapes.get(key)
        first = rows[0]
        if shape is None:
            shape = self.shapes[key] = _Shape(tss[first], (dbs[first] or "")[:db_end] or None,
                                              (users[first] or "")[:user_end] or None)
        if len(rows) > 1:
            get = itemgetter(*rows)  # one C call fetches them all
            times = list(map(float, get(durations)))
            stamps = get(tss)
        else:
            times, stamps = [float(durations[first])], (tss[first],)
        shape.calls += len(rows)
        shape.timed += len(rows)
        shape.total += round(fsum(times) * 1000)
        longest = max(times)
        if longest > shape.max:
            shape.max = longest
        lo, hi = min(stamps), max(stamps)
        if hi > shape.last:
            shape.last = hi
        if lo < shape.first:
            shape.first = lo
        return shape

    def drain(self) -> Iterator[Statement]:
        """Hand every shape on (see the class docstring), then forget them."""
        shapes, self.shapes = self.shapes, {}
        if self.sink is not None:
            self._flush(shapes, self.sink)
            return
        for shape in shapes.values():
            pos, text, params, plan, _ = shape.samples[0]
            if plan is None and shape.plan is not None and shape.plan[1] == text:
                plan = shape.plan[3]
            yield Statement(
                text=text, source=self._source(pos), calls=shape.calls, records=shape.calls,
                total_time_ms=shape.total / 1000 if shape.timed else None, params=params,
                max_time_ms=shape.max if shape.timed else None, first_seen=shape.first,
                last_seen=shape.last, queryid=min(shape.queryids, default=None), plan=plan,
                database=shape.db, user=shape.user)
            for pos, text, params, plan, _ in shape.samples[1:]:
                yield Statement(text=text, source=self._source(pos), calls=0, records=0,
                                params=params, plan=plan, database=shape.db, user=shape.user)

    def _source(self, pos: int) -> str:
        return f"{self.names[pos >> LINE_BITS]}:{line_of(pos)}"

    def _flush(self, shapes: dict[str, _Shape], sink: Summary) -> None:
        for key, shape in shapes.items():
            timed = shape.timed > 0
            sink.add_records(shape.samples[0][1], key, shape.calls, shape.calls,
                             shape.total * 1000 if timed else None,
                             shape.max if timed else None, shape.first, shape.last, None,
                             shape.queryids, shape.samples, shape.plan)
