"""What a CI bot's status-update writes cost the database, statement by statement (issue 12:
the fewest statements that keep the reliability guarantees). Counted on real transactions,
logged in as bots are (Basic once, then the session cookie)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_user
from tests.factories import make_review_request
from tests.mechanics.test_session_store import api_login

DATA = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def data_statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if DATA.match(q["sql"])]


@pytest.fixture
def world(transactional_db):
    bot = make_user("ci-bot")
    doc = make_user("doc")
    review_request = make_review_request(submitter=bot, publish=True, people=[doc])
    return {"review_request": review_request, "client": api_login("ci-bot")}


def test_post_a_status_update(world):
    url = f"/api/review-requests/{world['review_request'].pk}/status-updates/"
    with CaptureQueriesContext(connection) as captured:
        response = world["client"].post(
            url, {"service_id": "ci", "summary": "build", "state": "pending"}
        )
    assert response.status_code == 201, response.content
    statements = data_statements(captured)
    # session + user; the review request (access); its lock; the insert; the generation.
    assert len(statements) == 5, statements
    assert "FOR UPDATE" in statements[2] or connection.vendor == "sqlite"
    assert statements[3].startswith("INSERT")


def test_put_a_status_update(world):
    url = f"/api/review-requests/{world['review_request'].pk}/status-updates/"
    created = world["client"].post(url, {"service_id": "ci", "summary": "b", "state": "pending"})
    item = f"{url}{created.json()['status_update']['id']}/"
    with CaptureQueriesContext(connection) as captured:
        response = world["client"].put(
            item, "state=done-success&description=passed", "application/x-www-form-urlencoded"
        )
    assert response.status_code == 200, response.content
    assert response.json()["status_update"]["state"] == "done-success"
    statements = data_statements(captured)
    # session + user; review request and status update (access); both locks, in order (the
    # status update re-read under its lock); the update; the generation.
    assert len(statements) == 7, statements
    assert 'FROM "reviews_reviewrequest"' in statements[3]
    assert 'FROM "status_updates_statusupdate"' in statements[4]
    assert statements[5].startswith("UPDATE")
