"""/api/users/ and /api/users/{username}/."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from accounts.models import Profile

from ..conftest import assert_error, assert_ok, make_user

User = get_user_model()
pytestmark = pytest.mark.django_db
BASE = "http://testserver"


def gravatar(email: str, size: int) -> str:
    digest = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s={size}&d=mm"


def golden_user(user, *, private: bool = False) -> dict:
    name = user.username
    data = {
        "avatar_html": None,
        "avatar_url": gravatar(user.email, 48),
        "avatar_urls": {f"{n}x": gravatar(user.email, 48 * n) for n in (1, 2, 3)},
        "id": user.pk,
        "is_active": True,
        "links": {
            "api_tokens": {"href": f"{BASE}/api/users/{name}/api-tokens/", "method": "GET"},
            "archived_review_requests": {
                "href": f"{BASE}/api/users/{name}/archived-review-requests/",
                "method": "GET",
            },
            "muted_review_requests": {
                "href": f"{BASE}/api/users/{name}/muted-review-requests/",
                "method": "GET",
            },
            "self": {"href": f"{BASE}/api/users/{name}/", "method": "GET"},
            "update": {"href": f"{BASE}/api/users/{name}/", "method": "PUT"},
            "user_file_attachments": {
                "href": f"{BASE}/api/users/{name}/user-file-attachments/",
                "method": "GET",
            },
            "watched": {"href": f"{BASE}/api/users/{name}/watched/", "method": "GET"},
        },
        "url": f"/users/{name}/",
        "username": name,
    }
    if not private:
        data.update(
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            fullname=f"{user.first_name} {user.last_name}",
        )
    return data


class TestList:
    def test_anonymous_sees_no_names(self, owner, other, anon_client):
        response = anon_client.get("/api/users/")
        body = assert_ok(response, mimetype="users")
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.user+json"
        assert body == {
            "stat": "ok",
            "total_results": 2,
            "users": [golden_user(owner, private=True), golden_user(other, private=True)],
            "links": {
                "self": {"href": f"{BASE}/api/users/", "method": "GET"},
                "create": {"href": f"{BASE}/api/users/", "method": "POST"},
            },
        }

    def test_logged_in_sees_names(self, owner, other, owner_client):
        body = assert_ok(owner_client.get("/api/users/"))
        assert body["users"] == [golden_user(owner), golden_user(other)]

    def test_private_profiles_hide_names_from_others_but_not_self_or_staff(
        self, owner, other, owner_client, other_client, admin_client
    ):
        Profile.objects.create(user=other, is_private=True)
        assert assert_ok(owner_client.get("/api/users/grumpy/"))["user"] == golden_user(
            other, private=True
        )
        assert assert_ok(other_client.get("/api/users/grumpy/"))["user"] == golden_user(other)
        assert "email" in assert_ok(admin_client.get("/api/users/grumpy/"))["user"]

    def test_q_searches_usernames_and_visible_names(self, owner, other, owner_client, anon_client):
        make_user("dopey", first_name="Happy")
        names = lambda body: [u["username"] for u in body["users"]]  # noqa: E731
        assert names(assert_ok(owner_client.get("/api/users/?q=do"))) == ["doc", "dopey"]
        assert names(assert_ok(owner_client.get("/api/users/?q=hap"))) == ["dopey"]
        # Anonymous users cannot find people by name.
        assert names(assert_ok(anon_client.get("/api/users/?q=hap"))) == []
        Profile.objects.create(user=User.objects.get(username="dopey"), is_private=True)
        assert names(assert_ok(owner_client.get("/api/users/?q=hap"))) == []

    def test_inactive_users_only_on_request(self, owner, other, anon_client):
        other.is_active = False
        other.save()
        assert assert_ok(anon_client.get("/api/users/"))["total_results"] == 1
        body = assert_ok(anon_client.get("/api/users/?include-inactive=1"))
        assert [u["is_active"] for u in body["users"]] == [True, False]

    def test_page_cost_is_constant(self, anon_client, django_assert_max_num_queries):
        make_user("aaa")
        with django_assert_max_num_queries(3) as one:
            assert len(assert_ok(anon_client.get("/api/users/?max-results=1"))["users"]) == 1
        User.objects.bulk_create(
            [User(username=f"bulk{n:03d}", email=f"b{n}@example.com") for n in range(250)]
        )
        with django_assert_max_num_queries(len(one.captured_queries)):
            body = assert_ok(anon_client.get("/api/users/?max-results=1000"))
        assert len(body["users"]) == 200 and body["total_results"] == 251


class TestItem:
    def test_get(self, owner, anon_client):
        response = anon_client.get("/api/users/doc/")
        assert assert_ok(response, mimetype="user") == {
            "stat": "ok",
            "user": golden_user(owner, private=True),
        }

    def test_unknown_is_100(self, anon_client):
        body = assert_error(anon_client.get("/api/users/nobody/"), 404, 100)
        assert body["err"]["msg"] == "Object does not exist"

    def test_usernames_with_punctuation(self, anon_client, db):
        make_user("o'brien+ci@x.org")
        assert assert_ok(anon_client.get("/api/users/o'brien+ci@x.org/"))["user"]["id"]

    def test_put_self(self, owner, owner_client):
        response = owner_client.put(
            "/api/users/doc/",
            "first_name=Docky&email=d@x.org",
            content_type="application/x-www-form-urlencoded",
        )
        body = assert_ok(response, mimetype="user")
        assert (body["user"]["first_name"], body["user"]["email"]) == ("Docky", "d@x.org")
        owner.refresh_from_db()
        assert (owner.first_name, owner.last_name, owner.email) == ("Docky", "Dwarf", "d@x.org")

    def test_put_by_admin(self, owner, admin_client):
        assert_ok(
            admin_client.put(
                "/api/users/doc/", "last_name=Q", content_type="application/x-www-form-urlencoded"
            )
        )
        owner.refresh_from_db()
        assert owner.last_name == "Q"

    def test_put_by_holder_of_change_user(self, owner, other, other_client):
        other.user_permissions.add(Permission.objects.get(codename="change_user"))
        assert_ok(
            other_client.put(
                "/api/users/doc/", "last_name=Q", content_type="application/x-www-form-urlencoded"
            )
        )

    def test_put_other_is_101(self, owner, other_client):
        assert_error(
            other_client.put(
                "/api/users/doc/", "first_name=X", content_type="application/x-www-form-urlencoded"
            ),
            403,
            101,
        )
        owner.refresh_from_db()
        assert owner.first_name == "Doc"

    def test_put_bad_email_is_105(self, owner, owner_client):
        body = assert_error(
            owner_client.put(
                "/api/users/doc/", "email=nope", content_type="application/x-www-form-urlencoded"
            ),
            400,
            105,
        )
        assert list(body["fields"]) == ["email"]
        owner.refresh_from_db()
        assert owner.email == "doc@example.com"

    def test_delete_is_405(self, owner, admin_client):
        response = admin_client.delete("/api/users/doc/")
        assert_error(response, 405, 900)
        # Review Board's UserResource declares them in this order.
        assert response["Allow"] == "GET, PUT, POST"


class TestCreate:
    def test_admin_creates(self, admin_client):
        response = admin_client.post(
            "/api/users/",
            {
                "username": "sleepy",
                "password": "zzz",
                "email": "s@example.com",
                "first_name": "Sleepy",
                "last_name": "Dwarf",
            },
        )
        body = assert_ok(response, 201, mimetype="user")
        user = User.objects.get(username="sleepy")
        assert body["user"] == golden_user(user)
        assert user.check_password("zzz")

    def test_missing_fields(self, admin_client):
        body = assert_error(admin_client.post("/api/users/", {"username": "x"}), 400, 105)
        assert body["fields"] == {
            "password": ["This field is required"],
            "email": ["This field is required"],
        }

    def test_taken_username(self, owner, admin_client):
        body = assert_error(
            admin_client.post(
                "/api/users/", {"username": "doc", "password": "p", "email": "d2@example.com"}
            ),
            400,
            105,
        )
        assert body["fields"] == {
            "username": ["A user with the requested username already exists."]
        }

    def test_without_permission(self, owner_client):
        body = assert_error(
            owner_client.post(
                "/api/users/", {"username": "x", "password": "p", "email": "x@example.com"}
            ),
            403,
            101,
        )
        assert body["err"]["msg"] == "You do not have permission to create users."
        assert not User.objects.filter(username="x").exists()

    def test_anonymous(self, anon_client):
        assert_error(anon_client.post("/api/users/", {"username": "x"}), 401, 103)
