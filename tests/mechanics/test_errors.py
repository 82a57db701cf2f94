"""rbapi.errors and rbapi.exceptions: the error table and the one exception handler."""

from __future__ import annotations

import pytest
from django.http import Http404
from rest_framework import exceptions as drf

from rbapi import errors
from rbapi.errors import ALL_ERRORS, WebAPIException
from rbapi.exceptions import to_webapi_exception


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
