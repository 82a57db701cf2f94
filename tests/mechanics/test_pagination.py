"""rbapi.pagination: start, max-results, counts-only, total_results, next/prev links."""

from __future__ import annotations

import pytest

from ..conftest import assert_error, assert_ok, make_user


@pytest.fixture
def users(db):
    return [make_user(f"user{n:02d}") for n in range(7)]


pytestmark = pytest.mark.django_db


def test_default_page(users, anon_client):
    body = assert_ok(anon_client.get("/api/users/"), mimetype="users")
    assert body["total_results"] == 7
    assert [u["username"] for u in body["users"]] == [f"user{n:02d}" for n in range(7)]
    assert set(body["links"]) == {"self", "create"}


def test_next_and_prev_keep_other_arguments_sorted(users, anon_client):
    body = assert_ok(anon_client.get("/api/users/?start=3&max-results=2&q=user&foo=b,c"))
    assert [u["username"] for u in body["users"]] == ["user03", "user04"]
    assert body["links"]["self"]["href"] == (
        "http://testserver/api/users/?start=3&max-results=2&q=user&foo=b,c"
    )
    assert body["links"]["next"] == {
        "href": "http://testserver/api/users/?start=5&max-results=2&foo=b%2Cc&q=user",
        "method": "GET",
    }
    assert body["links"]["prev"]["href"] == (
        "http://testserver/api/users/?start=1&max-results=2&foo=b%2Cc&q=user"
    )


def test_a_repeated_argument_is_kept_once_with_its_last_value(users, anon_client):
    """As Review Board 8.1 (probed): ``?from-user=doc&from-user=admin`` filters on admin and
    its paging links say ``from-user=admin``."""
    body = assert_ok(anon_client.get("/api/users/?q=nobody&q=user&start=2&max-results=2"))
    assert [u["username"] for u in body["users"]] == ["user02", "user03"]
    assert body["links"]["prev"]["href"] == (
        "http://testserver/api/users/?start=0&max-results=2&q=user"
    )
    assert body["links"]["next"]["href"] == (
        "http://testserver/api/users/?start=4&max-results=2&q=user"
    )


def test_max_results_is_always_written_and_last_page_has_no_next(users, anon_client):
    body = assert_ok(anon_client.get("/api/users/?start=5"))
    assert "next" not in body["links"]
    assert body["links"]["prev"]["href"] == "http://testserver/api/users/?start=0&max-results=25"


def test_cap_is_200(db, anon_client):
    body = assert_ok(anon_client.get("/api/users/?max-results=1000000000"))
    assert body["total_results"] == 0


def test_cap_applies(users, anon_client, settings, monkeypatch):
    from rbapi import pagination

    monkeypatch.setattr(pagination, "MAX_RESULTS_CAP", 3)
    body = assert_ok(anon_client.get("/api/users/?max-results=50"))
    assert len(body["users"]) == 3
    assert body["links"]["next"]["href"].startswith(
        "http://testserver/api/users/?start=3&max-results=3"
    )


def test_negative_start_and_zero_max_are_clamped(users, anon_client):
    body = assert_ok(anon_client.get("/api/users/?start=-4&max-results=0"))
    assert [u["username"] for u in body["users"]] == ["user00"]


def test_start_past_the_end_is_an_empty_page(users, anon_client):
    body = assert_ok(anon_client.get("/api/users/?start=50"))
    assert body["users"] == [] and body["total_results"] == 7


@pytest.mark.parametrize("param", ["max-results", "start"])
def test_non_integers_are_105(users, anon_client, param):
    body = assert_error(anon_client.get(f"/api/users/?{param}=abc"), 400, 105)
    assert body["fields"] == {param: ['"abc" is not an integer']}


@pytest.mark.parametrize("value", ["1", "0", "true"])
def test_counts_only(users, anon_client, value):
    response = anon_client.get(f"/api/users/?counts-only={value}")
    assert response.content == b'{"count": 7, "stat": "ok"}'
    assert response["Content-Type"] == "application/vnd.reviewboard.org.users+json"
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.user+json"


def test_empty_counts_only_is_a_normal_list(users, anon_client):
    assert "users" in assert_ok(anon_client.get("/api/users/?counts-only="))
