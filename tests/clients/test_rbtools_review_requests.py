"""Real RBTools against a live rbapi server: review requests, drafts, changes, last update.

The Python API client walks the whole life of a review request the way ``rbt post`` and
scripts do (create, fill the draft, publish, update with a change description, close, reopen,
discard, list), and the ``rbt publish``, ``rbt close`` and ``rbt status`` commands run as
subprocesses against the same server. Only what the client sees is asserted, plus the database
state where a command prints little (spec: clients.md §2.8, resources.md §1-§3, §6).

RBTools installs its urllib opener process-wide, so a test uses one client at a time: a client
built later takes over the cookies and credentials of every earlier one, and resources fetched
through an earlier client then speak as the later user.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rbtools.api.errors import APIError, AuthorizationError
from rbtools.api.request import HttpRequest
from rbtools.api.resource import (
    ChangeItemResource,
    ChangeListResource,
    LastUpdateResource,
    ReviewRequestDraftResource,
    ReviewRequestItemResource,
    ReviewRequestListResource,
)

from reviews.models import Repository, ReviewRequest, ReviewRequestDraft

from .helpers import run_rbt

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REVIEWER_MISSING = (
    "Error publishing: There must be at least one reviewer before this review request can be "
    "published."
)


def titles(links: Any) -> list[str]:
    """The ``title`` of each link object in a list field (target_people, target_groups...)."""
    return [item["title"] for item in links]


def fill_draft(review_request: Any, summary: str, **fields: Any) -> Any:
    """Fill a review request's draft with what publishing needs, making the draft if there is
    none (a POST to the draft URL, as ``rbt post`` does); returns the draft."""
    fields.setdefault("description", f"About {summary}.")
    fields.setdefault("target_people", "doc")
    return review_request.get_or_create_draft(summary=summary, **fields)


def publish_new(root: Any, summary: str, **fields: Any) -> Any:
    """Create, fill and publish a review request; returns it as re-read from the server."""
    repository = fields.pop("repository", None)
    created = (
        root.get_review_requests().create(repository=repository)
        if repository is not None
        else root.get_review_requests().create()
    )
    fill_draft(created, summary, **fields).update(public=True)
    return root.get_review_request(review_request_id=created.id)


def raw_put(url: str, **fields: str) -> Any:
    """A multipart PUT built the way RBTools builds its own (for URLs no link leads to)."""
    request = HttpRequest(url, method="PUT")
    for name, value in fields.items():
        request.add_field(name, value)
    return request


# --- create, fill the draft, publish -------------------------------------------------------------


def test_create_fill_and_publish(
    people: dict[str, Any], repository: Repository, rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()

    created = root.get_review_requests().create(repository="rbapi")
    assert isinstance(created, ReviewRequestItemResource)
    assert created.public is False
    assert created.status == "pending"
    assert created.summary == ""
    assert created.get_repository().name == "rbapi"
    assert created.get_submitter().username == "admin"
    review_request_id = created.id

    # The draft that Review Board always makes alongside the review request.
    draft = created.get_draft()
    assert isinstance(draft, ReviewRequestDraftResource)
    assert draft.public is False
    updated = draft.update(
        summary="Add the frobnicator",
        description="It **frobs**.",
        description_text_type="markdown",
        testing_done="Ran the tests.",
        branch="main",
        bugs_closed="12, #3",
        target_people="doc",
        target_groups="devs",
    )
    assert isinstance(updated, ReviewRequestDraftResource)
    assert updated.summary == "Add the frobnicator"
    assert updated.description == "It **frobs**."
    assert updated.description_text_type == "markdown"
    assert updated.testing_done_text_type == "plain"
    assert updated.branch == "main"
    assert list(updated.bugs_closed) == ["3", "12"]
    assert titles(updated.target_people) == ["doc"]
    assert titles(updated.target_groups) == ["devs"]
    assert updated.get_review_request().id == review_request_id

    # Nothing is visible on the review request itself until the draft is published.
    unpublished = root.get_review_request(review_request_id=review_request_id)
    assert unpublished.public is False
    assert unpublished.summary == ""
    assert titles(unpublished.target_people) == []

    # RBTools sends public=True (a string 'True' in the multipart body).
    updated.update(public=True)

    published = root.get_review_request(review_request_id=review_request_id)
    assert published.public is True
    assert published.status == "pending"
    assert published.summary == "Add the frobnicator"
    assert published.description == "It **frobs**."
    assert published.description_text_type == "markdown"
    assert published.testing_done == "Ran the tests."
    assert published.branch == "main"
    assert list(published.bugs_closed) == ["3", "12"]
    assert titles(published.target_people) == ["doc"]
    assert titles(published.target_groups) == ["devs"]
    assert published.close_description is None
    assert published.absolute_url.endswith(f"/r/{review_request_id}/")

    # The draft went away with the publish; the first publish records no change.
    with pytest.raises(APIError) as caught:
        published.get_draft()
    assert caught.value.http_status == 404
    assert caught.value.error_code == 100
    changes = published.get_changes()
    assert isinstance(changes, ChangeListResource)
    assert changes.total_results == 0

    stored = ReviewRequest.objects.get(pk=review_request_id)
    assert stored.public is True
    assert stored.repository == repository
    assert not ReviewRequestDraft.objects.filter(review_request=stored).exists()


def test_create_by_repository_path_id_or_none(
    people: dict[str, Any], repository: Repository, rb_client: Callable[..., Any]
) -> None:
    root = rb_client("doc", "doc").get_root()
    requests = root.get_review_requests()

    by_path = requests.create(repository="https://git.example.com/rbapi.git")
    assert by_path.get_repository().id == repository.pk
    by_id = requests.create(repository=repository.pk, commit_id="abc123")
    assert by_id.get_repository().id == repository.pk
    assert by_id.commit_id == "abc123"

    bare = requests.create()
    assert bare.repository is None
    assert "repository" not in bare.links
    assert bare.links["submitter"]["title"] == "doc"
    assert bare.get_submitter().username == "doc"

    # A second review request for the same commit in the same repository is 204.
    with pytest.raises(APIError) as caught:
        requests.create(repository="rbapi", commit_id="abc123")
    assert caught.value.http_status == 409
    assert caught.value.error_code == 204

    with pytest.raises(APIError) as caught:
        requests.create(repository="no-such-repository")
    assert caught.value.http_status == 400
    assert caught.value.error_code == 206

    assert ReviewRequest.objects.filter(submitter__username="doc").count() == 3


def test_admin_submits_as_another_user(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()

    created = root.get_review_requests().create(submit_as="doc")
    assert created.get_submitter().username == "doc"

    with pytest.raises(APIError) as caught:
        root.get_review_requests().create(submit_as="nobody")
    assert caught.value.http_status == 400
    assert caught.value.error_code == 208

    # Only admins (or holders of can_submit_as_another_user) may do this.
    grumpy_root = rb_client("grumpy", "grumpy").get_root()
    with pytest.raises(APIError) as caught:
        grumpy_root.get_review_requests().create(submit_as="doc")
    assert caught.value.http_status == 403
    assert caught.value.error_code == 101


# --- updates and the changes list ----------------------------------------------------------------


def test_update_with_change_description_and_changes(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()
    review_request = publish_new(root, "First cut", testing_done="Unit tests.")

    # rbt post's way to an update: POST the draft (get_or_create_draft), then PUT it.
    draft = review_request.get_or_create_draft()
    assert isinstance(draft, ReviewRequestDraftResource)
    assert draft.summary == "First cut"
    assert draft.changedescription == ""
    draft = draft.update(
        summary="Second cut",
        target_people="doc,grumpy",
        bugs_closed="7",
        changedescription="Addressed *feedback*.",
        changedescription_text_type="markdown",
    )
    assert draft.changedescription == "Addressed *feedback*."
    assert draft.changedescription_text_type == "markdown"
    draft.update(public=True)

    review_request = root.get_review_request(review_request_id=review_request.id)
    assert review_request.summary == "Second cut"
    assert titles(review_request.target_people) == ["doc", "grumpy"]

    changes = review_request.get_changes()
    assert changes.total_results == 1
    [change] = list(changes)
    assert isinstance(change, ChangeItemResource)
    assert change.text == "Addressed *feedback*."
    assert change.text_type == "markdown"
    fields_changed = change.fields_changed
    assert set(fields_changed) == {"summary", "target_people", "bugs_closed"}
    assert fields_changed["summary"]["old"] == "First cut"
    assert fields_changed["summary"]["new"] == "Second cut"
    target_people = fields_changed["target_people"]
    assert [user["username"] for user in target_people["old"]] == ["doc"]
    assert [user["username"] for user in target_people["new"]] == ["doc", "grumpy"]
    assert [user["username"] for user in target_people["added"]] == ["grumpy"]
    assert list(target_people["removed"]) == []
    assert list(fields_changed["bugs_closed"]["added"]) == ["7"]
    assert list(fields_changed["bugs_closed"]["old"]) == []

    # The item URL of the change, through its self link.
    again = change.get_self()
    assert again.id == change.id
    assert again.text == "Addressed *feedback*."

    # A third round: changes come newest first.
    fill_draft(review_request, "Third cut", target_people="doc,grumpy").update(
        changedescription="Renamed.", public=True
    )
    changes = review_request.get_changes()
    assert changes.total_results == 2
    assert [item.text for item in changes] == ["Renamed.", "Addressed *feedback*."]
    assert dict(changes[0].fields_changed["summary"]) == {"old": "Second cut", "new": "Third cut"}

    # Publishing a draft that changes nothing is 211 (HTTP 400), and the draft stays.
    draft = review_request.get_or_create_draft()
    with pytest.raises(APIError) as caught:
        draft.update(public=True)
    assert caught.value.http_status == 400
    assert caught.value.error_code == 211
    assert (
        root.get_review_request(review_request_id=review_request.id)
        .get_changes(counts_only=True)
        .count
        == 2
    )

    # Throwing the draft away: DELETE through its delete link.
    review_request.get_draft().delete()
    with pytest.raises(APIError) as caught:
        review_request.get_draft()
    assert caught.value.error_code == 100


# --- close, reopen, discard ----------------------------------------------------------------------


def test_close_as_submitted_and_reopen(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()
    review_request = publish_new(root, "Ready to land")

    closed = review_request.update(status="submitted", close_description="Landed.")
    assert isinstance(closed, ReviewRequestItemResource)
    assert closed.status == "submitted"
    assert closed.close_description == "Landed."
    assert closed.close_description_text_type == "plain"

    reread = root.get_review_request(review_request_id=review_request.id)
    assert reread.status == "submitted"
    assert reread.public is True
    assert reread.close_description == "Landed."

    [change] = list(reread.get_changes())
    assert change.text == "Landed."
    assert dict(change.fields_changed["status"]) == {"old": "P", "new": "S"}

    # Closing again with the same status edits the close description in place.
    edited = reread.update(
        status="submitted",
        close_description="Landed in **main**.",
        close_description_text_type="markdown",
    )
    assert edited.close_description == "Landed in **main**."
    assert edited.close_description_text_type == "markdown"
    assert reread.get_changes().total_results == 1

    # A submitted review request drops out of the default (pending) list.
    assert root.get_review_requests(counts_only=True).count == 0
    assert root.get_review_requests(status="submitted", counts_only=True).count == 1

    reopened = edited.update(status="pending")
    assert reopened.status == "pending"
    assert reopened.public is True
    assert reopened.close_description is None
    changes = reopened.get_changes()
    assert changes.total_results == 2
    assert dict(changes[0].fields_changed["status"]) == {"old": "S", "new": "P"}
    assert root.get_review_requests(counts_only=True).count == 1

    # RBTools' own helper sends the legacy ``description`` field.
    submitted = reopened.submit(description="Landed for real.")
    assert submitted.status == "submitted"
    assert submitted.close_description == "Landed for real."
    assert ReviewRequest.objects.get(pk=review_request.id).status == ReviewRequest.SUBMITTED


def test_discard_and_reopen(
    people: dict[str, Any], repository: Repository, rb_client: Callable[..., Any]
) -> None:
    root = rb_client("admin", "admin").get_root()
    created = root.get_review_requests().create(repository="rbapi", commit_id="deadbeef")
    fill_draft(created, "Doomed").update(public=True)

    discarded = created.update(status="discarded", close_description="Not needed.")
    assert discarded.status == "discarded"
    assert discarded.close_description == "Not needed."
    # Discarding frees the commit ID for another review request.
    assert discarded.commit_id is None
    again = root.get_review_requests().create(repository="rbapi", commit_id="deadbeef")
    assert again.commit_id == "deadbeef"

    listed = root.get_review_requests(status="discarded")
    assert [item.id for item in listed] == [created.id]

    # Reopening a discarded review request hides it again behind a draft to publish.
    reopened = discarded.update(status="pending")
    assert reopened.status == "pending"
    assert reopened.public is False
    draft = reopened.get_draft()
    assert draft.summary == "Doomed"
    draft.update(public=True)
    republished = root.get_review_request(review_request_id=created.id)
    assert republished.public is True
    assert republished.status == "pending"
    # Newest first: the reopening (published with the draft), then the discard.
    changes = republished.get_changes()
    assert [dict(change.fields_changed["status"]) for change in changes] == [
        {"old": "D", "new": "P"},
        {"old": "P", "new": "D"},
    ]
    assert [change.text for change in changes] == ["", "Not needed."]

    # A never-published review request can be discarded, not submitted.
    fresh = root.get_review_requests().create()
    with pytest.raises(APIError) as caught:
        fresh.update(status="submitted")
    assert caught.value.http_status == 500
    assert caught.value.error_code == 225
    assert fresh.update(status="discarded").status == "discarded"


def test_last_update(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    root = rb_client("admin", "admin").get_root()
    review_request = publish_new(root, "Watch me")

    last_update = review_request.get_last_update()
    assert isinstance(last_update, LastUpdateResource)
    assert last_update.type == "review-request"
    assert last_update.summary == "Review request updated"
    assert last_update.user["username"] == "admin"
    assert last_update.timestamp

    # A draft is invisible here; closing is not.
    fill_draft(review_request, "Watch me closely")
    assert review_request.get_last_update().summary == "Review request updated"
    review_request.update(status="submitted")
    assert review_request.get_last_update().summary == "Review request completed"
    review_request.update(status="pending")
    review_request.update(status="discarded")
    assert review_request.get_last_update().summary == "Review request discarded"


# --- lists ---------------------------------------------------------------------------------------


def test_listing_filters_and_counts(
    people: dict[str, Any], repository: Repository, rb_client: Callable[..., Any]
) -> None:
    doc_root = rb_client("doc", "doc").get_root()
    by_doc = publish_new(doc_root, "Doc's change", target_people="grumpy")
    doc_unpublished = doc_root.get_review_requests().create()

    root = rb_client("admin", "admin").get_root()
    to_doc = publish_new(root, "For doc", target_people="doc", repository="rbapi")
    to_devs = publish_new(root, "For the devs", target_people="", target_groups="devs")
    landed = publish_new(root, "Landed one")
    landed.update(status="submitted")
    admin_unpublished = root.get_review_requests().create()

    mine = root.get_review_requests(from_user="admin", status="all")
    assert isinstance(mine, ReviewRequestListResource)
    assert mine.total_results == 4
    # Newest-updated first; the owner sees their own unpublished request.
    assert [item.id for item in mine] == [
        admin_unpublished.id,
        landed.id,
        to_devs.id,
        to_doc.id,
    ]
    assert all(isinstance(item, ReviewRequestItemResource) for item in mine)

    pending = root.get_review_requests(from_user="admin")
    assert {item.id for item in pending} == {admin_unpublished.id, to_devs.id, to_doc.id}

    counts = root.get_review_requests(from_user="admin", status="all", counts_only=True)
    assert counts.count == 4
    assert root.get_review_requests(status="submitted", counts_only=True).count == 1

    assert [item.id for item in root.get_review_requests(to_groups="devs")] == [to_devs.id]
    assert {item.id for item in root.get_review_requests(to_users="doc")} == {
        to_doc.id,
        to_devs.id,
    }
    assert [item.id for item in root.get_review_requests(to_users_directly="doc")] == [to_doc.id]
    assert [item.id for item in root.get_review_requests(repository=repository.pk)] == [to_doc.id]
    from_doc = root.get_review_requests(from_user="doc")
    # A superuser sees everything, but unpublished requests of others only on request.
    assert [item.id for item in from_doc] == [by_doc.id]
    everything = root.get_review_requests(from_user="doc", show_all_unpublished=True)
    assert {item.id for item in everything} == {by_doc.id, doc_unpublished.id}

    # Pagination through RBTools' all_items keeps the filters.
    paged = root.get_review_requests(from_user="admin", status="all", max_results=1)
    assert paged.total_results == 4
    assert len(paged) == 1
    assert [item.id for item in paged.all_items] == [item.id for item in mine]

    # Someone else does not see admin's unpublished one.
    grumpy_root = rb_client("grumpy", "grumpy").get_root()
    seen = grumpy_root.get_review_requests(from_user="admin", status="all")
    assert admin_unpublished.id not in {item.id for item in seen}
    assert seen.total_results == 3

    # An unknown user in a filter is error 100.
    with pytest.raises(APIError) as caught:
        grumpy_root.get_review_requests(to_users="nobody")
    assert caught.value.error_code == 100


# --- errors --------------------------------------------------------------------------------------


def test_publish_errors(people: dict[str, Any], rb_client: Callable[..., Any]) -> None:
    root = rb_client("admin", "admin").get_root()
    created = root.get_review_requests().create()
    draft = created.get_draft().update(summary="Lonely", description="Nobody to review.")

    with pytest.raises(APIError) as caught:
        draft.update(public=True)
    assert caught.value.http_status == 500
    assert caught.value.error_code == 225
    assert caught.value.rsp["err"]["msg"] == REVIEWER_MISSING
    assert ReviewRequest.objects.get(pk=created.id).public is False

    draft = draft.update(summary="", target_people="doc")
    with pytest.raises(APIError) as caught:
        draft.update(public=True)
    assert caught.value.error_code == 225
    assert caught.value.rsp["err"]["msg"] == "Error publishing: The draft must have a summary."

    draft = draft.update(summary="Lonely", description="")
    with pytest.raises(APIError) as caught:
        draft.update(public=True)
    assert caught.value.error_code == 225
    assert caught.value.rsp["err"]["msg"] == "Error publishing: The draft must have a description."

    # Form errors are 105 with the offending fields; nothing is saved.
    with pytest.raises(APIError) as caught:
        draft.update(target_people="doc,nobody", target_groups="ghosts", summary="Changed")
    assert caught.value.http_status == 400
    assert caught.value.error_code == 105
    fields = caught.value.rsp["fields"]
    assert fields["target_people"] == ["nobody"]
    assert fields["target_groups"] == ["ghosts"]
    assert created.get_draft().summary == "Lonely"

    with pytest.raises(APIError) as caught:
        draft.update(summary="Two\nlines")
    assert caught.value.error_code == 105
    assert caught.value.rsp["fields"]["summary"] == ["The summary can't contain a newline"]

    with pytest.raises(APIError) as caught:
        draft.update(changedescription="Too early.")
    assert caught.value.error_code == 105
    assert "changedescription" in caught.value.rsp["fields"]


def test_other_user_cannot_touch_the_draft_or_status(
    people: dict[str, Any], live_server: Any, rb_client: Callable[..., Any]
) -> None:
    doc_root = rb_client("doc", "doc").get_root()
    review_request = publish_new(doc_root, "Doc's work")
    fill_draft(review_request, "Doc's work, revised")
    review_request_id = review_request.id

    grumpy_root = rb_client("grumpy", "grumpy").get_root()
    seen = grumpy_root.get_review_request(review_request_id=review_request_id)
    assert seen.summary == "Doc's work"

    for attempt in (
        seen.get_draft,
        lambda: seen.get_or_create_draft(),
        lambda: seen.update(status="discarded"),
        seen.delete,
    ):
        with pytest.raises(APIError) as caught:
            attempt()
        assert caught.value.http_status == 403
        assert caught.value.error_code == 101

    # The draft URL, updated directly: still 101, and nothing changed.
    draft_url = f"{live_server.url}/api/review-requests/{review_request_id}/draft/"
    with pytest.raises(APIError) as caught:
        grumpy_root._transport.server.make_request(raw_put(draft_url, summary="Grumpy was here"))
    assert caught.value.http_status == 403
    assert caught.value.error_code == 101

    stored = ReviewRequest.objects.get(pk=review_request_id)
    assert stored.status == ReviewRequest.PENDING
    assert ReviewRequestDraft.objects.get(review_request=stored).summary == "Doc's work, revised"

    # The owner cannot delete either (they discard); an admin can.
    doc_root = rb_client("doc", "doc").get_root()
    with pytest.raises(APIError) as caught:
        doc_root.get_review_request(review_request_id=review_request_id).delete()
    assert caught.value.error_code == 101
    admin_root = rb_client("admin", "admin").get_root()
    admin_root.get_review_request(review_request_id=review_request_id).delete()
    assert not ReviewRequest.objects.filter(pk=review_request_id).exists()


def test_anonymous_writes_are_not_logged_in(
    people: dict[str, Any], rb_client: Callable[..., Any]
) -> None:
    admin_root = rb_client("admin", "admin").get_root()
    review_request = publish_new(admin_root, "Public work")
    review_request_id = review_request.id

    root = rb_client().get_root()
    # Anonymous readers see published review requests...
    seen = root.get_review_request(review_request_id=review_request_id)
    assert seen.summary == "Public work"
    # ...but every write is 103 (HTTP 401).
    attempts = (
        lambda: root.get_review_requests().create(),
        lambda: seen.update(status="submitted"),
        lambda: seen.get_or_create_draft(),
        seen.get_draft,
    )
    for attempt in attempts:
        with pytest.raises(AuthorizationError) as caught:
            attempt()
        assert caught.value.http_status == 401
        assert caught.value.error_code == 103
    assert ReviewRequest.objects.count() == 1
    assert ReviewRequest.objects.get().status == ReviewRequest.PENDING


# --- the rbt commands ----------------------------------------------------------------------------


def server_args(live_server: Any, username: str = "admin") -> tuple[str, ...]:
    return (
        "--server",
        live_server.url,
        "--username",
        username,
        "--password",
        username,
        "--disable-cache",
    )


def test_rbt_publish(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    root = rb_client("admin", "admin").get_root()
    created = root.get_review_requests().create()
    fill_draft(created, "Published by rbt", target_groups="devs")
    cwd = tmp_path / "work"

    result = run_rbt(
        "publish",
        *server_args(live_server),
        "--trivial",
        str(created.id),
        home=_isolated_home,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Review request #{created.id} is published." in result.stdout + result.stderr

    stored = ReviewRequest.objects.get(pk=created.id)
    assert stored.public is True
    assert stored.summary == "Published by rbt"
    assert list(stored.target_groups.values_list("name", flat=True)) == ["devs"]
    assert not ReviewRequestDraft.objects.filter(review_request=stored).exists()

    # An update published with a change description, as JSON output.
    fill_draft(created, "Published by rbt, again", target_groups="devs")
    result = run_rbt(
        "publish",
        *server_args(live_server),
        "--json",
        "-m",
        "Second *round*.",
        "--markdown",
        str(created.id),
        home=_isolated_home,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "success"
    assert payload["review_request_id"] == created.id
    assert payload["review_request_url"].endswith(f"/r/{created.id}/")
    [change] = list(root.get_review_request(review_request_id=created.id).get_changes())
    assert change.text == "Second *round*."
    assert change.text_type == "markdown"
    assert dict(change.fields_changed["summary"]) == {
        "old": "Published by rbt",
        "new": "Published by rbt, again",
    }

    # Nothing left to publish: rbt reports the server's error and fails.
    result = run_rbt(
        "publish", *server_args(live_server), str(created.id), home=_isolated_home, cwd=cwd
    )
    assert result.returncode != 0
    assert "Error publishing review request" in result.stdout + result.stderr


def test_rbt_publish_without_reviewers_fails(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    root = rb_client("doc", "doc").get_root()
    created = root.get_review_requests().create()
    fill_draft(created, "No reviewers", target_people="")

    result = run_rbt(
        "publish",
        *server_args(live_server, "doc"),
        str(created.id),
        home=_isolated_home,
        cwd=tmp_path / "work",
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "There must be at least one reviewer" in output
    assert ReviewRequest.objects.get(pk=created.id).public is False


def test_rbt_close_completed_and_discarded(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    root = rb_client("admin", "admin").get_root()
    landing = publish_new(root, "Landing")
    dropping = publish_new(root, "Dropping")
    cwd = tmp_path / "work"

    # The default close type is "completed", which is status=submitted on the wire.
    result = run_rbt(
        "close",
        *server_args(live_server),
        "--description",
        "Landed.",
        str(landing.id),
        home=_isolated_home,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Review request #{landing.id} is set to completed." in result.stdout + result.stderr
    assert ReviewRequest.objects.get(pk=landing.id).status == ReviewRequest.SUBMITTED
    closed = root.get_review_request(review_request_id=landing.id)
    assert closed.status == "submitted"
    assert closed.close_description == "Landed."

    result = run_rbt(
        "close",
        *server_args(live_server),
        "--close-type",
        "discarded",
        "--json",
        str(dropping.id),
        home=_isolated_home,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "success"
    assert payload["close_type"] == "discarded"
    assert int(payload["review_request_id"]) == dropping.id  # rbt echoes the argument
    assert ReviewRequest.objects.get(pk=dropping.id).status == ReviewRequest.DISCARDED
    assert root.get_review_request(review_request_id=dropping.id).close_description == ""

    # Closing again the same way is refused by rbt itself after reading the status.
    result = run_rbt(
        "close", *server_args(live_server), str(landing.id), home=_isolated_home, cwd=cwd
    )
    assert result.returncode != 0
    assert "already closed as completed" in result.stdout + result.stderr

    # Someone else may not close it: rbt surfaces the 403.
    other = publish_new(root, "Not grumpy's")
    result = run_rbt(
        "close", *server_args(live_server, "grumpy"), str(other.id), home=_isolated_home, cwd=cwd
    )
    assert result.returncode != 0
    assert "API Error 101" in result.stdout + result.stderr
    assert ReviewRequest.objects.get(pk=other.id).status == ReviewRequest.PENDING


REMOTE_URL = "https://git.example.com/localgit.git"


def make_checkout(path: Path, *, reviewboardrc: str | None = None) -> Path:
    """A throwaway git checkout whose origin is ``REMOTE_URL`` (never contacted)."""
    path.mkdir()
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GIT_")},
        "GIT_AUTHOR_NAME": "Admin",
        "GIT_AUTHOR_EMAIL": "admin@example.com",
        "GIT_COMMITTER_NAME": "Admin",
        "GIT_COMMITTER_EMAIL": "admin@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=path, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (path / "README").write_text("hello\n")
    git("add", "README")
    git("commit", "-q", "-m", "Initial commit")
    git("remote", "add", "origin", REMOTE_URL)
    if reviewboardrc is not None:
        (path / ".reviewboardrc").write_text(reviewboardrc)
    return path


def test_rbt_status_in_a_checkout(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    """``rbt status`` in a checkout finds the server's repository by the origin URL, then lists
    the user's pending requests in it.

    The lookup is ``GET repositories/?path=<origin>&tool=Git,...`` with
    ``only-links=info,diff_file_attachments``, then it follows the repository's ``info`` link
    (Review Board answers 209 / HTTP 501 for plain Git, which RBTools accepts). Without an
    ``info`` link RBTools' ``get_info()`` stub raises ``NotImplementedError`` and rbt dies.
    """
    Repository.objects.create(name="localgit", path=REMOTE_URL, tool="Git")
    root = rb_client("admin", "admin").get_root()
    first = publish_new(root, "First local change", repository="localgit")
    second = publish_new(root, "Second local change", repository="localgit")
    drafted = root.get_review_requests().create(repository="localgit")
    fill_draft(drafted, "Only a draft so far")
    landed = publish_new(root, "Already landed", repository="localgit")
    landed.update(status="submitted")
    elsewhere = publish_new(root, "Not in this repository")

    doc_root = rb_client("doc", "doc").get_root()
    docs = publish_new(doc_root, "Doc's local change", repository="localgit")

    checkout = make_checkout(tmp_path / "checkout")
    result = run_rbt(
        "status", *server_args(live_server), "--json", home=_isolated_home, cwd=checkout
    )
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "success", payload
    listed = {item["review_request_id"]: item for item in payload["review_requests"]}
    # Only admin's pending requests in the detected repository; a draft shows its draft summary.
    assert set(listed) == {first.id, second.id, drafted.id}
    assert listed[first.id]["summary"] == "First local change"
    assert listed[first.id]["status"] == "Pending"
    assert listed[first.id]["has_draft"] is True  # ``draft: []`` from expand=draft
    assert listed[second.id]["summary"] == "Second local change"
    assert listed[drafted.id]["summary"] == "Only a draft so far"
    assert listed[drafted.id]["status"] == "Draft"
    assert landed.id not in listed
    assert elsewhere.id not in listed
    assert docs.id not in listed

    # The plain table lists the same.
    result = run_rbt("status", *server_args(live_server), home=_isolated_home, cwd=checkout)
    assert result.returncode == 0, result.stdout + result.stderr
    for summary in ("First local change", "Second local change", "Only a draft so far"):
        assert summary in result.stdout
    assert "Not in this repository" not in result.stdout


def test_rbt_status_all_repositories(
    people: dict[str, Any],
    repository: Repository,
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    """``rbt status --all`` needs no checkout: every pending request of the user, drafts
    shown with their draft summary (``expand=draft``)."""
    root = rb_client("admin", "admin").get_root()
    published = publish_new(root, "Published one", repository="rbapi")
    drafted = root.get_review_requests().create()
    fill_draft(drafted, "Drafted one")
    revised = publish_new(root, "Revised one")
    fill_draft(revised, "Revised one, v2")
    landed = publish_new(root, "Landed one")
    landed.update(status="submitted")
    doc_root = rb_client("doc", "doc").get_root()
    publish_new(doc_root, "Doc's one")

    cwd = tmp_path / "work"
    result = run_rbt(
        "status",
        *server_args(live_server),
        "--all",
        "--format",
        "%(id)s|%(status)s|%(summary)s",
        home=_isolated_home,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{revised.id}|Draft|Revised one, v2",
        f"{drafted.id}|Draft|Drafted one",
        f"{published.id}|Pending|Published one",
    ]

    result = run_rbt(
        "status", *server_args(live_server), "--all", "--json", home=_isolated_home, cwd=cwd
    )
    assert result.returncode == 0, result.stdout + result.stderr
    payload = json.loads(result.stdout)
    listed = {item["review_request_id"]: item for item in payload["review_requests"]}
    assert set(listed) == {published.id, drafted.id, revised.id}
    assert listed[published.id]["review_request_url"].endswith(f"/r/{published.id}/")
    assert listed[published.id]["shipit_count"] == 0
    assert listed[published.id]["open_issue_count"] == 0
    assert listed[published.id]["approved"] is False


def test_rbt_status_with_reviewboardrc(
    people: dict[str, Any],
    live_server: Any,
    rb_client: Callable[..., Any],
    _isolated_home: Path,
    tmp_path: Path,
) -> None:
    # The server knows the repository under another path; the checkout names it instead
    # (``GET repositories/?name=localgit``; the ``info`` link is needed here too).
    Repository.objects.create(name="localgit", path="/srv/git/localgit.git", tool="Git")
    Repository.objects.create(name="other", path="/srv/git/other.git", tool="Git")
    doc_root = rb_client("doc", "doc").get_root()
    mine = publish_new(doc_root, "Named by .reviewboardrc", repository="localgit")
    publish_new(doc_root, "In the other repository", repository="other")

    checkout = make_checkout(
        tmp_path / "checkout",
        reviewboardrc=f"REVIEWBOARD_URL = {live_server.url!r}\nREPOSITORY = 'localgit'\n",
    )
    result = run_rbt(
        "status",
        "--username",
        "doc",
        "--password",
        "doc",
        "--disable-cache",
        "--format",
        "%(id)s:%(summary)s",
        home=_isolated_home,
        cwd=checkout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{mine.id}:Named by .reviewboardrc"]
