"""Sessions name their user, so a request reads its session and its user in one query
(``rbapi.session_store``), with every check Django makes on a session still made."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from rbapi.models import UserSession
from tests.conftest import basic_auth, make_user
from tests.factories import make_review_request


def api_login(username: str, password: str | None = None) -> Client:
    """A client logged in the way RBTools and bots do: Basic once, then the cookie."""
    client = Client()
    response = client.get("/api/session/", HTTP_AUTHORIZATION=basic_auth(username, password))
    assert response.status_code == 200
    assert response.json()["session"]["authenticated"] is True
    return client


def user_queries(queries: list[dict[str, Any]]) -> list[str]:
    """The queries that read a session or a user row (not those joining a submitter)."""
    reads = ('FROM "auth_user"', 'FROM "rbapi_session"')
    return [q["sql"] for q in queries if any(read in q["sql"] for read in reads)]


@pytest.fixture
def world(db) -> dict[str, Any]:
    owner = make_user("grumpy")
    doc = make_user("doc")
    review_request = make_review_request(submitter=owner, publish=True, people=[doc])
    return {"owner": owner, "review_request": review_request}


def test_a_write_reads_the_session_and_its_user_in_one_query(world):
    client = api_login("grumpy")
    url = f"/api/review-requests/{world['review_request'].pk}/status-updates/"
    with CaptureQueriesContext(connection) as captured:
        response = client.post(url, {"service_id": "ci", "summary": "build", "state": "pending"})
    assert response.status_code == 201, response.content
    (query,) = user_queries(captured.captured_queries)
    assert 'FROM "rbapi_session"' in query and 'JOIN "auth_user"' in query


def test_the_session_row_names_its_user(world):
    client = api_login("grumpy")
    row = UserSession.objects.get(session_key=client.cookies["rbsessionid"].value)
    assert row.user_id == world["owner"].pk
    assert row.get_decoded()["_auth_user_id"] == str(world["owner"].pk)


def test_a_changed_password_still_ends_the_session(world):
    client = api_login("grumpy")
    assert client.get("/api/session/").json()["session"]["authenticated"] is True
    owner = world["owner"]
    owner.set_password("another")
    owner.save()
    assert client.get("/api/session/").json()["session"]["authenticated"] is False
    response = client.post(f"/api/review-requests/{world['review_request'].pk}/reviews/")
    assert response.status_code == 401
    assert response.json()["err"]["code"] == 103


def test_a_deactivated_user_is_anonymous(world):
    client = api_login("grumpy")
    owner = world["owner"]
    owner.is_active = False
    owner.save()
    assert client.get("/api/session/").json()["session"]["authenticated"] is False


def test_deleting_the_user_deletes_their_sessions(world):
    client = api_login("grumpy")
    assert UserSession.objects.filter(user=world["owner"]).count() == 1
    world["review_request"].delete()
    world["owner"].delete()
    assert not UserSession.objects.exists()
    assert client.get("/api/session/").json()["session"]["authenticated"] is False


def test_a_session_made_by_djangos_own_login_still_works(world):
    """The test client (and any extension) logs in through ModelBackend: Django's two
    queries, same answer."""
    client = Client()
    assert client.login(username="grumpy", password="grumpy")
    assert client.get("/api/session/").json()["session"]["authenticated"] is True
    url = f"/api/review-requests/{world['review_request'].pk}/status-updates/"
    response = client.post(url, {"service_id": "ci", "summary": "build", "state": "pending"})
    assert response.status_code == 201


def test_logout_deletes_the_row(world):
    client = api_login("grumpy")
    assert client.delete("/api/session/").status_code == 204
    assert not UserSession.objects.exists()
    assert client.get("/api/session/").json()["session"]["authenticated"] is False


def test_the_session_links_to_itself_with_the_query_string(world):
    """As Review Board 8.1 does for singletons served at the request's own URL."""
    client = api_login("grumpy")
    links = client.get("/api/session/?only-links=self,delete").json()["session"]["links"]
    assert links["self"]["href"] == "http://testserver/api/session/?only-links=self,delete"
    assert links["delete"]["href"] == "http://testserver/api/session/"


def test_a_login_does_not_end_cached_answers(world):
    """A Basic request without a cookie starts a session (a row written): cached answers
    stay, or every bot's login would empty the response cache."""
    reader = api_login("grumpy")
    url = f"/api/review-requests/{world['review_request'].pk}/"
    assert reader.get(url).status_code == 200
    api_login("doc")
    with CaptureQueriesContext(connection) as captured:
        assert reader.get(url).status_code == 200
    assert len(captured.captured_queries) == 1, [q["sql"] for q in captured.captured_queries]


def test_decoded_data_is_kept_per_signed_text_and_never_shared(world):
    from django.contrib.sessions.backends.base import SessionBase

    from rbapi.session_store import SessionStore

    api_login("doc")
    row = UserSession.objects.get()
    first = SessionStore(row.session_key)
    data = dict(first.items())
    assert data  # a logged-in session: the user's id, backend and hash
    first["scratch"] = {"list": [1]}  # changing one session's data ...
    second = SessionStore(row.session_key)
    assert dict(second.items()) == data  # ... leaves what the next request reads unchanged
    fresh = SessionBase.decode(SessionStore(), row.session_data)  # Django's own, uncached
    assert SessionStore().decode(row.session_data) == fresh == data
    assert SessionStore().decode(row.session_data[:-3] + "xyz") == {}  # a bad signature
