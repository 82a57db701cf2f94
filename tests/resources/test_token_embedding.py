"""API token policies and OAuth2 scopes hold wherever an object is embedded (issue 10 item 5).

A token that a direct GET of an object would refuse (101 for a policy, 112 for a missing scope)
must not read that object's fields anywhere else either: not in links' titles, not with
``?expand=``, not in a change description's ``fields_changed``, not in ``depends_on`` /
``blocks``, not in a status update's ``review`` / ``change``, not in a review's ``user``, not in
``/last-update/``. Each row of the table names an embedding URL and the object embedded there;
the whole JSON body is searched for that object's sentinel strings, which an unrestricted token
does see. Blocked objects appear as untitled links at most.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import get_access_token_model

from changes.models import ChangeDescription
from oauth.models import Application
from reviews.models import Review, ReviewRequest
from reviews.services import draft_get_or_create, review_request_publish
from status_updates.models import StatusUpdate
from webapi.services import api_token_create

from ..conftest import assert_error, assert_ok, make_user
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
AccessToken = get_access_token_model()
BASE = "http://testserver"
DENY_ALL = {"block": ["*"]}


@dataclass
class World:
    owner: object
    reviewer: object  # the embedded user: target person, review author, last updater
    a: ReviewRequest  # depends on b; its change adds b and the reviewer
    b: ReviewRequest  # the embedded review request
    review: Review
    change: ChangeDescription
    status_update: StatusUpdate


@pytest.fixture
def world(owner, other) -> World:
    reviewer = make_user("sneezy", first_name="Secretfirst", last_name="Secretlast")
    b = make_review_request(
        submitter=owner,
        publish=True,
        people=[other],
        summary="SECRET-B-SUMMARY",
        description="SECRET-B-DESCRIPTION",
        extra_data={"note": "SECRET-B-EXTRA", "__private": "SECRET-B-PRIVATE"},
    )
    a = make_review_request(
        submitter=owner,
        publish=True,
        people=[other],
        summary="SECRET-A-SUMMARY",
        description="SECRET-A-DESCRIPTION",
        extra_data={"note": "SECRET-A-EXTRA"},
    )
    draft = draft_get_or_create(review_request=a)
    draft.depends_on.set([b])
    draft.target_people.set([other, reviewer])
    draft.changedesc.text = "SECRET-CHANGE-TEXT"
    draft.changedesc.save()
    review_request_publish(review_request=a, user=owner)
    # A draft again, for the draft row: it copies depends_on from the review request.
    draft_get_or_create(review_request=a)
    change = a.changedescs.get(public=True)
    review = Review.objects.create(
        review_request=a,
        user=reviewer,
        public=True,
        body_top="SECRET-REVIEW-BODY",
        extra_data={"note": "SECRET-REVIEW-EXTRA"},
        timestamp=timezone.now() + timedelta(seconds=5),
    )
    status_update = StatusUpdate.objects.create(
        review_request=a,
        user=owner,
        service_id="ci.example",
        summary="CI build",
        review=review,
        change_description=change,
    )
    return World(
        owner=owner,
        reviewer=reviewer,
        a=ReviewRequest.objects.get(pk=a.pk),
        b=ReviewRequest.objects.get(pk=b.pk),
        review=review,
        change=change,
        status_update=status_update,
    )


SENTINELS = {
    "b": ("SECRET-B-SUMMARY", "SECRET-B-DESCRIPTION", "SECRET-B-EXTRA"),
    "a": ("SECRET-A-SUMMARY", "SECRET-A-DESCRIPTION", "SECRET-A-EXTRA"),
    "reviewer": ("Secretfirst", "Secretlast"),
    "review": ("SECRET-REVIEW-BODY", "SECRET-REVIEW-EXTRA"),
    "change": ("SECRET-CHANGE-TEXT",),
}


@dataclass(frozen=True)
class Place:
    """One place an object is embedded: the URL (filled from the world), the embedded object
    (a key of SENTINELS), its resource's policy ID, how a policy names it, and the scopes an
    OAuth2 token needs to read the embedding URL itself (None: not testable by scope, the
    embedding and embedded resources being the same)."""

    name: str
    url: str
    embedded: str
    policy_id: str
    outer_scopes: tuple[str, ...] | None
    # Only linked here (not expanded): an unrestricted token sees just the title.
    linked_only: bool = False


PLACES = [
    Place(
        "fields_changed.depends_on",
        "/api/review-requests/{a}/changes/",
        "b",
        "review_request",
        ("change:read",),
    ),
    Place(
        "fields_changed.depends_on (item)",
        "/api/review-requests/{a}/changes/{change}/",
        "b",
        "review_request",
        ("change:read",),
    ),
    Place(
        "fields_changed.target_people",
        "/api/review-requests/{a}/changes/",
        "reviewer",
        "user",
        ("change:read",),
    ),
    Place(
        "review request depends_on",
        "/api/review-requests/{a}/",
        "b",
        "review_request",
        None,
        linked_only=True,
    ),
    Place(
        "review request depends_on, expanded",
        "/api/review-requests/{a}/?expand=depends_on",
        "b",
        "review_request",
        None,
    ),
    Place(
        "review request blocks, expanded",
        "/api/review-requests/{b}/?expand=blocks",
        "a",
        "review_request",
        None,
    ),
    Place(
        "review request target_people, expanded",
        "/api/review-requests/{a}/?expand=target_people,submitter",
        "reviewer",
        "user",
        ("review_request:read",),
    ),
    Place(
        "review request's reviews, expanded",
        "/api/review-requests/{a}/?expand=reviews",
        "review",
        "review",
        ("review_request:read",),
    ),
    Place(
        "draft depends_on, expanded",
        "/api/review-requests/{a}/draft/?expand=depends_on",
        "b",
        "review_request",
        ("review_request_draft:read",),
    ),
    Place(
        "status update review, expanded",
        "/api/review-requests/{a}/status-updates/{status_update}/?expand=review",
        "review",
        "review",
        ("status_update:read",),
    ),
    Place(
        "status update change, expanded",
        "/api/review-requests/{a}/status-updates/{status_update}/?expand=change",
        "change",
        "change",
        ("status_update:read",),
    ),
    Place(
        "status update list, expanded",
        "/api/review-requests/{a}/status-updates/?expand=review,change",
        "review",
        "review",
        ("status_update:read",),
    ),
    Place(
        "review user, expanded",
        "/api/review-requests/{a}/reviews/{review}/?expand=user",
        "reviewer",
        "user",
        ("review:read",),
    ),
    Place(
        "last-update user",
        "/api/review-requests/{a}/last-update/",
        "reviewer",
        "user",
        ("review_request_last_update:read",),
    ),
]
IDS = [place.name for place in PLACES]
# Places where the embedded object's resource differs from the embedding URL's, so a token can
# be refused the one and allowed the other wholesale (by policy or by scope).
SCOPED = [place for place in PLACES if place.outer_scopes is not None]
SCOPED_IDS = [place.name for place in SCOPED]


def fill(url: str, world: World) -> str:
    return url.format(
        a=world.a.pk,
        b=world.b.pk,
        change=world.change.pk,
        review=world.review.pk,
        status_update=world.status_update.pk,
    )


def object_id(place: Place, world: World) -> str:
    """The embedded object's ID as a policy writes it (its URL key)."""
    if place.embedded == "reviewer":
        return world.reviewer.username
    return str(getattr(world, place.embedded).pk)


