"""Real RBTools (the Python API client and the ``rbt`` command) against a live rbapi server.

These tests assert only what the client sees: the resource classes RBTools picks from our
mimetypes, the fields and links it exposes, the exceptions it raises, and the cookies it keeps.
They are the end-to-end check of clients.md §0 (discovery, envelopes, mimetypes, links,
pagination, Basic auth and the ``rbsessionid`` cookie, errors, caching).

RBTools installs its urllib opener process-wide, so each test uses one client at a time: a
client built later takes over the cookie jar and credentials of every earlier one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from packaging.version import parse as parse_version
from rbtools.api.cache import MINIMUM_VERSION
from rbtools.api.errors import APIError, AuthorizationError
from rbtools.api.resource import (
    RepositoryItemResource,
    RepositoryListResource,
    ReviewGroupItemResource,
    ReviewGroupListResource,
    ReviewGroupUserItemResource,
    ReviewGroupUserListResource,
    RootResource,
    UserItemResource,
    UserListResource,
)

from reviews.models import Group, Repository

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

User = get_user_model()

RB_COOKIE = "rbsessionid"


def usernames(items: Any) -> list[str]:
    return [item.username for item in items]


def session_cookie(client: Any) -> str | None:
    """The ``rbsessionid`` value in the client's cookie jar, if any."""
    for cookie in client._transport.server.cookie_jar:
        if cookie.name == RB_COOKIE:
            return cookie.value
    return None


# --- discovery ---------------------------------------------------------------------------------


