"""`log_line_prefix` compiled into a regex that frames stderr log records.

Each escape becomes a small pattern with a named group where we need the value (time, process,
user, database, query id); `%q` makes the rest of the prefix optional (non-session processes
stop there). The prefix must carry a time escape (%t, %m, %n) and a process escape (%p, %c).

>>> p = compile_prefix("%m [%p] %q%u@%d ")
>>> m = p.header.match("2024-05-01 10:00:00.123 UTC [42] app@shop LOG:  hello")
>>> m.group("ts"), m.group("pid"), m.group("user"), m.group("db"), m.group("level")
('2024-05-01 10:00:00.123 UTC', '42', 'app', 'shop', 'LOG')
>>> compile_prefix("%u@%d ")
Traceback (most recent call last):
...
indexadvisor.model.errors.ConfigError: log_line_prefix '%u@%d ' has no time escape (%t, %m or %n)
hint: durations and --since/--until need a timestamp on every line
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...model.errors import ConfigError

DEBIAN = "%m [%p] %q%u@%d "
VANILLA = "%m [%p] "
RDS = "%t:%r:%u@%d:[%p]:"
# Others seen in the wild (pgBadger's recommendation, the old stock default, a few variants).
KNOWN_PREFIXES: tuple[str, ...] = (
    DEBIAN,
    VANILLA,
    RDS,
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d ",
    "%t [%p]: [%l-1] ",
    "%m [%p] %u@%d ",
    "%t [%p] %u@%d ",
    "%t [%p]: ",
    "%t [%p] ",
    "%m [%p]: ",
    "%m %p ",
    "%t %p ",
)

_TZ = r"(?: [A-Za-z][A-Za-z0-9+\-_/]*| [+\-]\d\d(?::?\d\d)?)?"
# the same as an alternation with an empty branch, which Python's regex engine runs faster
_TZ_FAST = r"(?: [A-Za-z][A-Za-z0-9+\-_/]*| [+\-]\d\d(?::?\d\d)?|)"
_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
_ANY = r"[^\n]{0,255}?"  # bounded: no runaway backtracking on garbage
LEVELS = (
    "DEBUG1|DEBUG2|DEBUG3|DEBUG4|DEBUG5|LOG|INFO|NOTICE|WARNING|ERROR|FATAL|PANIC|"
    "DETAIL|HINT|QUERY|CONTEXT|STATEMENT|LOCATION"
)
# A CloudWatch export puts its own ISO timestamp (and a space) before every line.
CLOUDWATCH = r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+\-]\d\d:?\d\d)? )"

_ESCAPES: dict[str, tuple[str | None, str]] = {
    "t": ("ts", _TIME + _TZ),
    "m": ("ts", _TIME + r"\.\d{3}" + _TZ),
    "n": ("epoch", r"\d+(?:\.\d+)?"),
    "p": ("pid", r"\d+"),
    "c": ("session", r"[0-9a-f]+\.[0-9a-f]+"),
    "u": ("user", _ANY),
    "d": ("db", _ANY),
    "Q": ("queryid", r"-?\d+"),
    "a": (None, _ANY),
    "r": (None, _ANY),
    "h": (None, _ANY),
    "b": (None, _ANY),
    "i": (None, _ANY),
    "v": (None, _ANY),
    "P": (None, r"\d*"),
    "l": (None, r"\d+"),
    "x": (None, r"\d+"),
    "e": (None, r"[0-9A-Z]{5}"),
    "s": (None, _TIME + _TZ),
}
_ESCAPE = re.compile(r"%(-?\d*)(.)")


@dataclass(frozen=True)
class Prefix:
    """A compiled `log_line_prefix`: `header` matches the prefix plus `LEVEL:  `."""

    text: str
    pattern: str  # the prefix as a regex, without anchors (named groups ts/epoch/pid/...)
    header: re.Pattern[str]


def prefix_pattern(prefix: str) -> str:
    """The regex for one `log_line_prefix` value (named groups for the fields we use)."""
    return _pattern(prefix, separators=False)[0]


def fast_pattern(prefix: str) -> tuple[str, frozenset[str]]:
    """`prefix_pattern`, faster to match: a captured free-text field (user, database)
    followed by literal text takes the first character of it into its group (Python's regex
    engine then finds the field's end with a character scan instead of a backtracking step
    per character), and optional parts are alternations with an empty branch. Returns the
    pattern and the names of the groups that end with that extra character.

    >>> fast_pattern("%m [%p] %q%u@%d ")[1] == frozenset({"user", "db"})
    True
    """
    return _pattern(prefix, separators=True)


def _pattern(prefix: str, separators: bool) -> tuple[str, frozenset[str]]:
    parts: list[str] = []
    literal: dict[int, str] = {}  # index in parts -> the raw literal text it escapes
    free: dict[int, str] = {}  # index in parts -> name of a captured free-text field
    optional_from: int | None = None
    seen: set[str] = set()
    pos = 0
    for m in _ESCAPE.finditer(prefix):
        literal[len(parts)] = prefix[pos : m.start()]
        parts.append(re.escape(prefix[pos : m.start()]))
        pos = m.end()
        pad, code = m.group(1), m.group(2)
        if code == "%":
            literal[len(parts)] = "%"
            parts.append("%")
            continue
        if code == "q":
            optional_from = len(parts)
            continue
        if code not in _ESCAPES:
            raise ConfigError(f"log_line_prefix {prefix!r}: unknown escape %{code}",
                              hint="see log_line_prefix in the PostgreSQL documentation")
        name, body = _ESCAPES[code]
        if separators:
            body = body.replace(_TZ, _TZ_FAST)
        if name is not None and name not in seen:
            seen.add(name)
            if body == _ANY and not pad:
                free[len(parts)] = name
            body = f"(?P<{name}>{body})"
        else:
            body = f"(?:{body})"
        if pad:
            body = f" *{body} *"
        parts.append(body)
    literal[len(parts)] = prefix[pos:]
    parts.append(re.escape(prefix[pos:]))
    trimmed = set()
    if separators:
        for i, name in free.items():
            following = literal.get(i + 1, "")
            if following:
                parts[i] = f"(?P<{name}>{_ANY}{re.escape(following[0])})"
                parts[i + 1] = re.escape(following[1:])
                trimmed.add(name)
    if optional_from is not None:
        parts[optional_from:] = ["(?:" + "".join(parts[optional_from:]) + ("|)" if separators
                                                                            else ")?")]
    if not seen & {"ts", "epoch"}:
        raise ConfigError(f"log_line_prefix {prefix!r} has no time escape (%t, %m or %n)",
                          hint="durations and --since/--until need a timestamp on every line")
    if not seen & {"pid", "session"}:
        raise ConfigError(f"log_line_prefix {prefix!r} has no process escape (%p or %c)",
                          hint="bind parameters are attached to their statement by process")
    return "".join(parts), frozenset(trimmed)


def compile_prefix(prefix: str) -> Prefix:
    """Compile `prefix`; a CloudWatch export's leading ISO timestamp is always allowed."""
    pattern = CLOUDWATCH + "?" + prefix_pattern(prefix)
    header = re.compile(f"{pattern}(?P<level>{LEVELS}):  ")
    return Prefix(prefix, pattern, header)


def detect_prefix(lines: list[str]) -> Prefix | None:
    """The known prefix that frames most of `lines` (at least one in twenty of the non-blank,
    non-continuation ones: a log may be mostly noise), or None.

    >>> detect_prefix(["2024-05-01 10:00:00 UTC:10.0.0.1(5432):app@shop:[42]:LOG:  x"]).text
    '%t:%r:%u@%d:[%p]:'
    """
    heads = [line for line in lines if line.strip() and not line.startswith("\t")]
    if not heads:
        return None
    best: tuple[int, int, Prefix] | None = None
    for text in KNOWN_PREFIXES:
        prefix = compile_prefix(text)
        matches = [m for m in map(prefix.header.match, heads) if m]
        # the most lines; among equals the one that captures user and database (earlier wins)
        users = sum(1 for m in matches if m.groupdict().get("user"))
        if matches and len(matches) * 20 >= len(heads) and (
                best is None or (len(matches), users) > best[:2]):
            best = (len(matches), users, prefix)
    return best[2] if best else None
