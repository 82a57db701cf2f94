"""``rbapi.filters``: typed query filters that fail in Review Board's words, every bad
argument at once, and ignore empty ones."""

from __future__ import annotations

import pytest
from django import forms

from rbapi import filters
from reviews.models import Group

from ..conftest import assert_error, assert_ok, logged_in_client, make_user
from ..factories import make_review_request

pytestmark = pytest.mark.django_db


def test_every_bad_argument_is_named_at_once(anon_client):
    response = anon_client.get(
        "/api/review-requests/?ship-it-count-gte=abc&time-added-from=nope&repository=٣"
        "&changenum=1.5"
    )
    body = assert_error(response, 400, 105)
    assert body["fields"] == {
        "ship-it-count-gte": ['"abc" is not an integer'],
        "time-added-from": ["This timestamp is not a valid ISO 8601 date/time"],
        "repository": ['"٣" is not an integer'],
        "changenum": ['"1.5" is not an integer'],
    }


def test_empty_arguments_are_ignored(anon_client):
    owner = make_user("doc")
    make_review_request(submitter=owner, publish=True, people=[owner])
    body = assert_ok(anon_client.get("/api/review-requests/?ship-it=&ship-it-count=&to-users="))
    assert body["total_results"] == 1


@pytest.mark.parametrize(("value", "count"), [("1", 0), ("TRUE", 0), ("0", 1), ("no", 1)])
def test_boolean_argument(anon_client, value, count):
    owner = make_user("doc")
    make_review_request(submitter=owner, publish=True, people=[owner])
    body = assert_ok(anon_client.get(f"/api/review-requests/?ship-it={value}"))
    assert body["total_results"] == count


def test_status_update_filters(anon_client):
    owner = make_user("doc")
    review_request = make_review_request(submitter=owner, publish=True, people=[owner])
    url = f"/api/review-requests/{review_request.pk}/status-updates/"
    body = assert_error(anon_client.get(f"{url}?change=abc&state=bogus"), 400, 105)
    assert body["fields"] == {
        "change": ['"abc" is not a valid ID'],
        "state": [
            '"bogus" is not a valid value. Valid values are: "cancelled", "done-failure", '
            '"done-success", "error", "not-yet-run", "pending", "timed-out"'
        ],
    }


def test_group_boolean_filter(anon_client):
    Group.objects.create(name="open", display_name="Open")
    Group.objects.create(name="closed", display_name="Closed", invite_only=True)
    client = logged_in_client(make_user("admin2", superuser=True))
    names = [g["name"] for g in assert_ok(client.get("/api/groups/?invite-only=1"))["groups"]]
    assert names == ["closed"]
    names = [g["name"] for g in assert_ok(client.get("/api/groups/?invite-only=0"))["groups"]]
    assert names == ["open"]


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        (filters.RBIntegerField(), "9" * 20, f'"{"9" * 20}" is not an integer'),
        (filters.RBIDField(), "-1", '"-1" is not a valid ID'),
        (
            filters.RBChoiceField(choices=("a", "b")),
            "c",
            '"c" is not a valid value. Valid values are: "a", "b"',
        ),
    ],
)
def test_field_messages(field, raw, message):
    with pytest.raises(forms.ValidationError) as info:
        field.clean(raw)
    assert info.value.messages == [message]


def test_comma_list_field():
    assert filters.RBCommaListField().clean("a, b,,") == ["a", "b"]
    assert filters.RBCommaListField().clean('["a", "b"]') == ["a", "b"]


def test_unknown_user_in_a_to_users_filter_is_100(anon_client):
    assert_error(anon_client.get("/api/review-requests/?to-users=nosuch"), 404, 100)
