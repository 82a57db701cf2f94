"""``rbapi serve``: the API under gunicorn with the production worker setup.

Configured from the environment like everything else: ``RBAPI_BIND`` (127.0.0.1:8080),
``RBAPI_WORKERS`` (4), ``RBAPI_THREADS`` (4, gthread only), ``RBAPI_WORKER_CLASS`` (gthread; also
sync, uvicorn — README "Worker setup" has the measurements behind the default),
``RBAPI_ACCESS_LOG`` ("-" = stdout, "" = off) and ``RBAPI_TIMEOUT`` (60 s).

Ctrl-C: a terminal sends SIGINT to the whole process group, so each worker got SIGINT from the
terminal and then SIGQUIT from the master, and gunicorn's handler raises ``SystemExit`` on both;
the second one, landing while the gthread worker is already shutting its thread pool down,
could deadlock it until the master killed it after ``graceful_timeout`` (31 s stops). Workers
therefore ignore SIGINT and leave shutdown to the master's single SIGQUIT, on which they exit
at once.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from gunicorn.app.base import BaseApplication

from rbapi.cli import DEFAULT_BIND, PreflightError, check_port

WORKER_CLASSES = {
    "sync": "sync",
    "gthread": "gthread",
    "uvicorn": "uvicorn_worker.UvicornWorker",
}
DEFAULT_WORKER_CLASS = "gthread"


def _ignore_sigint(worker: Any) -> None:
    """gunicorn ``post_worker_init`` hook: only the master reacts to Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _quit_now(worker: Any) -> None:
    """gunicorn ``worker_int`` hook, run on SIGQUIT (the master's quick shutdown, on Ctrl-C):
    leave at once. In-flight requests are dropped on a quick shutdown anyway, and skipping the
    interpreter's teardown of a loaded Django keeps Ctrl-C well under a second on a busy
    machine. A graceful stop (SIGTERM, e.g. systemd) is not affected."""
    os._exit(0)


def gunicorn_options() -> dict[str, Any]:
    """gunicorn settings from the environment (also used by benchmarks/workers.py)."""
    kind = os.environ.get("RBAPI_WORKER_CLASS") or DEFAULT_WORKER_CLASS
    if kind not in WORKER_CLASSES:
        raise CommandError(
            f"RBAPI_WORKER_CLASS={kind!r}: choose one of {', '.join(sorted(WORKER_CLASSES))}"
        )
    options: dict[str, Any] = {
        "bind": [os.environ.get("RBAPI_BIND") or DEFAULT_BIND],
        "workers": int(os.environ.get("RBAPI_WORKERS") or 4),
        "worker_class": WORKER_CLASSES[kind],
        "timeout": int(os.environ.get("RBAPI_TIMEOUT") or 60),
        "graceful_timeout": int(os.environ.get("RBAPI_GRACEFUL_TIMEOUT") or 30),
        "post_worker_init": _ignore_sigint,
        "worker_int": _quit_now,
        "proc_name": "rbapi",
    }
    if kind == "gthread":
        options["threads"] = int(os.environ.get("RBAPI_THREADS") or 4)
    access_log = os.environ.get("RBAPI_ACCESS_LOG", "-")
    if access_log:
        options["accesslog"] = access_log
    return options


class RBAPIServer(BaseApplication):
    """gunicorn started from Python, so the installed ``rbapi`` needs no gunicorn command line."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        if self.options["worker_class"].startswith("uvicorn"):
            from rbapi.asgi import application as asgi_application

            return asgi_application
        from rbapi.wsgi import application

        return application


class Command(BaseCommand):
    help = "Serve the API with gunicorn (RBAPI_BIND, RBAPI_WORKERS, RBAPI_THREADS, ...)."
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", help="host:port (default: RBAPI_BIND or 127.0.0.1:8080)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("bind"):
            os.environ["RBAPI_BIND"] = options["bind"]
        config = gunicorn_options()
        try:
            check_port(config["bind"][0])
        except PreflightError as error:
            raise CommandError(str(error)) from None
        # A missing database is one line here (rbapi.cli), not a traceback in every worker. A
        # connection of its own, not the thread's, so no worker inherits it.
        from django.db import connections

        probe = connections.create_connection("default")
        try:
            probe.ensure_connection()
        finally:
            probe.close()
        self.stdout.write(f"serving the Review Board web API on http://{config['bind'][0]}/api/")
        self.stdout.flush()
        RBAPIServer(config).run()
