"""Connections to the user's database: read-only, time-limited, password never shown.

>>> redact_dsn("postgresql://app:s3cret@db.example.com:5432/shop")
'postgresql://app:***@db.example.com:5432/shop'
>>> redact_dsn("host=db user=app password=s3cret dbname=shop")
'host=db user=app password=*** dbname=shop'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..model.errors import ConfigError, ConnectionFailed

DSN_ENV = "INDEXADVISOR_DSN"

_URL_PASSWORD = re.compile(r"^([a-z0-9+]+://[^:/@]*:)([^@]*)(@)", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


@dataclass(frozen=True)
class Guards:
    """Session limits set on every connection to a user's database."""

    statement_timeout_ms: int = 30_000
    lock_timeout_ms: int = 1_000


def normalize_dsn(dsn: str) -> str:
    """Accept libpq strings, postgres:// URLs and SQLAlchemy URLs (postgresql+psycopg://).

    >>> normalize_dsn("postgresql+psycopg://u@h/db")
    'postgresql://u@h/db'
    >>> normalize_dsn("host=h dbname=db")
    'host=h dbname=db'
    """
    text = dsn.strip()
    if "://" not in text:
        return text
    try:
        url = make_url(text)
    except ArgumentError:
        return text  # let libpq say what is wrong with it
    if url.drivername.startswith("postgres"):
        url = url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def redact_dsn(dsn: str) -> str:
    """The DSN (or any message quoting one) with passwords replaced by ***."""
    text = dsn.strip()
    if "://" in text and " " not in text:
        try:
            return make_url(text).render_as_string(hide_password=True)
        except ArgumentError:
            pass
    elif "=" in text:
        try:
            parts = conninfo_to_dict(text)
        except psycopg.ProgrammingError:
            parts = None
        if parts is not None and "password" in parts:
            return _KV_PASSWORD.sub(r"\1***", text)
    text = _URL_PASSWORD.sub(r"\1***\3", text)
    return _KV_PASSWORD.sub(r"\1***", text)


def resolve_dsn(dsn: str | None) -> str | None:
    """The DSN from the option, else from INDEXADVISOR_DSN, else None (use a sandbox)."""
    value = dsn or os.environ.get(DSN_ENV) or None
    return normalize_dsn(value) if value else None


def connect(dsn: str, *, read_only: bool = True, guards: Guards | None = None,
            application_name: str = "indexadvisor") -> psycopg.Connection:
    """Open one connection with the guards in place; every transaction is READ ONLY.

    Raises ConnectionFailed with the server's message, never showing the password.
    """
    guards = guards or Guards()
    try:
        conn = psycopg.connect(
            normalize_dsn(dsn), autocommit=False, application_name=application_name,
            connect_timeout=10,
        )
    except psycopg.OperationalError as exc:
        message = redact_dsn(str(exc).strip())
        raise ConnectionFailed(
            f"cannot connect to {redact_dsn(dsn)}: {message}",
            hint="check the DSN (--dsn or INDEXADVISOR_DSN), or omit it to use a sandbox",
        ) from None
    except psycopg.ProgrammingError as exc:
        raise ConfigError(f"invalid DSN {redact_dsn(dsn)}: {redact_dsn(str(exc))}") from None
    conn.read_only = read_only
    with conn.cursor() as cur:
        cur.execute(sql.SQL("SET statement_timeout = {}").format(guards.statement_timeout_ms))
        cur.execute(sql.SQL("SET lock_timeout = {}").format(guards.lock_timeout_ms))
    conn.commit()
    return conn
