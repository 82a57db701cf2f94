"""/api/users/{username}/api-tokens/ and ``Authorization: token`` (spec: mechanics.md §9):
the resource's rules, Review Board's messages, the token format, policies on every request
(header and the session it starts), and what stays stored after a refused request."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from reviews.models import ReviewRequest
from webapi.models import WebAPIToken
from webapi.services import api_token_create
from webapi.token_generator import BASE62, TOKEN_LENGTH, checksum, generator_of

from ..conftest import assert_error, assert_ok, basic_auth, logged_in_client
from ..factories import make_review_request

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
CHALLENGE = 'Basic realm="Web API"'
READ_ONLY = {"resources": {"*": {"allow": ["GET"], "block": ["*"]}}}
FIELDS = {
    "deprecated",
    "expired",
    "expires",
    "extra_data",
    "id",
    "invalid_date",
    "invalid_reason",
    "last_updated",
    "last_used",
    "links",
    "note",
    "policy",
    "time_added",
    "token",
    "token_generator_id",
    "valid",
}


def token_client(token: WebAPIToken | str) -> Client:
    value = token if isinstance(token, str) else token.token
    return Client(HTTP_AUTHORIZATION=f"token {value}")


def url(username: str, token_id: int | None = None) -> str:
    base = f"/api/users/{username}/api-tokens/"
    return base if token_id is None else f"{base}{token_id}/"


# --- the resource ------------------------------------------------------------------------------
def test_create_returns_the_token_in_review_boards_shape(owner, owner_client):
    response = owner_client.post(
        url("doc"), {"note": "CI", "policy": json.dumps(READ_ONLY)}, HTTP_ACCEPT="*/*"
    )
    body = assert_ok(response, 201, mimetype="api-token")
    item = body["api_token"]
    assert set(item) == FIELDS
    stored = WebAPIToken.objects.get()
    assert stored.user == owner and stored.note == "CI" and stored.policy == READ_ONLY
    assert item["token"] == stored.token
    assert item["token_generator_id"] == "vendor_checksum"
    assert item["valid"] is True and item["expired"] is False and item["deprecated"] is False
    assert item["expires"] is None and item["last_used"] is None
    # isoformat with microseconds and +00:00, as Review Board writes token dates.
    added = datetime.datetime.fromisoformat(item["time_added"])
    assert item["time_added"].endswith("+00:00") and added == stored.time_added
    href = f"http://testserver{url('doc', stored.pk)}"
    assert item["links"] == {
        "self": {"href": href, "method": "GET"},
        "update": {"href": href, "method": "PUT"},
        "delete": {"href": href, "method": "DELETE"},
    }


def test_token_format_is_rbp_with_a_checksum(owner):
    token = api_token_create(user=owner, note="", policy={}).token
    assert len(token) == TOKEN_LENGTH == 255 and token.startswith("rbp_")
    body, check = token[4:-6], token[-6:]
    assert all(char in BASE62 for char in body) and checksum(body) == check
    assert generator_of(token) == "vendor_checksum"
    assert generator_of(token[:-6] + check.swapcase()) == "vendor_checksum"
    corrupted = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert generator_of(corrupted) is None
    assert generator_of("a" * 40) == "legacy_sha1"
    # Two tokens are never the same.
    assert api_token_create(user=owner, note="", policy={}).token != token


def test_list_is_the_users_own_tokens(owner, other, owner_client):
    mine = api_token_create(user=owner, note="mine", policy={})
    api_token_create(user=other, note="theirs", policy={})
    response = owner_client.get(url("doc"))
    body = assert_ok(response, mimetype="api-tokens")
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.api-token+json"
    assert [item["id"] for item in body["api_tokens"]] == [mine.pk]
    assert body["total_results"] == 1
    assert body["links"]["create"] == {
        "href": "http://testserver/api/users/doc/api-tokens/",
        "method": "POST",
    }


def test_other_users_tokens_are_refused(owner, other, other_client, anon_client):
    token = api_token_create(user=owner, note="mine", policy={})
    for response in (
        other_client.get(url("doc")),
        other_client.get(url("doc", token.pk)),
        other_client.post(url("doc"), {"note": "x", "policy": "{}"}),
        other_client.put(url("doc", token.pk), "note=stolen", content_type=FORM),
        other_client.delete(url("doc", token.pk)),
    ):
        assert_error(response, 403, 101)
    assert_error(anon_client.get(url("doc")), 401, 103)
    assert_error(anon_client.post(url("doc"), {"note": "x", "policy": "{}"}), 401, 103)
    token.refresh_from_db()
    assert token.note == "mine" and WebAPIToken.objects.count() == 1


def test_superuser_manages_anyones_tokens_but_sees_only_a_prefix(owner, admin_client):
    token = api_token_create(user=owner, note="mine", policy={})
    item = assert_ok(admin_client.get(url("doc", token.pk)))["api_token"]
    assert item["token"] == token.token[:12] + "..."
    created = assert_ok(admin_client.post(url("doc"), {"note": "for owner", "policy": "{}"}), 201)
    assert WebAPIToken.objects.get(pk=created["api_token"]["id"]).user == owner
    assert admin_client.delete(url("doc", token.pk)).status_code == 204


def test_unknown_user_and_token_are_100(owner, owner_client):
    assert_error(owner_client.get(url("nosuch")), 404, 100)
    assert_error(owner_client.get(url("doc", 999)), 404, 100)


def test_create_requires_note_and_policy(owner_client):
    body = assert_error(owner_client.post(url("doc"), {}), 400, 105)
    assert body["fields"] == {
        "note": ["This field is required"],
        "policy": ["This field is required"],
    }
    body = assert_error(owner_client.post(url("doc"), {"note": "x"}), 400, 105)
    assert body["fields"] == {"policy": ["This field is required"]}
    assert not WebAPIToken.objects.exists()


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (
            "{bad",
            "The policy is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1)",
        ),
        ("null", "The policy must be a JSON object."),
        ('{"foo": 1}', 'The policy is missing a "resources" section.'),
        ('{"resources": {"nope": {"allow": ["*"]}}}', '"nope" is not a valid resource policy ID.'),
        (
            '{"resources": {"*": {"allow": "GET"}}}',
            'The "resources.*" section\'s "allow" rule must be a list.',
        ),
    ],
)
def test_malformed_policy_is_105_never_500(owner, owner_client, policy, message):
    # Review Board answers these with a 500 page on POST; rbapi with the PUT's 105.
    body = assert_error(owner_client.post(url("doc"), {"note": "x", "policy": policy}), 400, 105)
    assert body["fields"] == {"policy": message}
    assert not WebAPIToken.objects.exists()
    token = api_token_create(user=owner, note="x", policy=READ_ONLY)
    body = assert_error(
        owner_client.put(
            url("doc", token.pk), {"policy": policy}, content_type="application/json"
        ),
        400,
        105,
    )
    assert body["fields"] == {"policy": message}
    token.refresh_from_db()
    assert token.policy == READ_ONLY


def test_policy_ids_in_policies_are_the_registry_ones(owner_client):
    policy = {
        "resources": {
            name: {"*": {"allow": ["GET"]}}
            for name in (
                "review_request",
                "review_request_draft",
                "review",
                "review_reply",
                "status_update",
                "review_group",
                "server_info",
                "review_request_last_update",
                "api_token",
                "oauth_app",
                "oauth_token",
            )
        }
    }
    assert_ok(owner_client.post(url("doc"), {"note": "x", "policy": json.dumps(policy)}), 201)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2030-01-01T10:00:00+02:00", "2030-01-01T08:00:00+00:00"),
        ("2030-01-01", "2030-01-01T00:00:00+00:00"),
        ("2030-01-01T10:00:00", "2030-01-01T10:00:00+00:00"),
        ("", None),
    ],
)
def test_expires_is_parsed_in_utc(owner_client, sent, stored):
    body = assert_ok(
        owner_client.post(url("doc"), {"note": "x", "policy": "{}", "expires": sent}), 201
    )
    token_id = body["api_token"]["id"]
    assert assert_ok(owner_client.get(url("doc", token_id)))["api_token"]["expires"] == stored


def test_bad_expires_is_105(owner_client):
    body = assert_error(
        owner_client.post(url("doc"), {"note": "x", "policy": "{}", "expires": "2020-13-45"}),
        400,
        105,
    )
    assert body["fields"] == {"expires": ["This timestamp is not a valid ISO 8601 date/time"]}
    assert not WebAPIToken.objects.exists()


def test_update_note_policy_and_extra_data(owner, owner_client):
    token = api_token_create(user=owner, note="old", policy={})
    before = token.last_updated
    body = assert_ok(
        owner_client.put(
            url("doc", token.pk),
            f"note=new&policy={json.dumps(READ_ONLY)}&extra_data.team=ci",
            content_type=FORM,
        )
    )
    item = body["api_token"]
    assert item["note"] == "new" and item["policy"] == READ_ONLY
    assert item["extra_data"] == {"team": "ci"}
    token.refresh_from_db()
    assert token.note == "new" and token.policy == READ_ONLY and token.last_updated > before


def test_invalidate_with_a_reason(owner, owner_client):
    token = api_token_create(user=owner, note="x", policy={})
    item = assert_ok(
        owner_client.put(
            url("doc", token.pk), "valid=false&invalid_reason=leaked", content_type=FORM
        )
    )["api_token"]
    assert item["valid"] is False and item["invalid_reason"] == "leaked"
    assert item["invalid_date"] is not None
    # It cannot be made valid again.
    body = assert_error(
        owner_client.put(url("doc", token.pk), "valid=true", content_type=FORM), 400, 105
    )
    assert body["fields"] == {
        "valid": "This can only be used to invalidate the token. You cannot set valid to true."
    }
    token.refresh_from_db()
    assert token.valid is False and token.invalid_reason == "leaked"


def test_delete(owner, owner_client):
    token = api_token_create(user=owner, note="x", policy={})
    response = owner_client.delete(url("doc", token.pk))
    assert response.status_code == 204 and response.content == b""
    assert_error(owner_client.delete(url("doc", token.pk)), 404, 100)
    assert_error(token_client(token).get("/api/session/"), 401, 104)


# --- authenticating with a token ----------------------------------------------------------------
def test_token_logs_in_starts_a_session_and_records_use(owner):
    token = api_token_create(user=owner, note="x", policy={})
    client = token_client(token)
    response = client.get("/api/session/?expand=user")
    body = assert_ok(response)
    assert body["session"]["authenticated"] is True
    assert body["session"]["user"]["username"] == "doc"
    cookie = response.cookies["rbsessionid"]
    assert cookie.value and cookie["httponly"] and cookie["samesite"] == "Lax"
    token.refresh_from_db()
    assert token.last_used is not None
    # RBTools sends the header once; the cookie carries on.
    cookie_only = Client()
    cookie_only.cookies["rbsessionid"] = cookie.value
    assert assert_ok(cookie_only.get("/api/session/"))["session"]["authenticated"] is True


@pytest.mark.parametrize(
    "header",
    ["token rbp_abc", "token " + "rbp_" + "A" * 251, "token " + "a" * 40, "token a b"],
)
def test_unknown_token_is_104(owner, header):
    response = Client().get("/api/review-requests/", HTTP_AUTHORIZATION=header)
    body = assert_error(response, 401, 104)
    assert body["err"]["msg"] == "The username or password was not correct"
    assert response["WWW-Authenticate"] == CHALLENGE


@pytest.mark.parametrize("header", ["Token {token}", "TOKEN {token}", "token "])
def test_token_scheme_is_lowercase_and_needs_a_value(owner, header):
    token = api_token_create(user=owner, note="x", policy={})
    response = Client().get("/api/session/", HTTP_AUTHORIZATION=header.format(token=token.token))
    assert_error(response, 401, 103)
    assert response["WWW-Authenticate"] == CHALLENGE


def test_expired_token_is_104_with_the_date(owner):
    token = api_token_create(
        user=owner,
        note="x",
        policy={},
        expires=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
    )
    body = assert_error(token_client(token).get("/api/session/"), 401, 104)
    assert body["err"]["msg"] == "This API token expired on Jan. 1, 2020, midnight."
    token.expires = datetime.datetime(2021, 3, 5, 14, 30, 7, tzinfo=datetime.UTC)
    token.save()
    body = assert_error(token_client(token).get("/api/session/"), 401, 104)
    assert body["err"]["msg"] == "This API token expired on March 5, 2021, 2:30 p.m.."


def test_invalid_token_is_104_with_the_reason(owner):
    token = api_token_create(user=owner, note="x", policy={})
    token.valid = False
    token.invalid_date = datetime.datetime(2026, 11, 23, 16, 0, tzinfo=datetime.UTC)
    token.invalid_reason = "compromised"
    token.save()
    body = assert_error(token_client(token).get("/api/session/"), 401, 104)
    assert (
        body["err"]["msg"] == "This API token became invalid on Nov. 23, 2026, 4 p.m.: compromised"
    )
    token.invalid_reason = ""
    token.save()
    body = assert_error(token_client(token).get("/api/session/"), 401, 104)
    assert body["err"]["msg"] == "This API token became invalid on Nov. 23, 2026, 4 p.m.."


def test_token_of_an_inactive_user_is_refused(owner):
    token = api_token_create(user=owner, note="x", policy={})
    owner.is_active = False
    owner.save()
    assert_error(token_client(token).get("/api/session/"), 401, 104)


def test_a_session_dies_with_its_token(owner):
    token = api_token_create(user=owner, note="x", policy={})
    client = token_client(token)
    assert_ok(client.get("/api/session/"))
    cookie_only = Client()
    cookie_only.cookies["rbsessionid"] = client.cookies["rbsessionid"].value
    token.valid = False
    token.invalid_reason = "leaked"
    token.invalid_date = timezone.now()
    token.save()
    body = assert_error(cookie_only.get("/api/review-requests/"), 401, 103)
    assert "became invalid" in body["err"]["msg"]
    # And it stays logged out.
    assert assert_ok(cookie_only.get("/api/session/"))["session"]["authenticated"] is False


def test_deleting_a_token_ends_its_sessions(owner):
    token = api_token_create(user=owner, note="x", policy={})
    client = token_client(token)
    assert_ok(client.get("/api/session/"))
    cookie_only = Client()
    cookie_only.cookies["rbsessionid"] = client.cookies["rbsessionid"].value
    token.delete()
    assert_error(cookie_only.get("/api/review-requests/"), 401, 103)


def test_deprecated_token_gets_a_header(owner):
    token = WebAPIToken.objects.create(
        user=owner, token="a" * 40, token_generator_id="legacy_sha1", policy={}
    )
    response = token_client(token).get("/api/session/")
    assert_ok(response)
    assert "deprecated" in response["X-API-Token-Deprecated"]
    fresh = api_token_create(user=owner, note="x", policy={})
    assert "X-API-Token-Deprecated" not in token_client(fresh).get("/api/session/")


def test_basic_login_after_a_token_drops_the_tokens_restrictions(owner):
    token = api_token_create(user=owner, note="x", policy=READ_ONLY)
    client = token_client(token)
    assert_ok(client.get("/api/session/"))
    client.defaults["HTTP_AUTHORIZATION"] = basic_auth("doc")
    assert_ok(client.post("/api/review-requests/", {}), 201)


# --- policies on requests -----------------------------------------------------------------------
def test_read_only_policy_refuses_writes_on_header_and_cookie_requests(owner):
    token = api_token_create(user=owner, note="x", policy=READ_ONLY)
    client = token_client(token)
    assert_ok(client.get("/api/review-requests/"))
    assert_error(client.post("/api/review-requests/", {}), 403, 101)
    cookie_only = Client()
    cookie_only.cookies["rbsessionid"] = client.cookies["rbsessionid"].value
    assert_error(cookie_only.post("/api/review-requests/", {}), 403, 101)
    assert not ReviewRequest.objects.exists()


def test_policy_blocking_one_object(owner):
    hidden = make_review_request(submitter=owner, publish=True, people=[owner], summary="Hidden")
    shown = make_review_request(submitter=owner, publish=True, people=[owner], summary="Shown")
    policy = {"resources": {"review_request": {str(hidden.pk): {"block": ["GET"]}}}}
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    assert_error(client.get(f"/api/review-requests/{hidden.pk}/"), 403, 101)
    assert_ok(client.get(f"/api/review-requests/{shown.pk}/"))
    body = assert_ok(client.get("/api/review-requests/"))
    assert [item["id"] for item in body["review_requests"]] == [shown.pk]
    assert body["total_results"] == 1
    assert assert_ok(client.get("/api/review-requests/?counts-only=1"))["count"] == 1
    # Children are their own resources, with their own policy IDs.
    assert_ok(client.get(f"/api/review-requests/{hidden.pk}/reviews/"))


def test_policy_per_object_allow_over_resource_block(owner):
    allowed = make_review_request(submitter=owner, publish=True, people=[owner])
    other = make_review_request(submitter=owner, publish=True, people=[owner])
    policy = {
        "resources": {"review_request": {str(allowed.pk): {"allow": ["*"]}, "*": {"block": ["*"]}}}
    }
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    assert_ok(client.get(f"/api/review-requests/{allowed.pk}/"))
    assert_ok(
        client.put(f"/api/review-requests/{allowed.pk}/", "status=submitted", content_type=FORM)
    )
    assert_error(client.get(f"/api/review-requests/{other.pk}/"), 403, 101)
    assert_error(client.get("/api/review-requests/"), 403, 101)


def test_policy_uses_review_boards_policy_ids(owner):
    policy = {"resources": {"review_group": {"*": {"block": ["GET"]}}}}
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    assert_error(client.get("/api/groups/"), 403, 101)
    assert_ok(client.get("/api/users/"))
    policy = {"resources": {"server_info": {"*": {"block": ["GET"]}}}}
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    assert_error(client.get("/api/info/"), 403, 101)
    assert_ok(client.get("/api/"))


def test_tokens_cannot_use_the_token_resource(owner):
    token = api_token_create(user=owner, note="x", policy={})
    client = token_client(token)
    assert_error(client.get(url("doc")), 403, 101)
    assert_error(client.post(url("doc"), {"note": "x", "policy": "{}"}), 403, 101)
    assert_error(client.delete(url("doc", token.pk)), 403, 101)
    cookie_only = Client()
    cookie_only.cookies["rbsessionid"] = client.cookies["rbsessionid"].value
    assert_error(cookie_only.get(url("doc")), 403, 101)
    assert WebAPIToken.objects.count() == 1


def test_token_lists_cost_constant_queries(owner, django_assert_max_num_queries):
    client = logged_in_client(owner)
    api_token_create(user=owner, note="1", policy={})
    with django_assert_max_num_queries(6) as one:
        assert_ok(client.get(url("doc")))
    for number in range(30):
        api_token_create(user=owner, note=str(number), policy={})
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(assert_ok(client.get(url("doc")))["api_tokens"]) == 25


def test_token_requests_cost_constant_queries(owner, django_assert_max_num_queries):
    token = api_token_create(user=owner, note="x", policy=READ_ONLY)
    make_review_request(submitter=owner, publish=True, people=[owner])
    with django_assert_max_num_queries(20) as one:
        assert_ok(token_client(token).get("/api/review-requests/"))
    for _ in range(20):
        make_review_request(submitter=owner, publish=True, people=[owner])
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert_ok(token_client(token).get("/api/review-requests/"))


# --- regressions from the security review -------------------------------------------------------
def test_a_wrong_basic_password_does_not_lift_a_token_session(owner):
    token = api_token_create(user=owner, note="x", policy=READ_ONLY)
    client = token_client(token)
    assert_ok(client.get("/api/session/"))
    del client.defaults["HTTP_AUTHORIZATION"]
    response = client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc", "wrong"))
    assert_error(response, 401, 104)
    # The failed login ended the session; nothing it could do was unlocked.
    assert_error(client.post("/api/review-requests/", {}), 401, 103)
    assert not ReviewRequest.objects.exists()


def test_a_right_basic_password_still_works_over_a_token_session(owner):
    token = api_token_create(user=owner, note="x", policy=READ_ONLY)
    client = token_client(token)
    assert_ok(client.get("/api/session/"))
    del client.defaults["HTTP_AUTHORIZATION"]
    assert_ok(client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth("doc")))
    assert_ok(client.post("/api/review-requests/", {}), 201)


@pytest.mark.parametrize("spelling", ["0{id}", "00{id}"])
def test_policy_ids_cannot_be_dodged_with_leading_zeros(owner, spelling):
    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    policy = {"resources": {"review_request": {str(review_request.pk): {"block": ["*"]}}}}
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    url = f"/api/review-requests/{spelling.format(id=review_request.pk)}/"
    assert_error(client.get(url), 403, 101)
    assert_error(client.put(url, "status=discarded", content_type=FORM), 403, 101)
    review_request.refresh_from_db()
    assert review_request.status == "P"


def test_expand_obeys_the_policy(owner, other):
    from reviews.services import review_get_or_create_draft, review_publish

    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    review, _ = review_get_or_create_draft(review_request=review_request, user=other)
    review.body_top = "SECRET REVIEW"
    review.save()
    review_publish(review=review)
    policy = {"resources": {"review": {"*": {"block": ["*"]}}, "user": {"*": {"block": ["*"]}}}}
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    assert_error(client.get(f"/api/review-requests/{review_request.pk}/reviews/"), 403, 101)
    response = client.get(f"/api/review-requests/{review_request.pk}/?expand=reviews,submitter")
    body = assert_ok(response)["review_request"]
    assert b"SECRET REVIEW" not in response.content
    assert "reviews" in body["links"] and "reviews" not in body
    assert "submitter" not in body or set(body["submitter"]) <= {"href", "method", "title"}
    session = assert_ok(client.get("/api/session/?expand=user"))["session"]
    assert "user" not in session


@pytest.mark.parametrize(
    "policy",
    [
        '{"resources": {"*": {"allow": ["GET"]}}, "x": NaN}',
        '{"resources": {"*": {"allow": ["GET"]}}, "x": 1e999}',
        '{"resources": {"*": {"allow": ["GET"]}}, "x": Infinity}',
        "[" * 100000,
        '{"resources": {"*": {"allow": ["GET"]}}, "x": ' + "[" * 200 + "]" * 200 + "}",
    ],
)
def test_hostile_policy_json_is_105(owner, owner_client, policy):
    body = assert_error(owner_client.post(url("doc"), {"note": "x", "policy": policy}), 400, 105)
    assert set(body["fields"]) == {"policy"}
    assert not WebAPIToken.objects.exists()


def test_null_characters_are_105(owner, owner_client):
    body = assert_error(
        owner_client.post(url("doc"), {"note": "a\x00b", "policy": "{}"}), 400, 105
    )
    assert body["fields"] == {"note": ["Null characters are not allowed."]}
    assert not WebAPIToken.objects.exists()


# --- regressions from the second review ---------------------------------------------------------
@pytest.mark.parametrize(
    "policy",
    [
        '{"resources": {"*": {"allow": ["\\u0000"]}}}',
        '{"resources": {"\\u0000": {"*": {"allow": ["GET"]}}}}',
        '{"resources": {"*": {"allow": ["\\ud800"]}}}',
    ],
)
def test_policy_strings_a_database_cannot_store_are_105(owner, owner_client, policy):
    body = assert_error(owner_client.post(url("doc"), {"note": "x", "policy": policy}), 400, 105)
    assert set(body["fields"]) == {"policy"}
    assert not WebAPIToken.objects.exists()


@pytest.mark.parametrize(
    "key", ["9223372036854775808", "99999999999999999999999", "0{pk}", "+{pk}", " {pk}"]
)
def test_odd_object_ids_in_policies_name_nothing(owner, key):
    """An ID that is not written as URLs are normalised (or cannot fit the column) names no
    object: the list and the item agree, and nothing fails."""
    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    policy = {
        "resources": {"review_request": {key.format(pk=review_request.pk): {"block": ["GET"]}}}
    }
    client = token_client(api_token_create(user=owner, note="x", policy=policy))
    assert assert_ok(client.get("/api/review-requests/?counts-only=1"))["count"] == 1
    assert assert_ok(client.get("/api/review-requests/"))["total_results"] == 1
    assert_ok(client.get(f"/api/review-requests/{review_request.pk}/"))


def test_null_characters_in_credentials_are_failed_logins(owner):
    import base64

    for credentials in ("do\x00c:doc", "doc:do\x00c", "doc\x00@example.com:doc"):
        header = "Basic " + base64.b64encode(credentials.encode()).decode()
        assert_error(Client().get("/api/", HTTP_AUTHORIZATION=header), 401, 104)
    assert_error(Client().get("/api/", HTTP_AUTHORIZATION="token rbp_\x00"), 401, 104)


def test_not_modified_keeps_the_rate_limit_headers(owner):
    client = logged_in_client(owner)
    first = client.get("/api/")
    again = client.get("/api/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["X-RateLimit-Limit"] == "10000"
    assert int(again["X-RateLimit-Remaining"]) == int(first["X-RateLimit-Remaining"]) - 1