def token_client(owner, policy: dict) -> Client:
    token = api_token_create(user=owner, note="", policy=policy)
    return Client(HTTP_AUTHORIZATION=f"token {token.token}")


def bearer_client(owner, scopes: list[str]) -> Client:
    app = Application.objects.create(
        user=owner, name="ci", client_type="confidential", authorization_grant_type="password"
    )
    raw = secrets.token_urlsafe(24)
    AccessToken.objects.create(
        user=owner,
        application=app,
        token=raw,
        scope=" ".join(scopes),
        expires=timezone.now() + timedelta(hours=1),
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def leaked(body: bytes, place: Place) -> list[str]:
    text = body.decode()
    return [sentinel for sentinel in SENTINELS[place.embedded] if sentinel in text]


def blocked_links(body: dict, world: World, place: Place) -> list[dict]:
    """Every link object in the body that points at the embedded object."""
    target = {
        "b": f"/api/review-requests/{world.b.pk}/",
        "a": f"/api/review-requests/{world.a.pk}/",
        "reviewer": f"/api/users/{world.reviewer.username}/",
        "review": f"/api/review-requests/{world.a.pk}/reviews/{world.review.pk}/",
        "change": f"/api/review-requests/{world.a.pk}/changes/{world.change.pk}/",
    }[place.embedded]
    found: list[dict] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if value.get("href") == BASE + target and value.get("method") == "GET":
                found.append(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return found


def assert_blocked(response, world: World, place: Place) -> None:
    body = assert_ok(response)
    assert leaked(response.content, place) == []
    # What the token may not read is an untitled link at most.
    for found in blocked_links(body, world, place):
        assert set(found) == {"href", "method"}, found


# --- the table ---------------------------------------------------------------------------------
@pytest.mark.parametrize("place", PLACES, ids=IDS)
def test_unrestricted_token_sees_the_embedded_object(world, place):
    response = token_client(world.owner, {}).get(fill(place.url, world))
    assert_ok(response)
    expected = SENTINELS[place.embedded][:1] if place.linked_only else SENTINELS[place.embedded]
    assert leaked(response.content, place) == list(expected)
    # Private extra_data keys are never shown, to anyone.
    assert "SECRET-B-PRIVATE" not in response.content.decode()


@pytest.mark.parametrize("place", SCOPED, ids=SCOPED_IDS)
def test_policy_denying_the_embedded_resource(world, place):
    policy = {"resources": {place.policy_id: {"*": DENY_ALL}}}
    client = token_client(world.owner, policy)
    assert_blocked(client.get(fill(place.url, world)), world, place)


@pytest.mark.parametrize("place", PLACES, ids=IDS)
def test_policy_denying_just_the_embedded_object(world, place):
    policy = {"resources": {place.policy_id: {object_id(place, world): DENY_ALL}}}
    client = token_client(world.owner, policy)
    response = client.get(fill(place.url, world))
    assert_blocked(response, world, place)
    # A link to the object is still there (untitled), where the place links it at all.
    if place.embedded in ("b", "a") and "changes" not in place.url:
        assert blocked_links(assert_ok(response), world, place)


@pytest.mark.parametrize("place", SCOPED, ids=SCOPED_IDS)
def test_oauth2_token_without_the_embedded_read_scope(world, place):
    client = bearer_client(world.owner, list(place.outer_scopes))
    assert_blocked(client.get(fill(place.url, world)), world, place)


@pytest.mark.parametrize("place", SCOPED, ids=SCOPED_IDS)
def test_oauth2_token_with_the_embedded_read_scope(world, place):
    scopes = [*place.outer_scopes, f"{place.policy_id}:read"]
    response = bearer_client(world.owner, scopes).get(fill(place.url, world))
    assert_ok(response)
    assert leaked(response.content, place) == list(SENTINELS[place.embedded])


def test_the_direct_get_is_refused_as_the_embedding_now_is(world):
    """The baseline of the table: the blocked object itself answers 101 / 112."""
    policy = {"resources": {"review_request": {"*": DENY_ALL}}}
    assert_error(
        token_client(world.owner, policy).get(f"/api/review-requests/{world.b.pk}/"), 403, 101
    )
    client = bearer_client(world.owner, ["change:read"])
    assert_error(client.get(f"/api/review-requests/{world.b.pk}/"), 403, 112)


def test_fields_changed_entry_is_an_untitled_link(world):
    policy = {"resources": {"review_request": {"*": DENY_ALL}}}
    client = token_client(world.owner, policy)
    body = assert_ok(client.get(f"/api/review-requests/{world.a.pk}/changes/{world.change.pk}/"))
    depends_on = body["change"]["fields_changed"]["depends_on"]
    href = f"{BASE}/api/review-requests/{world.b.pk}/"
    assert depends_on == {
        "added": [{"href": href, "method": "GET"}],
        "new": [{"href": href, "method": "GET"}],
        "old": [],
        "removed": [],
    }
    # The reviewer (users are not blocked by this policy) is still there in full.
    people = body["change"]["fields_changed"]["target_people"]["new"]
    assert [person["username"] for person in people] == ["grumpy", "sneezy"]


def test_blocked_link_keeps_its_key_but_loses_its_title(world):
    policy = {"resources": {"user": {"*": DENY_ALL}}}
    client = token_client(world.owner, policy)
    url = f"/api/review-requests/{world.a.pk}/reviews/{world.review.pk}/?expand=user"
    review = assert_ok(client.get(url))["review"]
    assert "user" not in review
    assert "_expanded" not in review
    assert review["links"]["user"] == {
        "href": f"{BASE}/api/users/sneezy/",
        "method": "GET",
    }
    # Unrestricted: the same link is titled, and expand works.
    unrestricted = assert_ok(token_client(world.owner, {}).get(url))["review"]
    assert unrestricted["user"]["username"] == "sneezy"
    plain = assert_ok(token_client(world.owner, {}).get(url.split("?")[0]))["review"]
    assert plain["links"]["user"]["title"] == "sneezy"


def test_last_update_user_is_a_link_for_a_token_without_user_read(world):
    client = bearer_client(world.owner, ["review_request_last_update:read"])
    body = assert_ok(client.get(f"/api/review-requests/{world.a.pk}/last-update/"))
    assert body["last_update"]["user"] == {
        "href": f"{BASE}/api/users/sneezy/",
        "method": "GET",
    }
    assert body["last_update"]["type"] == "review"


# --- constant queries per page -----------------------------------------------------------------
def _changes_with_dependencies(owner, other, count: int) -> ReviewRequest:
    """A review request with ``count`` public changes, each adding a new dependency."""
    holder = make_review_request(submitter=owner, publish=True, people=[other])
    for index in range(count):
        dependency = make_review_request(
            submitter=owner, publish=True, people=[other], summary=f"SECRET-DEP-{index}"
        )
        ChangeDescription.objects.create(
            review_request=holder,
            public=True,
            text=f"change {index}",
            fields_changed={
                "depends_on": {
                    "added": [[dependency.summary, "", dependency.pk]],
                    "new": [[dependency.summary, "", dependency.pk]],
                    "old": [],
                    "removed": [],
                },
                "target_people": {"new": [["doc", "", owner.pk]], "old": []},
            },
        )
    return holder


def _query_count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert_ok(response)
    assert "SECRET-DEP" not in response.content.decode()
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    "policy",
    [
        {"resources": {"review_request": {"*": DENY_ALL}}},
        {"resources": {"user": {"*": DENY_ALL}, "review_request": {"*": DENY_ALL}}},
    ],
    ids=["review_request", "user+review_request"],
)
def test_changes_page_costs_the_same_for_1_and_20_items(owner, other, policy, settings):
    # What a page costs to compute, not to replay from the response cache.
    settings.RBAPI_RESPONSE_CACHE = False
    small = _changes_with_dependencies(owner, other, 1)
    large = _changes_with_dependencies(owner, other, 20)
    client = token_client(owner, policy)
    url = "/api/review-requests/{}/changes/"
    client.get(url.format(small.pk))  # warm the token's session
    one = _query_count(client, url.format(small.pk))
    twenty = _query_count(client, url.format(large.pk))
    assert one == twenty


def test_review_request_page_costs_the_same_for_1_and_20_items(owner, other):
    def build(count: int, tag: str) -> None:
        for index in range(count):
            dependency = make_review_request(
                submitter=owner, publish=True, people=[other], summary=f"SECRET-DEP-{tag}{index}"
            )
            holder = make_review_request(
                submitter=owner,
                publish=True,
                people=[other],
                summary=f"holder {tag}{index}",
                branch=tag,
            )
            holder.depends_on.set([dependency])

    build(1, "one")
    build(20, "many")
    blocked = list(
        ReviewRequest.objects.filter(summary__startswith="SECRET-DEP").values_list("pk", flat=True)
    )
    policy = {"resources": {"review_request": {str(pk): DENY_ALL for pk in blocked}}}
    client = token_client(owner, policy)
    url = "/api/review-requests/?branch={}&expand=depends_on,blocks"
    client.get(url.format("one"))
    one = _query_count(client, url.format("one"))
    twenty = _query_count(client, url.format("many"))
    assert one == twenty
    body = json.loads(client.get(url.format("many")).content)
    assert body["total_results"] == 20
    assert all(len(item["depends_on"]) == 1 for item in body["review_requests"])
