"""rbapi.errors and rbapi.exceptions: the error table and the one exception handler."""

from __future__ import annotations

import sqlite3
from unittest import mock

import psycopg
import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import OperationalError, connection, transaction
from django.http import Http404
from django.test import Client
from rest_framework import exceptions as drf

from core.errors import DatabaseBusyError
from core.transactions import is_transient_conflict, write_transaction
from rbapi import errors
from rbapi.errors import ALL_ERRORS, WebAPIException
from rbapi.exceptions import database_failure, database_unavailable, to_webapi_exception
from reviews.models import Group

from ..conftest import assert_error, assert_ok, logged_in_client


def test_table_matches_review_board():
    expected = {
        0: 400, 1: 503, 100: 404, 101: 403, 102: 400, 103: 401, 104: 401, 105: 400, 106: 400,
        107: 500, 108: 500, 109: 409, 110: 409, 111: 409, 112: 403, 113: 403, 114: 429,
        200: 400, 201: 404, 202: 400, 203: 404, 204: 409, 205: 400, 206: 400, 207: 400,
        208: 400, 209: 501, 210: 500, 211: 400, 212: 400, 213: 500, 214: 403, 215: 403,
        216: 403, 217: 403, 218: 403, 219: 400, 220: 400, 221: 500, 222: 403, 223: 409,
        224: 400, 225: 500, 226: 500, 227: 409, 228: 500, 229: 409, 230: 500, 231: 500,
        232: 500, 233: 503, 234: 400,
    }  # fmt: skip
    upstream = {code: e.http_status for code, e in ALL_ERRORS.items() if code < 900}
    assert upstream == expected
    assert all(isinstance(e.msg, str) and e.error_type for e in ALL_ERRORS.values())


def test_texts_of_the_common_errors():
    assert (errors.DOES_NOT_EXIST.msg, errors.DOES_NOT_EXIST.error_type) == (
        "Object does not exist",
        "resource-does-not-exist",
    )
    assert errors.PERMISSION_DENIED.msg == "You don't have permission for this"
    assert errors.NOT_LOGGED_IN.msg == "You are not logged in"
    assert errors.LOGIN_FAILED.msg == "The username or password was not correct"
    assert errors.INVALID_FORM_DATA.msg == "One or more fields had errors"
    assert errors.COMMIT_ID_ALREADY_EXISTS.msg == (
        "Review request with this commit ID already exists."
    )


@pytest.mark.parametrize("error", [errors.NOT_LOGGED_IN, errors.LOGIN_FAILED])
def test_auth_errors_challenge_with_basic(error):
    assert error.headers == {"WWW-Authenticate": 'Basic realm="Web API"'}


def test_payload_with_fields_and_extras():
    exc = WebAPIException(errors.INVALID_REPOSITORY, extra={"repository": "nope"})
    assert exc.payload() == {
        "err": {"code": 206, "msg": errors.INVALID_REPOSITORY.msg, "type": "repository-invalid"},
        "repository": "nope",
    }
    exc = WebAPIException(errors.INVALID_FORM_DATA, fields={"a": ["x"]})
    assert exc.payload()["fields"] == {"a": ["x"]}


def test_with_message_keeps_code_and_status():
    error = errors.PUBLISH_ERROR.with_message("Error publishing: no reviewers")
    assert (error.code, error.http_status, error.msg) == (
        225,
        500,
        "Error publishing: no reviewers",
    )


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (drf.NotAuthenticated(), 103),
        (drf.AuthenticationFailed(), 104),
        (drf.NotFound(), 100),
        (Http404(), 100),
        (drf.ValidationError({"name": ["This field is required."]}), 105),
        (drf.ParseError("bad"), 105),
        (drf.MethodNotAllowed("PATCH"), 900),
        (drf.Throttled(wait=3), 114),
    ],
)
def test_drf_and_django_exceptions_map_to_codes(exc, code):
    assert to_webapi_exception(exc, {}).error.code == code


def test_validation_messages_use_review_board_words():
    exc = to_webapi_exception(drf.ValidationError({"name": ["This field is required."]}), {})
    assert exc.fields == {"name": ["This field is required"]}


def test_unknown_exceptions_are_not_claimed():
    assert to_webapi_exception(RuntimeError("boom"), {}) is None


def test_domain_errors_map_once_with_their_prefixes():
    from reviews.errors import CommitIdInUseError, NothingToPublishError, PublishError

    exc = to_webapi_exception(PublishError("The draft must have a summary."), {})
    assert (exc.error.code, exc.error.http_status, exc.error.msg) == (
        225,
        500,
        "Error publishing: The draft must have a summary.",
    )
    exc = to_webapi_exception(NothingToPublishError(), {})
    assert (exc.error.code, exc.error.msg) == (211, errors.NOTHING_TO_PUBLISH.msg)
    exc = to_webapi_exception(CommitIdInUseError("abc"), {})
    assert (exc.error.code, exc.error.http_status) == (204, 409)


# --- Database failures (issue 10): by code, retried once, then 503 + Retry-After ----------------


def django_error(cause: BaseException) -> OperationalError:
    """``cause`` as Django's database wrapper raises it: a django.db error chained to it."""
    try:
        raise OperationalError(*cause.args) from cause
    except OperationalError as exc:
        return exc


def deadlock() -> OperationalError:
    return django_error(psycopg.errors.DeadlockDetected("deadlock detected"))


def real_sqlite_busy(tmp_path) -> sqlite3.OperationalError:
    """SQLite's own SQLITE_BUSY: a second writer while another holds the write lock."""
    path = tmp_path / "busy.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError) as info:
            other.execute("BEGIN IMMEDIATE")
        other.close()
    finally:
        holder.close()
    return info.value


