"""Hidden objects never leak through another object: drafts' lookups, expansion, change
records, status update links and error payloads (reliability.md §1.4 gap 4, CVE-2013-4411
class)."""

from __future__ import annotations

import pytest

from reviews.models import Group, Repository, ReviewRequest
from reviews.services import (
    draft_get_or_create,
    review_get_or_create_draft,
    review_request_publish,
)
from status_updates.models import StatusUpdate

from ..conftest import assert_error, assert_ok, make_user
from ..factories import make_review_request, update_and_publish

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def cabal(admin):
    group = Group.objects.create(
        name="cabal", display_name="Cabal", invite_only=True, mailing_list="secret@example.com"
    )
    group.users.add(admin)
    return group


@pytest.fixture
def secret_request(admin):
    """A published review request in a private repository only admin may use."""
    repo = Repository.objects.create(name="vault", path="/vault", public=False)
    reviewer = make_user("insider")
    repo.users.add(reviewer)
    return make_review_request(
        submitter=admin,
        repository=repo,
        people=[reviewer],
        summary="Secret plan",
        description="Top secret",
        publish=True,
    )


def test_draft_cannot_reference_hidden_requests_or_groups(
    owner, other, owner_client, secret_request, cabal
):
    mine = make_review_request(submitter=owner, people=[other], publish=True)
    url = f"/api/review-requests/{mine.pk}/draft/?expand=depends_on,target_groups"
    body = assert_error(
        owner_client.put(
            url, f"depends_on={secret_request.pk}&target_groups=cabal", content_type=FORM
        ),
        400,
        105,
    )
    assert body["fields"] == {"depends_on": [str(secret_request.pk)], "target_groups": ["cabal"]}
    assert "Secret plan" not in str(body) and "secret@example.com" not in str(body)


def test_changes_leave_out_hidden_objects(
    owner, other, admin, cabal, secret_request, other_client
):
    mine = make_review_request(submitter=owner, people=[other], publish=True)
    # Set by someone who may (a superuser), then read back by someone who may not.
    mine = update_and_publish(mine, user=admin, summary="v2")
    draft = draft_get_or_create(review_request=mine)
    draft.depends_on.set([secret_request])
    draft.target_groups.set([cabal])
    review_request_publish(review_request=mine, user=admin)
    # grumpy still sees the request (a target person) but neither the private request it now
    # depends on nor the invite-only group.
    body = assert_ok(other_client.get(f"/api/review-requests/{mine.pk}/changes/"))
    text = str(body)
    assert "Secret plan" not in text and "secret@example.com" not in text
    latest = body["changes"][0]["fields_changed"]
    assert latest["depends_on"]["added"] == [] and latest["target_groups"]["added"] == []
    item = assert_ok(other_client.get(f"/api/review-requests/{mine.pk}/?expand=depends_on"))
    assert item["review_request"]["depends_on"] == []
    assert item["review_request"]["target_groups"] == []


def test_status_update_cannot_point_at_someone_elses_draft(owner, other, other_client):
    mine = make_review_request(submitter=owner, people=[other], publish=True)
    draft, _ = review_get_or_create_draft(review_request=mine, user=owner)
    body = assert_error(
        other_client.post(
            f"/api/review-requests/{mine.pk}/status-updates/",
            {"service_id": "ci", "summary": "CI", "review_id": str(draft.pk)},
        ),
        400,
        105,
    )
    assert body["fields"] == {"review_id": ["Invalid review ID"]}
    assert not StatusUpdate.objects.exists()


def test_commit_conflict_names_the_holder_only_to_those_who_see_it(admin, owner, owner_client):
    repo = Repository.objects.create(name="git", path="/git")
    holder = make_review_request(submitter=admin, repository=repo, commit_id="abc")
    ReviewRequest.objects.filter(pk=holder.pk).update(commit_id="abc")
    body = assert_error(
        owner_client.post(
            "/api/review-requests/", {"repository": str(repo.pk), "commit_id": "abc"}
        ),
        409,
        204,
    )
    assert "review_request" not in body
