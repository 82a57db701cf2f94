"""/api/repositories/ and /api/repositories/{repository_id}/ (read-only)."""

from __future__ import annotations

import pytest

from reviews.models import Group, Repository

from ..conftest import assert_error, assert_ok

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


@pytest.fixture
def repos(owner, other):
    public = Repository.objects.create(
        name="localgit", path="/srv/git/local.git", mirror_path="git@example.com:local.git"
    )
    private = Repository.objects.create(
        name="private", path="/srv/private", public=False, tool="Mercurial"
    )
    private.users.add(owner)
    grouped = Repository.objects.create(name="grouped", path="/srv/grouped", public=False)
    team = Group.objects.create(name="team", display_name="Team")
    team.users.add(other)
    grouped.review_groups.add(team)
    Repository.objects.create(name="hidden", path="/srv/hidden", visible=False)
    Repository.objects.create(name="old", path="/srv/old", archived=True)
    return public, private, grouped


def names(body) -> list[str]:
    return [repo["name"] for repo in body["repositories"]]


def test_golden_item(repos, anon_client):
    public = repos[0]
    body = assert_ok(anon_client.get(f"/api/repositories/{public.pk}/"), mimetype="repository")
    href = f"{BASE}/api/repositories/{public.pk}/"
    assert body == {
        "stat": "ok",
        "repository": {
            "bug_tracker": "",
            "extra_data": {},
            "id": public.pk,
            "links": {
                "info": {"href": f"{href}info/", "method": "GET"},
                "self": {"href": href, "method": "GET"},
            },
            "mirror_path": "git@example.com:local.git",
            "name": "localgit",
            "path": "/srv/git/local.git",
            "requires_basedir": False,
            "requires_change_number": False,
            "supports_post_commit": False,
            "tool": "Git",
            "visible": True,
        },
    }


def test_list_visibility(repos, anon_client, owner_client, other_client, admin_client):
    response = anon_client.get("/api/repositories/")
    assert names(assert_ok(response, mimetype="repositories")) == ["localgit"]
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.repository+json"
    assert names(assert_ok(owner_client.get("/api/repositories/"))) == ["localgit", "private"]
    assert names(assert_ok(other_client.get("/api/repositories/"))) == ["grouped", "localgit"]
    assert names(assert_ok(admin_client.get("/api/repositories/"))) == [
        "grouped",
        "localgit",
        "private",
    ]
    assert names(
        assert_ok(admin_client.get("/api/repositories/?show-invisible=1&show-archived=1"))
    ) == ["grouped", "hidden", "localgit", "old", "private"]


def test_private_item_access(repos, anon_client, owner_client, other_client):
    private = repos[1]
    assert_error(anon_client.get(f"/api/repositories/{private.pk}/"), 401, 103)
    assert_error(other_client.get(f"/api/repositories/{private.pk}/"), 403, 101)
    assert_ok(owner_client.get(f"/api/repositories/{private.pk}/"))


def test_filters(repos, admin_client):
    get = lambda query: names(assert_ok(admin_client.get(f"/api/repositories/?{query}")))  # noqa: E731
    assert get("name=localgit,private") == ["localgit", "private"]
    assert get("path=git@example.com:local.git") == ["localgit"]
    assert get("name-or-path=/srv/private") == ["private"]
    assert get("tool=mercurial") == ["private"]


def test_info_is_not_available_209(repos, anon_client):
    # rbapi talks to no repository: like Review Board for such a tool, 209 / HTTP 501,
    # which RBTools reads as "no extra information".
    body = assert_error(anon_client.get(f"/api/repositories/{repos[0].pk}/info/"), 501, 209)
    assert body["err"]["msg"] == "The specified repository is not able to perform this action."
    assert_error(anon_client.get(f"/api/repositories/{repos[1].pk}/info/"), 401, 103)


def test_read_only(repos, admin_client):
    response = admin_client.post("/api/repositories/", {"name": "x", "path": "/x"})
    assert_error(response, 405, 900)
    assert response["Allow"] == "GET"
    assert_error(admin_client.delete(f"/api/repositories/{repos[0].pk}/"), 405, 900)
    assert_error(admin_client.get("/api/repositories/999/"), 404, 100)
    assert_error(admin_client.get("/api/repositories/abc/"), 404, 100)


def test_page_cost_is_constant(anon_client, django_assert_max_num_queries):
    Repository.objects.create(name="r000", path="/r0")
    with django_assert_max_num_queries(3) as one:
        assert_ok(anon_client.get("/api/repositories/"))
    Repository.objects.bulk_create(
        [Repository(name=f"r{n:03d}", path=f"/r{n}") for n in range(1, 40)]
    )
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert (
            len(assert_ok(anon_client.get("/api/repositories/?max-results=40"))["repositories"])
            == 40
        )
