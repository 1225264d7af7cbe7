#!/usr/bin/env bash
# Shared set-up for scripts/demo and scripts/test: PostgreSQL + HypoPG from the system
# packages, then a virtualenv (.venv) with indexadvisor installed. Idempotent and quiet.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${INDEXADVISOR_VENV:-$ROOT/.venv}"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "error: need root (or sudo) to run: $*" >&2; exit 2
    fi
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: no apt-get here; install PostgreSQL and HypoPG yourself: $*" >&2
        exit 2
    fi
    if [ -z "${_APT_UPDATED:-}" ]; then
        as_root apt-get update -qq
        _APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_major() {
    # Highest PostgreSQL server installed in the Debian/Ubuntu layout.
    ls -1 /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -n 1
}

ensure_postgres() {
    local major
    major="$(pg_major || true)"
    if [ -z "$major" ] || [ ! -x "/usr/lib/postgresql/$major/bin/initdb" ]; then
        echo "installing PostgreSQL server (system packages)…" >&2
        apt_install postgresql
        major="$(pg_major)"
    fi
    if [ ! -f "/usr/share/postgresql/$major/extension/hypopg.control" ]; then
        echo "installing HypoPG for PostgreSQL $major…" >&2
        apt_install "postgresql-$major-hypopg"
    fi
}

ensure_chromium() {
    # Headless Chromium for the HTML report tests (tests/test_report_browser.py).
    if [ ! -x /usr/lib/chromium/chromium ] && ! command -v chromium >/dev/null 2>&1; then
        echo "installing Chromium (headless, for the report tests)…" >&2
        apt_install chromium || echo "warning: no Chromium; the browser tests will be skipped" >&2
    fi
}

ensure_venv() {
    # $1: pip extras, e.g. "dev"
    local extras="${1:-}"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
            apt_install python3-venv
            python3 -m venv "$VENV"
        fi
    fi
    local spec="$ROOT"
    [ -n "$extras" ] && spec="$ROOT[$extras]"
    "$VENV/bin/python" -m pip install -qq --disable-pip-version-check -e "$spec"
}
