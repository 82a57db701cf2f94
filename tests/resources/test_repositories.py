"""/api/repositories/ and /api/repositories/{repository_id}/: reads, admins' writes, the
access-list children and the hosting children (info, branches, commits), compared with Review
Board's transcripts (spec: code-and-files.md §1, golden files 001-020)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from reviews.models import Group, Repository

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request
from ..golden_files import golden

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
    links = {
        name: {"href": f"{href}{path}", "method": "GET"}
        for name, path in [
            ("branches", "branches/"),
            ("commits", "commits/"),
            ("diff_file_attachments", "diff-file-attachments/"),
            ("info", "info/"),
            ("repository_groups", "groups/"),
            ("repository_users", "users/"),
            ("self", ""),
        ]
    }
    # Every caller sees the write links, anonymous included (golden 003).
    links["update"] = {"href": href, "method": "PUT"}
    links["delete"] = {"href": href, "method": "DELETE"}
    assert body == {
        "stat": "ok",
        "repository": {
            "bug_tracker": "",
            "extra_data": {},
            "id": public.pk,
            "links": links,
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


def test_methods(repos, admin_client):
    response = admin_client.patch(f"/api/repositories/{repos[0].pk}/")
    assert_error(response, 405, 900)
    assert response["Allow"] == "GET, POST, PUT, DELETE"
    assert_error(admin_client.get("/api/repositories/999/"), 404, 100)
    assert_error(admin_client.get("/api/repositories/abc/"), 404, 100)


def test_page_cost_is_constant(anon_client, django_assert_max_num_queries, settings):
    # Measures building the page, not the response cache's bookkeeping.
    settings.RBAPI_RESPONSE_CACHE = False
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


# --- writes, compared with Review Board's transcripts -------------------------------------------
@pytest.fixture
def git_path(tmp_path) -> str:
    """A bare Git repository on a local path, as the reference server's ``gitrepo-b``."""
    path = tmp_path / "gitrepo-b"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return str(path)


@pytest.fixture
def localgit(tmp_path) -> Repository:
    """Repository 1 of the transcripts."""
    path = tmp_path / "gitrepo"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    return Repository.objects.create(name="localgit", path=str(path))


def expected(number: int, replace: dict[str, str] | None = None):
    """A transcript's body (its ``diff_file_attachments`` link is served: spec §8)."""
    return golden(number).body(replace)


def _swap(repository: Repository) -> dict[str, str]:
    """Turn the capture's ids and paths into this test's."""
    return {
        "/api/repositories/2/": f"/api/repositories/{repository.pk}/",
        '"id": 2': f'"id": {repository.pk}',
        "/srv/refserver/gitrepo-b": repository.path,
    }


def _create(client, **fields):
    return client.post("/api/repositories/", fields)


def _second(admin_client, git_path) -> Repository:
    body = assert_ok(
        _create(
            admin_client,
            name="second",
            path=git_path,
            tool="Git",
            bug_tracker="http://bugs.example.com/%s",
        ),
        201,
        mimetype="repository",
    )
    return Repository.objects.get(pk=body["repository"]["id"])


def test_create_golden_004(localgit, git_path, admin_client):
    response = _create(
        admin_client,
        name="second",
        path=git_path,
        tool="Git",
        bug_tracker="http://bugs.example.com/%s",
    )
    body = assert_ok(response, 201, mimetype="repository")
    repository = Repository.objects.get(name="second")
    assert body == expected(4, _swap(repository))
    # None of the creates in this area sends a Location header (spec §7.1).
    assert not response.has_header("Location")
    assert (repository.tool, repository.path, repository.public, repository.visible) == (
        "Git",
        git_path,
        True,
        True,
    )
    assert repository.bug_tracker == "http://bugs.example.com/%s"


@pytest.mark.parametrize(
    ("number", "who", "fields"),
    [
        (5, "admin", {"path": "/tmp"}),
        (6, "owner", {"name": "mine", "path": "/tmp", "tool": "Git"}),
        (7, "anon", {"name": "mine", "path": "/tmp", "tool": "Git"}),
        (8, "admin", {"name": "localgit", "path": "GIT", "tool": "Git"}),
    ],
)
def test_create_refusals_golden(
    number, who, fields, localgit, git_path, admin_client, owner_client, anon_client
):
    client = {"admin": admin_client, "owner": owner_client, "anon": anon_client}[who]
    fields = {key: git_path if value == "GIT" else value for key, value in fields.items()}
    expected = golden(number)
    response = _create(client, **fields)
    assert response.status_code == expected.status
    assert response["Content-Type"] == expected.headers["content-type"]
    assert json.loads(response.content) == expected.body()
    assert list(Repository.objects.values_list("name", flat=True)) == ["localgit"]


