"""rbapi.response_cache: cached GET answers equal fresh ones, and every write ends them.

For every cacheable route of the registry a second GET is served from the cache (one query:
the generation) with the very bytes, mimetype and ETag a fresh computation gives; a matching
``If-None-Match`` is a 304 from the cache. Writes through the API, writes to objects a body
only embeds, writes outside any request (ORM saves, ``UPDATE`` counters moved by services),
and changes of the viewer's access all give the next GET a fresh answer.
"""

from __future__ import annotations

import gzip

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rbapi import response_cache
from rbapi.models import CacheGeneration
from rbapi.registry import build_tree
from reviews.models import Group, ReviewRequest

from ..conformance.test_endpoints import route_id, url_of, world  # noqa: F401
from ..conftest import logged_in_client, make_user

ROUTES = [route for route in build_tree() if route.resource.cacheable]
UNCACHED = [route for route in build_tree() if not route.resource.cacheable]


def fresh(client: Client, url: str, settings, **headers):
    """The answer computed from scratch (the cache switched off for this one request)."""
    settings.RBAPI_RESPONSE_CACHE = False
    try:
        return client.get(url, **headers)
    finally:
        settings.RBAPI_RESPONSE_CACHE = True


def queries_for(client: Client, url: str, **headers) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    return len(captured.captured_queries), response


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
@pytest.mark.parametrize("accept", ["application/json", "application/xml"])
def test_cached_answer_equals_fresh_answer(route, accept, world, settings):  # noqa: F811
    client = world["client"]
    url = url_of(route, world)
    first = client.get(url, HTTP_ACCEPT=accept)
    if first.status_code != 200:
        pytest.skip(f"{url} answers {first.status_code}: nothing to cache")
    count, cached = queries_for(client, url, HTTP_ACCEPT=accept)
    # The session, its user and the generation: nothing of the body is read again.
    assert count <= 3, f"{url}: a cached answer costs only the login and the generation"
    again = fresh(client, url, settings, HTTP_ACCEPT=accept)
    for response in (cached, again):
        assert response.status_code == 200
        assert response.content == first.content
        assert response["Content-Type"] == first["Content-Type"]
        assert response["ETag"] == first["ETag"]
        assert response.get("Item-Content-Type") == first.get("Item-Content-Type")
    not_modified = client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == first["ETag"]
    assert "Content-Type" not in not_modified


@pytest.mark.parametrize("route", UNCACHED, ids=route_id)
def test_resources_that_depend_on_time_or_reads_are_never_cached(route, world):  # noqa: F811
    client = world["client"]
    url = url_of(route, world)
    client.get(url)
    count, _response = queries_for(client, url)
    assert count > 1, f"{url} must be computed afresh every time"


def test_the_viewer_is_part_of_the_key(world):  # noqa: F811
    url = f"/api/review-requests/{world['review_request_id']}/draft/"
    admin = world["client"]
    assert admin.get(url).status_code == 200
    assert admin.get(url).status_code == 200
    outsider = logged_in_client(make_user("outsider"))
    assert outsider.get(url).status_code == 403
    assert Client().get(url).status_code == 401