def test_root_discovery(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    root = rb_client("admin", "admin").get_root()

    assert isinstance(root, RootResource)
    assert root.product["name"] == "Review Board"
    # Anything older than 2.0.14 (or missing) makes RBTools turn its HTTP cache off.
    assert parse_version(root.product["package_version"]) >= parse_version(MINIMUM_VERSION)
    capabilities = root.capabilities
    assert capabilities["extra_data"]["json_patching"] is True
    assert capabilities["text"]["markdown"] is True
    # rbapi serves no web-login page, so RBTools must not try one.
    assert capabilities["authentication"]["client_web_login"] is False
    # Every uri_template RBTools uses here became a get_<name> method on the root.
    for name in ("users", "user", "groups", "group", "repositories", "repository", "session"):
        assert callable(getattr(root, f"get_{name}")), name


# --- users -------------------------------------------------------------------------------------


def test_user_list(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    users = rb_client("admin", "admin").get_root().get_users()

    assert isinstance(users, UserListResource)
    assert users.total_results == 3
    assert len(users) == 3
    assert usernames(users) == ["admin", "doc", "grumpy"]
    assert all(isinstance(user, UserItemResource) for user in users)


def test_user_item_shows_names_when_logged_in(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    doc = rb_client("grumpy", "grumpy").get_root().get_user(username="doc")

    assert isinstance(doc, UserItemResource)
    assert doc.username == "doc"
    assert doc.fullname == "Doc Dwarf"
    assert doc.first_name == "Doc"
    assert doc.last_name == "Dwarf"
    assert doc.email == "doc@example.com"
    # The item's self link is the one RBTools follows to reload it.
    assert doc.get_self().username == "doc"


def test_user_item_hides_names_from_anonymous(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    doc = rb_client().get_root().get_user(username="doc")

    assert doc.username == "doc"
    for private in ("fullname", "first_name", "last_name", "email"):
        assert private not in doc, private


def test_unknown_user_is_error_100(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    root = rb_client("admin", "admin").get_root()

    with pytest.raises(APIError) as caught:
        root.get_user(username="nobody")
    assert caught.value.http_status == 404
    assert caught.value.error_code == 100


def test_all_items_pages_through_every_user_once(
    transactional_db: Any, rb_client: Callable[..., Any]
) -> None:
    from tests.conftest import make_user

    make_user("admin", superuser=True)
    User.objects.bulk_create(
        User(username=f"user{number:03d}", email=f"user{number:03d}@example.com")
        # Created out of order, so the list order must come from the server's sort.
        for number in reversed(range(60))
    )
    expected = [f"user{number:03d}" for number in range(60)]
    root = rb_client("admin", "admin").get_root()

    first_page = root.get_users(max_results=25)
    assert first_page.total_results == 61
    assert usernames(first_page) == ["admin", *expected[:24]]
    assert [len(page) for page in first_page.all_pages] == [25, 25, 11]
    assert usernames(first_page.all_items) == ["admin", *expected]

    # The next links keep the filter (Review Board bug 3199): admin never shows up.
    filtered = root.get_users(q="user", max_results=25)
    assert filtered.total_results == 60
    assert usernames(filtered.all_items) == expected

    # get_prev walks back from the second page to the first.
    second_page = filtered.get_next()
    assert usernames(second_page) == expected[25:50]
    assert usernames(second_page.get_prev()) == expected[:25]


# --- groups ------------------------------------------------------------------------------------


def test_groups_and_members(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    root = rb_client("admin", "admin").get_root()

    groups = root.get_groups()
    assert isinstance(groups, ReviewGroupListResource)
    assert groups.total_results == 1
    assert [group.name for group in groups] == ["devs"]

    devs = root.get_group(group_name="devs")
    assert isinstance(devs, ReviewGroupItemResource)
    assert devs.name == "devs"
    assert devs.display_name == "Developers"
    assert devs.mailing_list == "devs@example.com"
    assert devs.invite_only is False
    assert devs.visible is True

    # The group's review_group_users link became a method, typed by the review-group-user(s)
    # mimetypes.
    members = devs.get_review_group_users()
    assert isinstance(members, ReviewGroupUserListResource)
    assert all(isinstance(member, ReviewGroupUserItemResource) for member in members)
    assert members.total_results == 2
    assert usernames(members) == ["doc", "grumpy"]


def test_admin_creates_group_and_adds_member(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()

    qa = root.get_groups().create(name="qa", display_name="Quality", mailing_list="qa@x.org")
    assert isinstance(qa, ReviewGroupItemResource)
    assert qa.name == "qa"
    assert qa.display_name == "Quality"

    members = qa.get_review_group_users()
    assert members.total_results == 0
    added = members.create(username="doc")
    assert isinstance(added, ReviewGroupUserItemResource)
    assert added.username == "doc"

    # What the client reads back, and what the database holds.
    assert usernames(root.get_group(group_name="qa").get_review_group_users()) == ["doc"]
    assert [group.name for group in root.get_groups()] == ["devs", "qa"]
    assert list(Group.objects.get(name="qa").users.values_list("username", flat=True)) == ["doc"]

    # Updating through the item's update link (a multipart PUT).
    renamed = qa.update(display_name="Quality Assurance")
    assert renamed.display_name == "Quality Assurance"

    # A second group with the same name is error 223.
    with pytest.raises(APIError) as caught:
        root.get_groups().create(name="qa", display_name="Again")
    assert caught.value.error_code == 223


def test_non_admin_cannot_create_group(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    root = rb_client("doc", "doc").get_root()

    with pytest.raises(APIError) as caught:
        root.get_groups().create(name="rogue", display_name="Rogue")
    assert caught.value.http_status == 403
    assert caught.value.error_code == 101
    assert not Group.objects.filter(name="rogue").exists()


# --- repositories ------------------------------------------------------------------------------


def test_repositories(
    people: dict[str, Any], repository: Repository, rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()

    repositories = root.get_repositories()
    assert isinstance(repositories, RepositoryListResource)
    assert repositories.total_results == 1
    [found] = list(repositories)
    assert isinstance(found, RepositoryItemResource)
    assert found.id == repository.pk
    assert found.name == "rbapi"
    assert found.path == "https://git.example.com/rbapi.git"
    assert found.tool == "Git"

    # The lookups ``rbt post`` makes to find the repository.
    assert [item.name for item in root.get_repositories(name="rbapi")] == ["rbapi"]
    by_path = root.get_repositories(path="https://git.example.com/rbapi.git")
    assert [item.id for item in by_path] == [repository.pk]
    assert root.get_repositories(name="nope").total_results == 0
    assert root.get_repository(repository_id=repository.pk).name == "rbapi"


# --- sessions and authentication ---------------------------------------------------------------


def test_session_expands_user(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    session = rb_client("admin", "admin").get_root().get_session(expand="user")

    assert session.authenticated is True
    assert isinstance(session.user, UserItemResource)
    assert session.user.username == "admin"
    assert session.user.fullname == "Admin Dwarf"


def test_anonymous_session(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    session = rb_client().get_root().get_session(expand="user")

    assert session.authenticated is False
    assert "user" not in session


def test_basic_login_continues_on_session_cookie(
    people: dict[str, Any], rb_client: Callable[..., Any], tmp_path: Path
) -> None:
    cookie_file = tmp_path / "cookies.txt"
    client = rb_client("doc", "doc", cookie_file=str(cookie_file))

    # RBTools sends Basic on the first request only; the server must answer with a session.
    root = client.get_root()
    assert client.has_session_cookie()
    cookie = session_cookie(client)
    assert cookie

    # Take the credentials away: from now on only the cookie can authenticate.
    password_mgr = client._transport.server.preset_auth_handler.password_mgr
    password_mgr.rb_user = password_mgr.rb_pass = None
    session = root.get_session(expand="user")
    assert session.authenticated is True
    assert session.user.username == "doc"
    assert root.get_user(username="grumpy").fullname == "Grumpy Dwarf"

    # The cookie was saved in Mozilla format; a new client with no credentials reuses it.
    assert RB_COOKIE in cookie_file.read_text()
    reused = rb_client(cookie_file=str(cookie_file))
    assert reused.get_root().get_session(expand="user").user.username == "doc"

    # Review Bot's way: a raw rbsessionid value passed as ``session``.
    bot = rb_client(session=cookie)
    assert bot.get_root().get_session(expand="user").user.username == "doc"


def test_logout_ends_the_session(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    client = rb_client("admin", "admin")
    root = client.get_root()
    assert root.get_session().authenticated is True
    cookie = session_cookie(client)
    assert cookie

    client.logout()  # DELETE api/session/, then clears the jar

    assert not client.has_session_cookie()
    session = root.get_session(expand="user")
    assert session.authenticated is False
    assert "user" not in session

    # The old cookie is dead on the server, not just forgotten by the client.
    replay = rb_client(session=cookie)
    assert replay.get_root().get_session().authenticated is False


def test_logout_by_deleting_session(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    client = rb_client("admin", "admin")
    session = client.get_root().get_session()
    assert session.authenticated is True

    assert session.delete() is None  # RBTools ignores DELETE bodies

    assert client.get_root().get_session().authenticated is False


def test_bad_password_is_login_failed(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    client = rb_client("admin", "not-the-password")

    with pytest.raises(AuthorizationError) as caught:
        client.get_root().get_session()
    assert caught.value.http_status == 401
    assert caught.value.error_code == 104
    assert session_cookie(client) is None


# --- HTTP cache --------------------------------------------------------------------------------


def test_http_cache_revalidates_and_never_serves_stale_lists(
    people: dict[str, Any], rb_client: Callable[..., Any], tmp_path: Path
) -> None:
    cache_file = tmp_path / "apicache.db"
    client = rb_client("admin", "admin", allow_caching=True, cache_location=str(cache_file))
    server = client._transport.server
    responses: list[str] = []
    urlopen = server._urlopen

    def recording_urlopen(request: Any) -> Any:
        response = urlopen(request)
        responses.append(type(response).__name__)
        return response

    root = client.get_root()
    # The server's product version kept the cache on.
    assert server._cache is not None
    server._urlopen = recording_urlopen

    assert usernames(root.get_users()) == ["admin", "doc", "grumpy"]
    assert usernames(root.get_users()) == ["admin", "doc", "grumpy"]
    # First GET live, second answered 304 and served from the cache.
    assert responses == ["LiveHTTPResponse", "CachedHTTPResponse"]

    # A change must show at once: no max-age kept the old list fresh.
    from tests.conftest import make_user

    make_user("happy")
    assert usernames(root.get_users()) == ["admin", "doc", "grumpy", "happy"]
    assert responses[-1] == "LiveHTTPResponse"
    assert cache_file.exists()


# --- rbt command line --------------------------------------------------------------------------


def run_rbt(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    rbt = Path(sys.executable).with_name("rbt")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RBTOOLS_", "REVIEWBOARD_"))
    }
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        NO_COLOR="1",
    )
    return subprocess.run(
        [str(rbt), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rbt_api_get_users(
    people: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    cwd = tmp_path / "empty"
    cwd.mkdir()
    result = run_rbt(
        "api-get",
        "--server",
        live_server.url,
        "--username",
        "admin",
        "--password",
        "admin",
        "--disable-cache",
        "--disable-cookie-storage",
        "/users/",
        home=_isolated_home,
        cwd=cwd,
    )

    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["stat"] == "ok"
    assert payload["total_results"] == 3
    assert [user["username"] for user in payload["users"]] == ["admin", "doc", "grumpy"]
    assert payload["users"][1]["fullname"] == "Doc Dwarf"


def test_rbt_api_get_query_args_and_errors(
    people: dict[str, Any], live_server: Any, _isolated_home: Path, tmp_path: Path
) -> None:
    cwd = tmp_path / "empty"
    cwd.mkdir()
    common = ("--server", live_server.url, "--disable-cache", "--disable-cookie-storage")

    # Extra --<arg>=<value> options become query arguments.
    result = run_rbt(
        "api-get", *common, "/groups/devs/users/", "--max-results=1", home=_isolated_home, cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["total_results"] == 2
    assert [user["username"] for user in payload["users"]] == ["doc"]
    assert "next" in payload["links"]

    # An API error is printed as its JSON body and makes rbt exit non-zero.
    result = run_rbt("api-get", *common, "/users/nobody/", home=_isolated_home, cwd=cwd)
    assert result.returncode != 0
    error = json.loads(result.stdout)
    assert error["stat"] == "fail"
    assert error["err"]["code"] == 100
