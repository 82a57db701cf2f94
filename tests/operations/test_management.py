"""The repository commands an administrator runs (``manage.py`` / ``rbapi``): add, list and
archive, checked through what the API then shows, and their refusals (a clear message and a
non-zero exit, nothing stored)."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.test import Client

from reviews.models import Group, Repository

from ..conftest import assert_ok, logged_in_client, make_user

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def api_names(client: Client, query: str = "") -> list[str]:
    body = assert_ok(client.get(f"/api/repositories/{query}"))
    return [repo["name"] for repo in body["repositories"]]


def test_add_a_public_git_repository(owner):
    out = run("add_repository", "rbapi", "https://git.example.com/rbapi.git")
    repository = Repository.objects.get()
    assert out.strip() == (
        f"Added repository {repository.pk}: rbapi (Git, public) at "
        "https://git.example.com/rbapi.git"
    )
    body = assert_ok(Client().get(f"/api/repositories/{repository.pk}/"))["repository"]
    assert body["name"] == "rbapi" and body["tool"] == "Git" and body["visible"] is True
    assert body["path"] == "https://git.example.com/rbapi.git"
    # RBTools finds it by path and posts review requests against it.
    found = Client().get("/api/repositories/?path=https://git.example.com/rbapi.git")
    assert [repo["id"] for repo in assert_ok(found)["repositories"]] == [repository.pk]
    created = logged_in_client(owner).post("/api/review-requests/", {"repository": "rbapi"})
    assert assert_ok(created, 201)["review_request"]["links"]["repository"]["title"] == "rbapi"


def test_add_with_every_option(owner, other):
    devs = Group.objects.create(name="devs", display_name="Developers")
    devs.users.add(other)
    run(
        "add_repository", "secret", "/srv/secret", "--tool", "NONE", "--private",
        "--mirror-path", "git@example.com:secret.git", "--bug-tracker", "https://bugs/%s",
        "--user", "doc", "--group", "devs",
    )  # fmt: skip
    repository = Repository.objects.get(name="secret")
    assert (repository.tool, repository.public, repository.visible) == ("None", False, True)
    assert repository.mirror_path == "git@example.com:secret.git"
    assert repository.bug_tracker == "https://bugs/%s"
    # Private: its user and its group's members see it, strangers and anonymous do not.
    assert api_names(logged_in_client(owner)) == ["secret"]
    assert api_names(logged_in_client(other)) == ["secret"]
    assert api_names(logged_in_client(make_user("dopey"))) == []
    assert api_names(Client()) == []


def test_a_hidden_repository_is_left_out_of_lists(owner):
    run("add_repository", "quiet", "/srv/quiet", "--hidden")
    assert api_names(Client()) == []
    assert api_names(Client(), "?show-invisible=1") == ["quiet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("taken", "/srv/other"), "A repository named 'taken' already exists."),
        (
            ("new", "/srv/taken"),
            "The repository 'taken' already uses that path; archive it first.",
        ),
        (("new", "/srv/new", "--mirror-path", "/srv/taken"), "already uses that path"),
        (("new", "/srv/new", "--user", "nobody"), "No such user: nobody."),
        (("new", "/srv/new", "--group", "ghosts"), "No such review group: ghosts."),
        (("  ", "/srv/new"), "The name must not be empty."),
        (("x" * 256, "/srv/new"), "The name is longer than 255 characters."),
    ],
)
def test_add_refusals_store_nothing(args, message):
    run("add_repository", "taken", "/srv/taken")
    with pytest.raises(CommandError, match=re.escape(message)):
        run("add_repository", *args)
    assert list(Repository.objects.values_list("name", flat=True)) == ["taken"]


def test_a_refusal_exits_non_zero_with_one_clear_line(capsys, monkeypatch):
    """As ``manage.py add_repository`` / ``rbapi add_repository`` run it from a shell."""
    # run_from_argv closes every connection when done, the test's own one included.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    run("add_repository", "taken", "/srv/taken")
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "add_repository", "taken", "/srv/x"]).execute()
    assert exit_info.value.code == 1
    assert capsys.readouterr().err == "CommandError: A repository named 'taken' already exists.\n"
    # A tool nobody knows is refused by the argument parser (exit 2), naming the choices.
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(
            ["manage.py", "add_repository", "x", "/srv/x", "--tool", "cvs"]
        ).execute()
    assert exit_info.value.code == 2
    assert "invalid choice: 'cvs'" in capsys.readouterr().err
    assert Repository.objects.count() == 1


def test_list_repositories():
    assert run("list_repositories").strip() == "No repositories."
    run("add_repository", "beta", "/srv/beta", "--private")
    run("add_repository", "alpha", "https://example.com/alpha.git", "--hidden")
    run("add_repository", "old", "/srv/old")
    run("archive_repository", "old")
    ids = dict(Repository.objects.values_list("name", "pk"))
    lines = run("list_repositories").splitlines()
    assert [line.split() for line in lines] == [
        ["id", "name", "tool", "access", "state", "path"],
        [str(ids["alpha"]), "alpha", "Git", "public", "hidden", "https://example.com/alpha.git"],
        [str(ids["beta"]), "beta", "Git", "private", "visible", "/srv/beta"],
    ]
    # Columns are aligned.
    assert (
        len({line.index("tool") if i == 0 else line.index("Git") for i, line in enumerate(lines)})
        == 1
    )
    rows = json.loads(run("list_repositories", "--archived", "--json"))
    assert [(row["name"], row["state"]) for row in rows] == [
        ("alpha", "hidden"),
        ("beta", "visible"),
        ("old", "archived"),
    ]


def test_archive_hides_the_repository_and_frees_its_path(owner):
    run("add_repository", "old", "/srv/project")
    old = Repository.objects.get()
    assert run("archive_repository", "old").strip() == f"Archived repository {old.pk}: old"
    old.refresh_from_db()
    assert old.archived and not old.visible
    assert api_names(Client()) == []
    assert api_names(Client(), "?show-archived=1&show-invisible=1") == ["old"]
    # The item keeps answering (old review requests link to it) and says it is not visible.
    item = assert_ok(Client().get(f"/api/repositories/{old.pk}/"))["repository"]
    assert item["visible"] is False
    # Its successor may take the path; archiving again changes nothing.
    run("add_repository", "new", "/srv/project")
    assert run("archive_repository", str(old.pk)).strip() == (
        f"Repository {old.pk} (old) was already archived"
    )
    assert api_names(Client()) == ["new"]


def test_archive_an_unknown_repository():
    with pytest.raises(CommandError, match=re.escape("No repository named 'ghost'.")):
        run("archive_repository", "ghost")
