"""The ``rbapi`` command's start-up behaviour: the demo user, one-line errors, deploy checks."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from rbapi.cli import PreflightError, check_port, describe_database_error

ROOT = Path(__file__).resolve().parents[2]
User = get_user_model()


def rbapi(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The console command as an operator runs it, from a folder outside the checkout."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("RBAPI_", "DATABASE_"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "rbapi.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def postgres_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db
def test_demo_user_is_created_on_an_empty_database(capsys: Any) -> None:
    call_command("ensure_demo_user")
    user = User.objects.get()
    assert (user.username, user.is_superuser, user.is_staff) == ("admin", True, True)
    assert user.check_password("admin")
    assert "demo user created: username=admin password=admin" in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_user_never_touches_an_existing_account(capsys: Any) -> None:
    call_command("ensure_demo_user")
    admin = User.objects.get(username="admin")
    admin.set_password("changed")
    admin.save()
    call_command("ensure_demo_user")  # a restart of bin/serve
    admin.refresh_from_db()
    assert admin.check_password("changed")
    assert User.objects.count() == 1
    assert "demo user not created" in capsys.readouterr().out


@pytest.mark.django_db
def test_no_demo_user_on_a_database_with_users() -> None:
    User.objects.create_user("doc", password="doc")
    call_command("ensure_demo_user")
    assert list(User.objects.values_list("username", flat=True)) == ["doc"]


def test_busy_port_is_named_with_rbapi_bind(busy_port: int) -> None:
    expected = f"127.0.0.1:{busy_port} is already in use.*RBAPI_BIND"
    with pytest.raises(PreflightError, match=expected):
        check_port(f"127.0.0.1:{busy_port}")
    check_port("127.0.0.1:0")  # a free address passes


def test_serve_on_a_busy_port_is_one_line_at_once(busy_port: int, tmp_path: Path) -> None:
    began = time.monotonic()
    result = rbapi("serve", cwd=tmp_path, RBAPI_BIND=f"127.0.0.1:{busy_port}")
    assert time.monotonic() - began < 10
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "already in use" in result.stderr
    assert "RBAPI_BIND" in result.stderr
    assert not (tmp_path / "rbapi.sqlite3").exists()


def test_preflight_names_the_busy_port(busy_port: int, tmp_path: Path) -> None:
    result = rbapi("preflight", cwd=tmp_path, RBAPI_BIND=f"127.0.0.1:{busy_port}")
    assert result.returncode == 1
    assert result.stderr.startswith(f"rbapi: 127.0.0.1:{busy_port} is already in use")


def test_unreachable_postgresql_is_one_line(tmp_path: Path) -> None:
    url = "postgres://postgres@127.0.0.1:1/rbapi"
    for args in (["preflight"], ["migrate", "--noinput"]):
        result = rbapi(*args, cwd=tmp_path, DATABASE_URL=url, RBAPI_BIND="127.0.0.1:0")
        assert result.returncode == 1
        assert result.stderr.strip() == (
            "rbapi: cannot reach PostgreSQL on 127.0.0.1:1 "
            + ("(Connection refused) " if args == ["preflight"] else "")
            + "— start it or fix DATABASE_URL"
        )


@pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL on 127.0.0.1:5432")
def test_missing_postgresql_database_says_how_to_create_it(tmp_path: Path) -> None:
    url = "postgres://postgres@127.0.0.1:5432/rbapi_no_such_database"
    expected = (
        "rbapi: database rbapi_no_such_database does not exist on 127.0.0.1:5432 — create it "
        "with `createdb -h 127.0.0.1 -p 5432 -U postgres rbapi_no_such_database`"
    )
    for args in (["preflight"], ["migrate", "--noinput"], ["ensure_demo_user"]):
        result = rbapi(*args, cwd=tmp_path, DATABASE_URL=url, RBAPI_BIND="127.0.0.1:0")
        assert (result.returncode, result.stderr.strip()) == (1, expected)


def test_sqlite_error_is_one_line() -> None:
    message = describe_database_error(Exception("unable to open database file"), "")
    assert message == "cannot use the database: unable to open database file"


def test_sqlite_database_defaults_to_the_current_folder(tmp_path: Path) -> None:
    result = rbapi("migrate", "--noinput", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "rbapi.sqlite3").is_file()
    data = tmp_path / "data"
    data.mkdir()
    result = rbapi("migrate", "--noinput", cwd=tmp_path, RBAPI_DATA_DIR=str(data))
    assert result.returncode == 0, result.stderr
    assert (data / "rbapi.sqlite3").is_file()


PRODUCTION = {
    "RBAPI_SECRET_KEY": "x7Hq2Lr9vT0pWcN4sKdZ8yBfG1mJ6aEuQoXiR3tVhC5nY0lPwD2kS9gA7zM4bU1e",
    "RBAPI_ALLOWED_HOSTS": "rb.example.com",
    "RBAPI_BEHIND_PROXY": "true",
    "RBAPI_SECURE_COOKIES": "true",
    "RBAPI_HSTS_SECONDS": "31536000",
    "RBAPI_HSTS_INCLUDE_SUBDOMAINS": "true",
    "RBAPI_SSL_REDIRECT": "true",
}


# django-oauth-toolkit's RFC 9700 advisories about its defaults, which rbapi keeps to serve
# Review Board's OAuth2 behaviour; the README ("Production", `rbapi check --deploy`) explains
# each. Django's own deploy checks are all clean.
EXPLAINED = {f"oauth2_provider.W00{n}" for n in range(1, 9)}


def test_check_deploy_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = rbapi("check", "--deploy", cwd=tmp_path, **PRODUCTION, RBAPI_HSTS_PRELOAD="true")
    assert result.returncode == 0, result.stderr
    remaining = set(re.findall(r"\(([\w.]+\.[EW]\d+)\)", result.stderr + result.stdout))
    assert remaining == EXPLAINED


def test_check_deploy_flags_a_development_setup(tmp_path: Path) -> None:
    result = rbapi("check", "--deploy", "--fail-level", "WARNING", cwd=tmp_path)
    assert result.returncode == 1
    for warning in ("security.W004", "security.W008", "security.W009", "security.W012"):
        assert warning in result.stderr
