"""The ``rbapi`` command: Django's management commands with rbapi's settings preset.

``rbapi migrate``, ``rbapi createsuperuser``, ``rbapi check --deploy``, ``rbapi serve`` (gunicorn,
see ``rbapi.management.commands.serve``), ``rbapi ensure_demo_user``... work from any folder
once the package is installed, without ``manage.py`` or a checkout.

Start-up failures an operator can fix (a missing or unreachable database, a busy port) are
reported on one line instead of a traceback. ``python -m rbapi.cli preflight`` runs those checks
alone; it needs only the standard library (``bin/serve`` runs it before installing anything)
and checks more (that the PostgreSQL database exists) when psycopg is importable.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_BIND = "127.0.0.1:8080"


class PreflightError(Exception):
    """A start-up problem, with a one-line message saying how to fix it."""


def split_bind(bind: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` -> ("127.0.0.1", 8080); ``"[::1]:80"`` and ``":80"`` work too."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit():
        raise PreflightError(f"RBAPI_BIND={bind!r} is not host:port (e.g. {DEFAULT_BIND})")
    return host, int(port)


def check_port(bind: str) -> None:
    """Fail at once when another process listens on the address (gunicorn would retry 5 s)."""
    if bind.startswith("unix:"):
        return
    host, port = split_bind(bind)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PreflightError(
                    f"{host}:{port} is already in use (another server?) — stop it or choose "
                    f"another address with RBAPI_BIND=host:port"
                ) from None
            raise PreflightError(
                f"cannot listen on {bind} (RBAPI_BIND): {error.strerror}"
            ) from None


def _postgres_target(url: str) -> tuple[str, int, str, str]:
    parts = urlsplit(url)
    return (
        parts.hostname or "localhost",
        parts.port or 5432,
        unquote(parts.path.lstrip("/")) or "postgres",
        unquote(parts.username or "") or "postgres",
    )


def check_database(url: str | None) -> None:
    """The database named by ``DATABASE_URL`` (default: SQLite in the data folder) is usable."""
    if not url:
        folder = Path(os.environ.get("RBAPI_DATA_DIR") or os.getcwd())
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise PreflightError(
                f"cannot write the SQLite database in {folder} — set RBAPI_DATA_DIR to a "
                f"writable folder or DATABASE_URL"
            )
        return
    scheme = urlsplit(url).scheme
    if scheme not in ("postgres", "postgresql", "pgsql"):
        return
    host, port, _name, _user = _postgres_target(url)
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError as error:
        raise PreflightError(
            f"cannot reach PostgreSQL on {host}:{port} ({error.strerror or error}) — start it "
            f"or fix DATABASE_URL"
        ) from None
    try:
        import psycopg
    except ImportError:  # before the first install: the TCP check is all we can do
        return
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        raise PreflightError(describe_database_error(error, url)) from None


def describe_database_error(error: BaseException, url: str | None = None) -> str:
    """One line for a database that cannot be used, with the command that fixes it."""
    url = url if url is not None else os.environ.get("DATABASE_URL", "")
    text = str(error).strip().splitlines()[-1] if str(error).strip() else repr(error)
    if url and urlsplit(url).scheme in ("postgres", "postgresql", "pgsql"):
        host, port, name, user = _postgres_target(url)
        if "does not exist" in str(error) and f'database "{name}"' in str(error):
            return (
                f"database {name} does not exist on {host}:{port} — create it with "
                f"`createdb -h {host} -p {port} -U {user} {name}`"
            )
        if "Connection refused" in str(error) or "could not connect" in str(error):
            return f"cannot reach PostgreSQL on {host}:{port} — start it or fix DATABASE_URL"
        return f"cannot use database {name} on {host}:{port}: {text.removeprefix('FATAL:  ')}"
    return f"cannot use the database: {text}"


def preflight() -> None:
    """The checks ``bin/serve`` and ``rbapi serve`` run before anything else."""
    check_port(os.environ.get("RBAPI_BIND") or DEFAULT_BIND)
    check_database(os.environ.get("DATABASE_URL"))


def fail(message: str) -> None:
    print(f"rbapi: {message}", file=sys.stderr)
    raise SystemExit(1)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``rbapi`` console script."""
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "rbapi"
    if argv[1:2] == ["preflight"]:
        try:
            preflight()
        except PreflightError as error:
            fail(str(error))
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rbapi.settings")
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(argv)
    except PreflightError as error:
        fail(str(error))
    except OperationalError as error:
        fail(describe_database_error(error))


if __name__ == "__main__":
    main()