def test_create_bad_path_210(localgit, admin_client, tmp_path):
    # Golden 009: HTTP 500 / 210; Review Board adds "error": "None", rbapi git's reason.
    expected = golden(9).body()
    for path in (str(tmp_path / "no-such-repo"), str(tmp_path), "relative/path", "-C"):
        response = _create(admin_client, name="nowhere", path=path, tool="Git")
        assert response.status_code == 500
        assert response["Content-Type"] == "application/vnd.reviewboard.org.error+json"
        body = json.loads(response.content)
        assert body["err"] == expected["err"] and body["stat"] == "fail"
        assert set(body) == {"err", "error", "stat"} and body["error"]
    assert list(Repository.objects.values_list("name", flat=True)) == ["localgit"]


def test_create_field_errors(localgit, admin_client, git_path):
    # Golden 010: a lowercase tool id is an HTML 500 in Review Board; rbapi says 105.
    body = assert_error(_create(admin_client, name="lower", path=git_path, tool="git"), 400, 105)
    assert body["fields"] == {
        "tool": ['"git" is not a valid value. Valid values are: "Git", "None"']
    }
    body = assert_error(_create(admin_client, name="nopath", tool="Git"), 400, 105)
    assert body["fields"] == {"path": ["This field is required"]}
    body = assert_error(_create(admin_client, name="x" * 256, tool="Git", path=git_path), 400, 105)
    assert body["fields"] == {
        "name": ["Ensure this value has at most 255 characters (it has 256)."]
    }
    assert Repository.objects.count() == 1


def test_create_plain_diff_repository_and_extra_data(admin_client):
    response = admin_client.post(
        "/api/repositories/",
        {"name": "patches", "tool": "None", "visible": "0", "public": "0", "extra_data.team": "x"},
    )
    body = assert_ok(response, 201)["repository"]
    assert (body["tool"], body["path"], body["visible"], body["extra_data"]) == (
        "None",
        "",
        False,
        {"team": "x"},
    )
    assert Repository.objects.get(name="patches").public is False