def dead_port_error() -> OperationalError:
    """What Django raises when PostgreSQL cannot be reached (nothing listens on port 1)."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    settings_dict = {
        **connection.settings_dict,
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "rbapi_dead",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": "1",
        "OPTIONS": {"connect_timeout": 2},
    }
    dead = DatabaseWrapper(settings_dict, alias="dead")
    try:
        with pytest.raises(OperationalError) as info:
            dead.ensure_connection()
    finally:
        dead.close()
    return info.value


class TestRecognisedByCode:
    def test_deadlock_and_serialisation_failure(self):
        assert is_transient_conflict(deadlock())
        assert is_transient_conflict(django_error(psycopg.errors.SerializationFailure("x")))
        assert database_failure(deadlock()).error is not None

    def test_sqlite_busy(self, tmp_path):
        busy = real_sqlite_busy(tmp_path)
        assert busy.sqlite_errorcode == sqlite3.SQLITE_BUSY
        assert is_transient_conflict(django_error(busy))

    def test_never_by_message_text(self):
        assert not is_transient_conflict(OperationalError("database is locked"))
        assert database_failure(OperationalError("database is locked")) is None
        assert database_failure(django_error(psycopg.errors.UndefinedTable("locked"))) is None

    @pytest.mark.django_db
    def test_unreachable_database(self):
        assert database_unavailable(dead_port_error())
        assert not database_unavailable(deadlock())


@pytest.mark.django_db(transaction=True)
class TestWriteTransaction:
    def test_retried_once_then_database_busy(self):
        calls = []

        @write_transaction
        def service() -> None:
            calls.append(1)
            Group.objects.create(name=f"g{len(calls)}", display_name="G")
            raise deadlock()

        with pytest.raises(DatabaseBusyError):
            service()
        assert len(calls) == 2
        assert not Group.objects.exists()  # each attempt rolled back

    def test_a_retry_that_succeeds_is_stored_once(self):
        calls = []

        @write_transaction
        def service() -> Group:
            calls.append(1)
            group = Group.objects.create(name=f"g{len(calls)}", display_name="G")
            if len(calls) == 1:
                raise deadlock()
            return group

        assert service().name == "g2"
        assert list(Group.objects.values_list("name", flat=True)) == ["g2"]

    def test_inside_an_outer_transaction_it_is_not_retried(self):
        calls = []

        @write_transaction
        def service() -> None:
            calls.append(1)
            raise deadlock()

        with pytest.raises(OperationalError), transaction.atomic():
            service()
        assert len(calls) == 1

    def test_other_errors_are_not_retried(self):
        calls = []

        @write_transaction
        def service() -> None:
            calls.append(1)
            raise OperationalError("no such table: x")

        with pytest.raises(OperationalError):
            service()
        assert len(calls) == 1


@pytest.mark.django_db(transaction=True)
def test_a_deadlocked_service_is_retried_then_503(admin):
    Group.objects.create(name="devs", display_name="Developers")
    client = logged_in_client(admin)
    with mock.patch("reviews.services.groups._save", side_effect=deadlock()) as save:
        response = client.put(
            "/api/groups/devs/", "display_name=X", content_type="application/x-www-form-urlencoded"
        )
    body = assert_error(response, 503, 901)
    assert save.call_count == 2
    assert response["Retry-After"] == "1"
    assert body["err"]["type"] == "server-busy"
    assert Group.objects.get(name="devs").display_name == "Developers"


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_that_clears_is_invisible_to_the_client(admin):
    from reviews.services import groups as group_services

    Group.objects.create(name="devs", display_name="Developers")
    client = logged_in_client(admin)
    real_save = group_services._save
    attempts = []

    def save_after_a_deadlock(*args, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            raise deadlock()
        return real_save(*args, **kwargs)

    with mock.patch.object(group_services, "_save", side_effect=save_after_a_deadlock):
        response = client.put(
            "/api/groups/devs/", "display_name=X", content_type="application/x-www-form-urlencoded"
        )
    assert len(attempts) == 2
    assert assert_ok(response)["group"]["display_name"] == "X"
    assert Group.objects.get(name="devs").display_name == "X"


@pytest.mark.django_db
def test_sqlite_busy_outside_a_service_is_503(admin, tmp_path):
    busy = django_error(real_sqlite_busy(tmp_path))
    client = logged_in_client(admin)
    with mock.patch("reviews.services.groups._save", side_effect=busy):
        response = client.post("/api/groups/", {"name": "qa", "display_name": "QA"})
    assert_error(response, 503, 901)
    assert response["Retry-After"] == "1"


@pytest.mark.django_db
def test_an_unreachable_database_is_503_with_retry_after(admin):
    client = logged_in_client(admin)
    error = dead_port_error()
    with mock.patch.object(connection, "ensure_connection", side_effect=error):
        response = client.get("/api/groups/")
    body = assert_error(response, 503, 901)
    assert response["Retry-After"] == "1"
    assert body["err"]["msg"] == "The server is busy. Please try again shortly."


@pytest.mark.django_db
def test_a_dead_database_in_a_middleware_is_503_too():
    """Outside DRF (the session middleware reading a session) the middleware answers."""
    client = Client(raise_request_exception=False)
    error = dead_port_error()
    with mock.patch.object(SessionMiddleware, "process_request", side_effect=error):
        response = client.get("/api/groups/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "application/vnd.reviewboard.org.error+xml"
    assert b"<code>901</code>" in response.content


@pytest.mark.django_db
def test_a_crash_in_a_middleware_is_still_an_envelope():
    client = Client(raise_request_exception=False)
    with mock.patch.object(SessionMiddleware, "process_request", side_effect=KeyError("bug")):
        response = client.get("/api/groups/")
    assert_error(response, 500, 902)
