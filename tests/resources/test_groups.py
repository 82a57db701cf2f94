"""/api/groups/, /api/groups/{group_name}/ and the members under /users/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from reviews.models import Group

from ..conftest import assert_error, assert_ok

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


def golden_group(group: Group) -> dict:
    href = f"{BASE}/api/groups/{group.name}/"
    return {
        "absolute_url": f"{BASE}/groups/{group.name}/",
        "display_name": group.display_name,
        "extra_data": {},
        "id": group.pk,
        "invite_only": group.invite_only,
        "links": {
            "delete": {"href": href, "method": "DELETE"},
            "review_group_users": {"href": f"{href}users/", "method": "GET"},
            "self": {"href": href, "method": "GET"},
            "update": {"href": href, "method": "PUT"},
        },
        "mailing_list": group.mailing_list,
        "name": group.name,
        "url": f"/groups/{group.name}/",
        "visible": group.visible,
    }


@pytest.fixture
def devs(owner, other):
    group = Group.objects.create(
        name="devs", display_name="Developers", mailing_list="devs@example.com"
    )
    group.users.add(owner, other)
    return group


@pytest.fixture
def secret(owner):
    group = Group.objects.create(name="secret", display_name="Secret", invite_only=True)
    group.users.add(owner)
    return group


@pytest.fixture
def hidden(db):
    return Group.objects.create(name="hidden", display_name="Hidden", visible=False)


def names(body) -> list[str]:
    return [group["name"] for group in body["groups"]]


class TestList:
    def test_golden(self, devs, anon_client):
        response = anon_client.get("/api/groups/")
        body = assert_ok(response, mimetype="review-groups")
        assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.review-group+json"
        assert body == {
            "stat": "ok",
            "total_results": 1,
            "groups": [golden_group(devs)],
            "links": {
                "self": {"href": f"{BASE}/api/groups/", "method": "GET"},
                "create": {"href": f"{BASE}/api/groups/", "method": "POST"},
            },
        }

    def test_visibility(
        self, devs, secret, hidden, anon_client, owner_client, other_client, admin_client
    ):
        assert names(assert_ok(anon_client.get("/api/groups/"))) == ["devs"]
        assert names(assert_ok(other_client.get("/api/groups/"))) == ["devs"]
        assert names(assert_ok(owner_client.get("/api/groups/"))) == ["devs", "secret"]
        assert names(assert_ok(admin_client.get("/api/groups/"))) == ["devs", "secret"]
        assert names(assert_ok(admin_client.get("/api/groups/?show-invisible=1"))) == [
            "devs",
            "hidden",
            "secret",
        ]
        assert names(assert_ok(anon_client.get("/api/groups/?show-invisible=true"))) == [
            "devs",
            "hidden",
        ]
        assert assert_ok(anon_client.get("/api/groups/?counts-only=1"))["count"] == 1

    def test_filters(self, devs, secret, owner_client):
        assert names(assert_ok(owner_client.get("/api/groups/?q=se"))) == ["secret"]
        assert names(assert_ok(owner_client.get("/api/groups/?q=Dev&displayname=1"))) == ["devs"]
        assert names(assert_ok(owner_client.get("/api/groups/?invite-only=1"))) == ["secret"]
        assert names(assert_ok(owner_client.get("/api/groups/?invite-only=0"))) == ["devs"]

    def test_page_cost_is_constant(self, anon_client, django_assert_max_num_queries):
        Group.objects.create(name="g000", display_name="G")
        with django_assert_max_num_queries(3) as one:
            assert_ok(anon_client.get("/api/groups/"))
        Group.objects.bulk_create(
            [Group(name=f"g{n:03d}", display_name="G") for n in range(1, 60)]
        )
        with django_assert_max_num_queries(len(one.captured_queries)):
            assert len(assert_ok(anon_client.get("/api/groups/?max-results=60"))["groups"]) == 60


class TestItem:
    def test_get(self, devs, anon_client):
        body = assert_ok(anon_client.get("/api/groups/devs/"), mimetype="review-group")
        assert body == {"stat": "ok", "group": golden_group(devs)}

    def test_invite_only_is_hidden_from_non_members(
        self, secret, anon_client, other_client, owner_client
    ):
        assert_error(anon_client.get("/api/groups/secret/"), 401, 103)
        assert_error(other_client.get("/api/groups/secret/"), 403, 101)
        assert_error(other_client.get("/api/groups/secret/users/"), 403, 101)
        assert assert_ok(owner_client.get("/api/groups/secret/"))["group"]["name"] == "secret"

    def test_unknown(self, anon_client):
        assert_error(anon_client.get("/api/groups/nope/"), 404, 100)
        assert_error(anon_client.get("/api/groups/nope/users/"), 404, 100)


class TestWrites:
    def test_create(self, admin_client):
        response = admin_client.post(
            "/api/groups/",
            {
                "name": "qa",
                "display_name": "QA",
                "mailing_list": "qa@example.com",
                "visible": "0",
                "invite_only": "true",
            },
        )
        body = assert_ok(response, 201, mimetype="review-group")
        group = Group.objects.get(name="qa")
        assert body["group"] == golden_group(group)
        assert (group.visible, group.invite_only) == (False, True)

    def test_create_conflict_is_223(self, devs, admin_client):
        body = assert_error(
            admin_client.post("/api/groups/", {"name": "devs", "display_name": "Again"}), 409, 223
        )
        assert body["err"]["msg"] == "A group with this name already exists."
        assert Group.objects.get(name="devs").display_name == "Developers"

    def test_create_missing_and_invalid_fields(self, admin_client):
        body = assert_error(admin_client.post("/api/groups/", {}), 400, 105)
        assert body["fields"] == {
            "name": ["This field is required"],
            "display_name": ["This field is required"],
        }
        body = assert_error(
            admin_client.post("/api/groups/", {"name": "bad name", "display_name": "x"}), 400, 105
        )
        assert list(body["fields"]) == ["name"]
        assert not Group.objects.exists()

    def test_create_needs_permission(self, owner, owner_client):
        assert_error(
            owner_client.post("/api/groups/", {"name": "a", "display_name": "A"}), 403, 101
        )
        owner.user_permissions.add(
            Permission.objects.get(codename="add_group", content_type__app_label="reviews")
        )
        assert_ok(owner_client.post("/api/groups/", {"name": "a", "display_name": "A"}), 201)

    def test_update(self, devs, admin_client):
        response = admin_client.put(
            "/api/groups/devs/",
            "display_name=Devs&name=developers",
            content_type="application/x-www-form-urlencoded",
        )
        body = assert_ok(response)
        assert body["group"]["links"]["self"]["href"] == f"{BASE}/api/groups/developers/"
        devs.refresh_from_db()
        assert (devs.name, devs.display_name) == ("developers", "Devs")

    def test_rename_onto_another_is_223(self, devs, secret, admin_client):
        assert_error(
            admin_client.put(
                "/api/groups/devs/",
                "name=secret",
                content_type="application/x-www-form-urlencoded",
            ),
            409,
            223,
        )
        devs.refresh_from_db()
        assert devs.name == "devs"

    def test_update_and_delete_need_permission(self, devs, owner_client):
        assert_error(
            owner_client.put(
                "/api/groups/devs/",
                "display_name=x",
                content_type="application/x-www-form-urlencoded",
            ),
            403,
            101,
        )
        assert_error(owner_client.delete("/api/groups/devs/"), 403, 101)
        assert Group.objects.filter(name="devs", display_name="Developers").exists()

    def test_delete(self, devs, admin_client):
        assert admin_client.delete("/api/groups/devs/").status_code == 204
        assert not Group.objects.filter(name="devs").exists()


class TestMembers:
    def test_list(self, devs, owner_client):
        response = owner_client.get("/api/groups/devs/users/")
        body = assert_ok(response, mimetype="review-group-users")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.review-group-user+json"
        )
        assert [user["username"] for user in body["users"]] == ["doc", "grumpy"]
        assert body["users"][0]["links"] == {
            "delete": {"href": f"{BASE}/api/groups/devs/users/doc/", "method": "DELETE"},
            "self": {"href": f"{BASE}/api/groups/devs/users/doc/", "method": "GET"},
        }
        assert body["users"][0]["fullname"] == "Doc Dwarf"

    def test_item(self, devs, admin, anon_client):
        body = assert_ok(
            anon_client.get("/api/groups/devs/users/doc/"), mimetype="review-group-user"
        )
        assert body["user"]["username"] == "doc"
        assert_error(anon_client.get("/api/groups/devs/users/admin/"), 404, 100)

    def test_admin_adds_and_removes(self, devs, admin, admin_client):
        body = assert_ok(
            admin_client.post("/api/groups/devs/users/", {"username": "admin"}),
            201,
            mimetype="review-group-user",
        )
        assert body["user"]["username"] == "admin"
        assert devs.users.filter(username="admin").exists()
        assert admin_client.delete("/api/groups/devs/users/admin/").status_code == 204
        assert not devs.users.filter(username="admin").exists()

    def test_unknown_user_is_208(self, devs, admin_client):
        assert_error(admin_client.post("/api/groups/devs/users/", {"username": "ghost"}), 400, 208)
        body = assert_error(admin_client.post("/api/groups/devs/users/", {}), 400, 105)
        assert body["fields"] == {"username": ["This field is required"]}

    def test_users_join_and_leave_open_groups_but_not_others(
        self, devs, secret, admin, other, other_client
    ):
        assert other_client.delete("/api/groups/devs/users/grumpy/").status_code == 204
        assert_ok(other_client.post("/api/groups/devs/users/", {"username": "grumpy"}), 201)
        assert_error(other_client.post("/api/groups/devs/users/", {"username": "admin"}), 403, 101)
        assert_error(
            other_client.post("/api/groups/secret/users/", {"username": "grumpy"}), 403, 101
        )
        assert not secret.users.filter(pk=other.pk).exists()
        assert not devs.users.filter(pk=admin.pk).exists()