def test_update_golden_011_to_017(localgit, git_path, admin_client, owner_client, anon_client):
    second = _second(admin_client, git_path)
    response = admin_client.put(
        f"/api/repositories/{second.pk}/",
        "visible=0&public=0&extra_data.team=core",
        content_type="application/x-www-form-urlencoded",
    )
    assert assert_ok(response, mimetype="repository") == expected(11, _swap(second))
    second.refresh_from_db()
    assert (second.visible, second.public, second.extra_data) == (False, False, {"team": "core"})
    # 012/013: private now.
    assert json.loads(owner_client.get(f"/api/repositories/{second.pk}/").content) == (
        golden(12).body()
    )
    response = anon_client.get(f"/api/repositories/{second.pk}/")
    assert (response.status_code, json.loads(response.content)) == (401, golden(13).body())
    # 017: a taken name.
    response = admin_client.put(
        f"/api/repositories/{second.pk}/",
        "name=localgit",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 409
    assert json.loads(response.content) == golden(17).body()
    assert Repository.objects.get(pk=second.pk).name == "second"


def test_update_checks_tool_and_path(localgit, admin_client, owner_client, tmp_path):
    url = f"/api/repositories/{localgit.pk}/"
    form = "application/x-www-form-urlencoded"
    response = admin_client.put(url, f"path={tmp_path / 'nothing'}", content_type=form)
    assert response.status_code == 500
    assert json.loads(response.content)["err"]["code"] == 210
    response = admin_client.put(url, "tool=Mercurial", content_type=form)
    assert_error(response, 400, 105)
    assert_error(owner_client.put(url, "name=mine", content_type=form), 403, 101)
    localgit.refresh_from_db()
    assert (localgit.name, localgit.tool) == ("localgit", "Git")
    # A repository of no tool needs no path; switching back to Git needs a readable one.
    body = assert_ok(admin_client.put(url, "tool=None&path=", content_type=form))
    assert (body["repository"]["tool"], body["repository"]["path"]) == ("None", "")
    body = assert_error(admin_client.put(url, "tool=Git", content_type=form), 400, 105)
    assert body["fields"] == {"path": ["This field is required"]}


def test_update_archive_name(localgit, admin_client):
    response = admin_client.put(
        f"/api/repositories/{localgit.pk}/",
        "archive_name=1",
        content_type="application/x-www-form-urlencoded",
    )
    name = assert_ok(response)["repository"]["name"]
    assert re.fullmatch(r"ar:localgit:[0-9a-f]{8}", name)
    assert Repository.objects.get(pk=localgit.pk).name == name


def test_delete_unused_then_used(localgit, git_path, admin_client, owner, owner_client):
    second = _second(admin_client, git_path)
    response = admin_client.delete(f"/api/repositories/{second.pk}/")
    assert response.status_code == 204 and response.content == b""
    assert response["Content-Type"] == "application/vnd.reviewboard.org.repository+json"
    assert not Repository.objects.filter(pk=second.pk).exists()
    assert_error(admin_client.get(f"/api/repositories/{second.pk}/"), 404, 100)
    # A repository review requests use is archived: renamed, private, its requests kept.
    review_request = make_review_request(submitter=owner, repository=localgit)
    assert_error(owner_client.delete(f"/api/repositories/{localgit.pk}/"), 403, 101)
    assert admin_client.delete(f"/api/repositories/{localgit.pk}/").status_code == 204
    localgit.refresh_from_db()
    assert re.fullmatch(r"ar:localgit:[0-9a-f]{8}", localgit.name)
    assert (localgit.public, localgit.archived) == (False, True)
    assert_error(owner_client.get(f"/api/repositories/{localgit.pk}/"), 403, 101)
    assert review_request.repository_id == localgit.pk
    # Its name is free again.
    assert _second(admin_client, git_path).name == "second"


def test_hosting_children_209_golden(localgit, owner_client):
    for number, child in ((18, "info"), (19, "branches"), (20, "commits")):
        response = owner_client.get(f"/api/repositories/{localgit.pk}/{child}/")
        assert response.status_code == 501
        assert json.loads(response.content) == golden(number).body()


def test_list_golden_001_015_016(localgit, git_path, admin_client, owner, owner_client):
    body = assert_ok(admin_client.get("/api/repositories/"), mimetype="repositories")
    replace = {'"id": 1': f'"id": {localgit.pk}', "/srv/refserver/gitrepo": localgit.path}
    replace["/api/repositories/1/"] = f"/api/repositories/{localgit.pk}/"
    assert body == expected(1, replace)
    second = _second(admin_client, git_path)
    second.visible = second.public = False
    second.save()
    second.users.add(owner)
    query = "?only-fields=id,name,visible&only-links="
    ids = {'"id": 1': f'"id": {localgit.pk}', '"id": 2': f'"id": {second.pk}'}
    # A user on the access list sees the hidden repository; an admin needs show-invisible.
    assert assert_ok(owner_client.get(f"/api/repositories/{query}")) == golden(15).body(ids)
    admin_names = names(assert_ok(admin_client.get(f"/api/repositories/{query}")))
    assert admin_names == ["localgit"]
    query = "?show-invisible=1&only-fields=id,name,visible&only-links="
    assert assert_ok(admin_client.get(f"/api/repositories/{query}")) == golden(16).body(ids)


def test_access_list_users_golden_014(
    localgit, git_path, admin_client, owner, owner_client, other_client
):
    second = _second(admin_client, git_path)
    second.public = False
    second.save()
    url = f"/api/repositories/{second.pk}/users/"
    assert_error(other_client.get(url), 403, 101)
    assert_error(other_client.post(url, {"username": "doc"}), 403, 101)
    response = admin_client.post(url, {"username": "doc"})
    body = assert_ok(response, 201, mimetype="repository-user")
    expected = golden(14).body(_swap(second))
    # Avatars and names are the reference server's profile of doc; links and keys must match.
    assert body["user"]["links"] == expected["user"]["links"]
    assert set(body["user"]) == set(expected["user"])
    assert body["user"]["username"] == "doc"
    assert list(second.users.all()) == [owner]
    assert_ok(owner_client.get(f"/api/repositories/{second.pk}/"))
    listed = assert_ok(admin_client.get(url), mimetype="repository-users")
    assert [user["username"] for user in listed["users"]] == ["doc"]
    assert_error(admin_client.post(url, {"username": "nobody"}), 400, 208)
    assert assert_error(admin_client.post(url, {}), 400, 105)["fields"] == {
        "username": ["This field is required"]
    }
    assert admin_client.delete(f"{url}doc/").status_code == 204
    assert not second.users.exists()
    assert_error(owner_client.get(f"/api/repositories/{second.pk}/"), 403, 101)


def test_access_list_groups(localgit, admin_client, other, other_client):
    localgit.public = False
    localgit.save()
    team = Group.objects.create(name="team", display_name="Team")
    team.users.add(other)
    url = f"/api/repositories/{localgit.pk}/groups/"
    assert_error(other_client.get(f"/api/repositories/{localgit.pk}/"), 403, 101)
    body = assert_ok(admin_client.post(url, {"group_name": "team"}), 201, "repository-group")
    assert body["group"]["name"] == "team"
    assert body["group"]["links"]["self"]["href"] == f"{BASE}{url}team/"
    assert_ok(other_client.get(f"/api/repositories/{localgit.pk}/"))
    assert_error(admin_client.post(url, {"group_name": "ghosts"}), 400, 234)
    assert admin_client.delete(f"{url}team/").status_code == 204
    assert_error(other_client.get(f"/api/repositories/{localgit.pk}/"), 403, 101)


def test_root_capabilities_name_the_tools(anon_client):
    capabilities = assert_ok(anon_client.get("/api/"))["capabilities"]
    assert capabilities["scmtools"] == {
        "git": {"empty_files": True, "symlinks": True},
        "supported_tools": ["git"],
    }