def test_a_write_through_the_api_ends_the_cached_answer(world, settings):  # noqa: F811
    admin = world["client"]
    url = f"/api/review-requests/{world['review_request_id']}/"
    before = admin.get(url)
    assert admin.get(url).content == before.content
    response = admin.put(
        url, "extra_data.build=42", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    after = admin.get(url)
    assert after.content != before.content
    assert b'"build": 42' in after.content
    assert after.content == fresh(admin, url, settings).content


def test_an_embedded_object_changing_ends_the_cached_answer(world, settings):  # noqa: F811
    """The review request's body embeds its target people's names (links with titles): an
    edit of the user through the API is seen at once."""
    admin = world["client"]
    url = f"/api/review-requests/{world['review_request_id']}/?expand=target_people"
    plain = f"/api/review-requests/{world['review_request_id']}/"
    admin.get(plain)
    response = admin.put(
        "/api/users/doc/", {"first_name": "Doctor"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert b"Doctor" in admin.get(url).content
    assert admin.get(plain).content == fresh(admin, plain, settings).content


def test_counters_moved_by_update_statements_are_seen(world, settings):  # noqa: F811
    """Issue counters move with ``UPDATE ... SET n = n + 1`` (no model signal): the request
    that did it still ends the cached answers."""
    admin = world["client"]
    url = f"/api/review-requests/{world['review_request_id']}/"
    before = admin.get(url).json()["review_request"]["issue_open_count"]
    admin.get(url)
    comment_url = (
        f"/api/review-requests/{world['review_request_id']}/reviews/{world['review_id']}/"
        f"general-comments/{world['comment_id']}/"
    )
    response = admin.put(
        comment_url, "issue_status=resolved", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.content
    after = admin.get(url).json()["review_request"]
    assert after["issue_open_count"] == before - 1
    assert after["issue_resolved_count"] == 1
    assert admin.get(url).content == fresh(admin, url, settings).content


def test_a_change_of_access_is_seen_at_once(world):  # noqa: F811
    """Making a review request private (an invite-only target group) hides it from a viewer
    who had it cached."""
    viewer = logged_in_client(make_user("viewer"))
    url = f"/api/review-requests/{world['review_request_id']}/"
    assert viewer.get(url).status_code == 200
    assert viewer.get(url).status_code == 200
    secret = Group.objects.create(name="secret", invite_only=True)
    rr = ReviewRequest.objects.get(pk=world["review_request_id"])
    rr.target_groups.set([secret])
    rr.target_people.clear()
    assert viewer.get(url).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_committed_writes_outside_requests_move_the_shared_generation():
    """Other processes and machines see writes through the database's generation row, moved
    once per committed transaction, also for writes made outside any request."""
    generation = CacheGeneration.objects.get(pk=1).value
    with transaction.atomic():
        Group.objects.create(name="a")
        Group.objects.create(name="b")
    assert CacheGeneration.objects.get(pk=1).value == generation + 1
    Group.objects.filter(name="a").delete()
    assert CacheGeneration.objects.get(pk=1).value == generation + 2
    with transaction.atomic():
        Group.objects.create(name="c")
        transaction.set_rollback(True)
    assert CacheGeneration.objects.get(pk=1).value == generation + 2


@pytest.mark.django_db(transaction=True)
def test_a_write_request_moves_the_shared_generation():
    make_user("admin", superuser=True)
    generation = response_cache.current_generation()
    client = logged_in_client(make_user("doc"))
    response = client.post("/api/review-requests/")
    assert response.status_code == 201
    assert response_cache.current_generation() != generation
    shared = CacheGeneration.objects.get(pk=1).value
    assert shared > int(generation.split(".")[0])


# --- the fast path (FastPathMiddleware) -------------------------------------------------------

HEADERS = (
    "Content-Type",
    "ETag",
    "Vary",
    "Item-Content-Type",
    "X-RateLimit-Limit",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Content-Encoding",
    "Content-Length",
)


def _same_answer(fast, slow) -> None:
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    for header in HEADERS:
        assert fast.get(header) == slow.get(header), header


@pytest.mark.parametrize("who", ["anonymous", "session"])
@pytest.mark.parametrize(
    "path", ["/api/", "/api/review-requests/", "/api/review-requests/{review_request_id}/"]
)
def test_fast_path_answers_with_one_query(who, path, world, settings):  # noqa: F811
    settings.RBAPI_RATE_LIMIT_ANONYMOUS = "100/h"
    settings.RBAPI_RATE_LIMIT_AUTHENTICATED = "100/h"
    client = world["client"] if who == "session" else Client()
    url = path.format(**world)
    slow = client.get(url)
    count, fast = queries_for(client, url)
    assert count == 1, "the generation and the session's expiry, in one query"
    _same_answer(fast, slow)
    assert int(fast["X-RateLimit-Remaining"]) == int(slow["X-RateLimit-Remaining"]) - 1
    count, not_modified = queries_for(client, url, HTTP_IF_NONE_MATCH=slow["ETag"])
    assert (count, not_modified.status_code) == (1, 304)
    assert not_modified["ETag"] == slow["ETag"]
    assert not_modified.content == b""
    # No body, so no Content-Type (Django's default would be text/html).
    assert "Content-Type" not in not_modified


@pytest.mark.parametrize("who", ["anonymous", "session"])
def test_fast_path_answers_gzip_like_the_full_path(who, world):  # noqa: F811
    client = world["client"] if who == "session" else Client()
    url = "/api/review-requests/"
    slow = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    count, fast = queries_for(client, url, HTTP_ACCEPT_ENCODING="gzip")
    assert count == 1
    assert slow["Content-Encoding"] == fast["Content-Encoding"] == "gzip"
    # Django pads gzip bodies with random bytes (BREACH): compare what they hold.
    assert gzip.decompress(fast.content) == gzip.decompress(slow.content)
    for header in HEADERS:
        if header != "Content-Length":  # the padding differs
            assert fast.get(header) == slow.get(header), header
    assert fast["Content-Length"] == str(len(fast.content))


def test_an_answer_cached_for_one_accept_header_reaches_the_fast_path_for_another(world):  # noqa: F811
    """``Accept: application/json`` and no Accept at all mean the same answer (one normal-path
    entry); the second caller's fast path must be filled from it, or it would take the
    normal path forever (found halving last-update's throughput in the benchmark)."""
    client = world["client"]  # logged in: the normal path costs more than one query
    url = f"/api/review-requests/{world['review_request_id']}/last-update/"
    first = client.get(url, HTTP_ACCEPT="application/json")
    count, second = queries_for(client, url)
    assert count > 1  # no fast entry for this Accept yet: the normal path's entry answers
    assert second.content == first.content
    count, third = queries_for(client, url)
    assert count == 1, "the fast path answers from now on"
    assert third.content == first.content
    _same_answer(third, second)


def test_fast_path_follows_the_accept_header(world):  # noqa: F811
    client = Client()
    url = f"/api/review-requests/{world['review_request_id']}/"
    json_answer = client.get(url)
    xml_answer = client.get(url, HTTP_ACCEPT="application/xml")
    assert client.get(url, HTTP_ACCEPT="application/xml").content == xml_answer.content
    assert client.get(url).content == json_answer.content
    assert json_answer.content != xml_answer.content


def test_a_logged_out_session_is_not_served_its_old_answers(world):  # noqa: F811
    client = world["client"]
    url = f"/api/review-requests/{world['review_request_id']}/draft/"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    assert client.delete("/api/session/").status_code == 204
    assert client.get(url).status_code == 401


def test_an_expired_session_is_not_served_its_old_answers(world):  # noqa: F811
    from django.utils import timezone

    from rbapi.models import UserSession as Session

    client = world["client"]
    url = f"/api/review-requests/{world['review_request_id']}/draft/"
    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200
    Session.objects.update(expire_date=timezone.now())
    assert client.get(url).status_code == 401


def test_authorization_headers_never_take_the_fast_path(world, settings):  # noqa: F811
    from ..conftest import basic_auth

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    admin = make_user("boss", superuser=True)
    admin.set_password("pw")
    admin.save()
    client = Client()
    url = f"/api/review-requests/{world['review_request_id']}/"
    client.get(url, HTTP_AUTHORIZATION=basic_auth("boss", "pw"))
    count, response = queries_for(client, url, HTTP_AUTHORIZATION=basic_auth("boss", "pw"))
    assert response.status_code == 200
    assert count > 1
    wrong = Client().get(url, HTTP_AUTHORIZATION=basic_auth("boss", "nope"))
    assert wrong.status_code == 401
