"""reviews.services and the review request model rules: create, draft, publish, close,
reopen, visibility and access."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from changes.models import ChangeDescription
from reviews.errors import CommitIdInUseError, NothingToPublishError, PublishError
from reviews.models import Group, Repository, ReviewRequest, ReviewRequestDraft
from reviews.services import (
    draft_get_or_create,
    review_request_close,
    review_request_create,
    review_request_publish,
    review_request_reopen,
)

from ..conftest import make_user

pytestmark = pytest.mark.django_db


def fill(draft: ReviewRequestDraft, *, people=(), groups=(), **values) -> ReviewRequestDraft:
    for name, value in {"summary": "Add frobnicator", "description": "Adds it.", **values}.items():
        setattr(draft, name, value)
    draft.save()
    draft.target_people.set(people)
    draft.target_groups.set(groups)
    return draft


@pytest.fixture
def published(owner, other):
    request = review_request_create(submitter=owner)
    fill(request.draft, people=[other], bugs_closed="102, #101")
    return review_request_publish(review_request=request, user=owner)


def test_create_makes_an_unpublished_request_with_a_draft(owner):
    request = review_request_create(submitter=owner, extra_data={"a": 1})
    assert (request.status, request.public, request.extra_data) == ("P", False, {"a": 1})
    assert ReviewRequestDraft.objects.filter(review_request=request).count() == 1


def test_commit_ids_are_unique_per_repository(owner):
    repo = Repository.objects.create(name="git", path="/git")
    review_request_create(submitter=owner, repository=repo, commit_id="abc")
    with pytest.raises(CommitIdInUseError):
        review_request_create(submitter=owner, repository=repo, commit_id="abc")
    other_repo = Repository.objects.create(name="git2", path="/git2")
    review_request_create(submitter=owner, repository=other_repo, commit_id="abc")
    assert ReviewRequest.objects.filter(commit_id="abc").count() == 2


def test_one_draft_per_review_request(owner):
    request = review_request_create(submitter=owner)
    assert draft_get_or_create(review_request=request).pk == request.draft.pk
    assert ReviewRequestDraft.objects.count() == 1


def test_first_publish(published, other):
    assert published.public and published.summary == "Add frobnicator"
    assert published.get_bugs() == ["101", "102"]
    assert list(published.target_people.all()) == [other]
    assert published.time_added == published.last_updated
    assert not ReviewRequestDraft.objects.exists()
    assert not ChangeDescription.objects.exists()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"people": []},
            "There must be at least one reviewer before this review request can be published.",
        ),
        ({"summary": " "}, "The draft must have a summary."),
        ({"description": ""}, "The draft must have a description."),
    ],
)
def test_publish_checks_store_nothing(owner, other, values, message):
    request = review_request_create(submitter=owner)
    fill(request.draft, **{"people": [other], **values})
    with pytest.raises(PublishError) as info:
        review_request_publish(review_request=request, user=owner)
    assert str(info.value) == message
    request.refresh_from_db()
    assert not request.public and request.summary == ""
    assert ReviewRequestDraft.objects.filter(review_request=request).exists()


def test_later_publish_records_changes(published, owner, other, admin):
    devs = Group.objects.create(name="devs", display_name="Devs")
    draft = draft_get_or_create(review_request=published)
    assert draft.changedesc is not None and not draft.changedesc.public
    fill(
        draft,
        summary="Add frobnicator (v2)",
        people=[other, admin],
        groups=[devs],
        bugs_closed="101,103",
    )
    review_request_publish(review_request=published, user=owner)
    change = published.changedescs.get()
    assert change.public and change.user == owner
    assert change.fields_changed["summary"] == {
        "old": ["Add frobnicator"],
        "new": ["Add frobnicator (v2)"],
    }
    assert change.fields_changed["bugs_closed"] == {
        "old": [["101"], ["102"]],
        "new": [["101"], ["103"]],
        "added": [["103"]],
        "removed": [["102"]],
    }
    assert change.fields_changed["target_people"]["added"] == [
        ["admin", "/users/admin/", admin.pk]
    ]
    assert change.fields_changed["target_groups"]["added"] == [["devs", "/groups/devs/", devs.pk]]
    assert "description" not in change.fields_changed


def test_publishing_nothing_is_211_and_rolls_back(published, owner):
    draft_get_or_create(review_request=published)
    with pytest.raises(NothingToPublishError):
        review_request_publish(review_request=published, user=owner)
    assert ReviewRequestDraft.objects.filter(review_request=published).exists()
    assert not ChangeDescription.objects.filter(public=True).exists()


def test_close_and_edit_the_close_description(published, owner):
    review_request_close(review_request=published, user=owner, status="S", description="Landed.")
    published.refresh_from_db()
    assert published.status == "S"
    change = published.changedescs.get()
    assert (change.text, change.fields_changed) == (
        "Landed.",
        {"status": {"old": ["P"], "new": ["S"]}},
    )
    review_request_close(
        review_request=published,
        user=owner,
        status="S",
        description="Landed on main.",
        rich_text=True,
    )
    change = published.changedescs.get()
    assert (change.text, change.rich_text) == ("Landed on main.", True)


def test_submitting_an_unpublished_request_fails(owner):
    request = review_request_create(submitter=owner)
    with pytest.raises(PublishError):
        review_request_close(review_request=request, user=owner, status="S")
    assert ReviewRequest.objects.get(pk=request.pk).status == "P"
    assert not ChangeDescription.objects.exists()


def test_discard_frees_the_commit_id_and_reopen_needs_a_new_publish(owner, other):
    repo = Repository.objects.create(name="git", path="/git")
    request = review_request_create(submitter=owner, repository=repo, commit_id="abc")
    fill(request.draft, people=[other], commit_id="abc")
    review_request_publish(review_request=request, user=owner)
    review_request_close(review_request=request, user=owner, status="D")
    request.refresh_from_db()
    assert (request.status, request.commit_id) == ("D", None)
    review_request_create(submitter=owner, repository=repo, commit_id="abc")

    review_request_reopen(review_request=request, user=owner)
    request.refresh_from_db()
    assert (request.status, request.public) == ("P", False)
    draft = request.draft
    assert draft.changedesc.fields_changed == {"status": {"old": ["D"], "new": ["P"]}}
    review_request_publish(review_request=request, user=owner)
    request.refresh_from_db()
    assert request.public
    assert request.changedescs.filter(public=True).count() == 2


def test_reopen_submitted_stays_public(published, owner):
    review_request_close(review_request=published, user=owner, status="S")
    review_request_reopen(review_request=published, user=owner)
    published.refresh_from_db()
    assert (published.status, published.public) == ("P", True)
    assert published.changedescs.first().fields_changed == {"status": {"old": ["S"], "new": ["P"]}}


class TestAccess:
    def test_unpublished_is_private_to_the_owner(self, owner, other, admin):
        request = review_request_create(submitter=owner)
        assert request.is_accessible_by(owner) and request.is_accessible_by(admin)
        assert not request.is_accessible_by(other)
        assert not request.is_accessible_by(AnonymousUser())
        other.user_permissions.add(Permission.objects.get(codename="can_edit_reviewrequest"))
        other = type(other).objects.get(pk=other.pk)
        assert request.is_accessible_by(other) and request.is_mutable_by(other)

    def test_invite_only_groups_and_private_repositories(self, published, owner, other, admin):
        outsider = make_user("dopey")
        secret = Group.objects.create(name="secret", display_name="S", invite_only=True)
        published.target_groups.set([secret])
        published.target_people.clear()
        assert not published.is_accessible_by(outsider)
        assert not published.is_accessible_by(AnonymousUser())
        secret.users.add(outsider)
        assert published.is_accessible_by(outsider)
        repo = Repository.objects.create(name="p", path="/p", public=False)
        published.repository = repo
        published.save()
        assert not published.is_accessible_by(outsider)
        assert published.is_accessible_by(owner) and published.is_accessible_by(admin)

    def test_list_visibility_matches_the_item_rule(self, published, owner, other, admin):
        outsider = make_user("dopey")
        unpublished = review_request_create(submitter=owner)
        secret = Group.objects.create(name="secret", display_name="S", invite_only=True)
        hidden = review_request_create(submitter=other)
        fill(hidden.draft, groups=[secret])
        review_request_publish(review_request=hidden, user=other)
        users = [owner, other, admin, outsider, AnonymousUser()]
        requests = [ReviewRequest.objects.get(pk=r.pk) for r in (published, unpublished, hidden)]
        for user in users:
            listed = set(ReviewRequest.objects.accessible(user).values_list("pk", flat=True))
            expected = {
                r.pk
                for r in requests
                if r.is_accessible_by(user) and (r.public or r.submitter_id == user.pk)
            }
            assert listed == expected, user
        assert set(ReviewRequest.objects.accessible(admin, show_all_unpublished=True)) == set(
            requests
        )

    def test_status_rights(self, published, owner, other):
        assert published.is_status_mutable_by(owner)
        assert not published.is_status_mutable_by(other)
        other.user_permissions.add(Permission.objects.get(codename="can_change_status"))
        other = type(other).objects.get(pk=other.pk)
        assert published.is_status_mutable_by(other) and not published.is_mutable_by(other)
