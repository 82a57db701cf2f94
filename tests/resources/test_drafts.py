"""/api/review-requests/{review_request_id}/draft/."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from changes.models import ChangeDescription
from reviews.models import Group, Repository, ReviewRequest, ReviewRequestDraft

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def devs(owner, other):
    group = Group.objects.create(name="devs", display_name="Developers")
    group.users.add(other)
    return group


@pytest.fixture
def fresh(owner):
    """An unpublished review request of doc's with an empty draft."""
    return make_review_request(submitter=owner, summary="", description="")


def url(review_request) -> str:
    return f"/api/review-requests/{review_request.pk}/draft/"


class TestGet:
    def test_golden(self, fresh, owner_client):
        ReviewRequestDraft.objects.filter(review_request=fresh).update(
            summary="Unpublished draft", description="WIP"
        )
        response = owner_client.get(url(fresh))
        body = assert_ok(response, mimetype="review-request-draft")
        draft = fresh.draft
        href = f"{BASE}/api/review-requests/{fresh.pk}/draft/"
        assert body["draft"] == {
            "branch": "",
            "bugs_closed": [],
            "changedescription": "",
            "changedescription_text_type": "plain",
            "commit_id": None,
            "depends_on": [],
            "description": "WIP",
            "description_text_type": "plain",
            "extra_data": {},
            "id": draft.pk,
            "last_updated": body["draft"]["last_updated"],
            "links": {
                "delete": {"href": href, "method": "DELETE"},
                "draft_diffs": {"href": f"{href}diffs/", "method": "GET"},
                "draft_file_attachments": {"href": f"{href}file-attachments/", "method": "GET"},
                "draft_screenshots": {"href": f"{href}screenshots/", "method": "GET"},
                "review_request": {
                    "href": f"{BASE}/api/review-requests/{fresh.pk}/",
                    "method": "GET",
                    "title": "(no summary)",
                },
                "self": {"href": href, "method": "GET"},
                "submitter": {"href": f"{BASE}/api/users/doc/", "method": "GET", "title": "doc"},
                "update": {"href": href, "method": "PUT"},
            },
            "public": False,
            "summary": "Unpublished draft",
            "target_groups": [],
            "target_people": [],
            "testing_done": "",
            "testing_done_text_type": "plain",
            "text_type": None,
        }
        assert owner_client.get(url(fresh), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304

    def test_who_may_see_it(self, fresh, anon_client, other_client, admin_client, other):
        assert_error(anon_client.get(url(fresh)), 401, 103)
        assert_error(other_client.get(url(fresh)), 403, 101)
        assert_ok(admin_client.get(url(fresh)))
        other.user_permissions.add(Permission.objects.get(codename="can_edit_reviewrequest"))
        assert_ok(other_client.get(url(fresh)))

    def test_no_draft_is_100_for_editors_and_403_for_others(
        self, owner, other, owner_client, other_client
    ):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        assert_error(owner_client.get(url(published)), 404, 100)
        assert_error(other_client.get(url(published)), 403, 101)

    def test_unknown_review_request(self, owner_client):
        assert_error(owner_client.get("/api/review-requests/999/draft/"), 404, 100)


class TestUpdate:
    def test_fields(self, fresh, devs, owner, other, owner_client):
        blocker = make_review_request(submitter=owner, people=[other], publish=True)
        response = owner_client.put(
            url(fresh),
            (
                "summary=Add frobnicator&description=This adds a **frobnicator** stage."
                "&description_text_type=markdown&testing_done=Ran the tests.&branch=main"
                f"&bugs_closed=%23102, 101,102&target_people=GRUMPY&target_groups=Devs"
                f"&depends_on={blocker.pk}&extra_data.ci=true"
            ),
            content_type=FORM,
        )
        draft = assert_ok(response)["draft"]
        assert draft["summary"] == "Add frobnicator"
        assert draft["description_text_type"] == "markdown"
        assert draft["bugs_closed"] == ["101", "102"]
        assert [p["title"] for p in draft["target_people"]] == ["grumpy"]
        assert [g["title"] for g in draft["target_groups"]] == ["devs"]
        assert [d["href"] for d in draft["depends_on"]] == [
            f"{BASE}/api/review-requests/{blocker.pk}/"
        ]
        assert draft["extra_data"] == {"ci": True}
        stored = ReviewRequestDraft.objects.get(review_request=fresh)
        assert (stored.summary, stored.description_rich_text, stored.branch) == (
            "Add frobnicator",
            True,
            "main",
        )
        # The review request itself is untouched until publishing.
        assert ReviewRequest.objects.get(pk=fresh.pk).summary == ""

    def test_lists_replace_the_whole_set(self, fresh, devs, owner, other, admin, owner_client):
        owner_client.put(url(fresh), "target_people=grumpy,admin", content_type=FORM)
        owner_client.put(url(fresh), "target_people=admin", content_type=FORM)
        assert list(fresh.draft.target_people.values_list("username", flat=True)) == ["admin"]

    def test_post_creates_the_draft_with_201(self, owner, other, owner_client):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        response = owner_client.post(url(published), {"summary": "New summary"})
        body = assert_ok(response, 201, mimetype="review-request-draft")
        assert body["draft"]["summary"] == "New summary"
        assert body["draft"]["target_people"][0]["title"] == "grumpy"
        assert ReviewRequestDraft.objects.get(review_request=published).changedesc is not None

    def test_validation_errors_are_105_with_fields_and_the_draft(self, fresh, owner_client):
        fresh.draft.summary = "Keep me"
        fresh.draft.save()
        response = owner_client.put(
            url(fresh),
            (
                "summary=a%0Ab&target_people=ghost,doc&target_groups=nogroup&depends_on=999"
                "&changedescription=x"
            ),
            content_type=FORM,
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {
            "summary": ["The summary can't contain a newline"],
            "target_people": ["ghost"],
            "target_groups": ["nogroup"],
            "depends_on": ["999"],
            "changedescription": [
                "Change descriptions cannot be used for drafts of new review requests"
            ],
        }
        assert body["draft"]["summary"] == "Keep me"
        assert ReviewRequestDraft.objects.get(review_request=fresh).summary == "Keep me"

    def test_long_summary_is_cut_at_a_sentence(self, fresh, owner_client):
        summary = "First sentence. " + "x" * 400
        body = assert_ok(owner_client.put(url(fresh), f"summary={summary}", content_type=FORM))
        assert body["draft"]["summary"] == "First sentence."

    def test_commit_id_conflict_is_227(self, owner, owner_client):
        repo = Repository.objects.create(name="git", path="/git")
        make_review_request(submitter=owner, repository=repo, commit_id="abc")
        taken = ReviewRequest.objects.get()
        ReviewRequest.objects.filter(pk=taken.pk).update(commit_id="abc")
        mine = make_review_request(submitter=owner, repository=repo)
        body = assert_error(
            owner_client.put(url(mine), "commit_id=abc", content_type=FORM), 409, 227
        )
        assert body["err"]["msg"] == "Review request with this commit ID already exists."
        assert (
            assert_ok(owner_client.put(url(mine), "commit_id=def", content_type=FORM))["draft"][
                "commit_id"
            ]
            == "def"
        )

    def test_submitter_change(self, fresh, owner_client, other):
        body = assert_ok(owner_client.put(url(fresh), "submitter=grumpy", content_type=FORM))
        assert body["draft"]["links"]["submitter"]["title"] == "grumpy"
        body = assert_error(
            owner_client.put(url(fresh), "submitter=a,b", content_type=FORM), 400, 105
        )
        assert list(body["fields"]) == ["submitter"]

    def test_others_cannot_edit(self, owner, other, other_client, anon_client):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        assert_error(
            other_client.put(url(published), "summary=hijacked", content_type=FORM), 403, 101
        )
        assert_error(
            anon_client.put(url(published), "summary=hijacked", content_type=FORM), 401, 103
        )
        assert not ReviewRequestDraft.objects.filter(review_request=published).exists()
        assert ReviewRequest.objects.get(pk=published.pk).summary == "Add frobnicator"


class TestPublish:
    def test_first_publish(self, fresh, devs, owner_client):
        owner_client.put(
            url(fresh), "summary=S&description=D&target_groups=devs", content_type=FORM
        )
        response = owner_client.put(url(fresh), "public=1", content_type=FORM)
        body = assert_ok(response, mimetype="review-request-draft")
        assert body["draft"]["summary"] == "S"
        request = ReviewRequest.objects.get(pk=fresh.pk)
        assert (request.public, request.summary, request.description) == (True, "S", "D")
        assert not ReviewRequestDraft.objects.filter(review_request=fresh).exists()
        assert not ChangeDescription.objects.exists()

    @pytest.mark.parametrize("value", ["1", "true", "True", "0"])
    def test_any_public_value_publishes(self, fresh, devs, owner_client, value):
        owner_client.put(
            url(fresh), "summary=S&description=D&target_groups=devs", content_type=FORM
        )
        assert_ok(owner_client.put(url(fresh), f"public={value}", content_type=FORM))
        assert ReviewRequest.objects.get(pk=fresh.pk).public

    @pytest.mark.parametrize(
        ("form", "message"),
        [
            (
                "summary=S&description=D",
                "There must be at least one reviewer before this review request can be published.",
            ),
            ("description=D&target_groups=devs", "The draft must have a summary."),
            ("summary=S&target_groups=devs", "The draft must have a description."),
        ],
    )
    def test_publish_errors_are_225_with_http_500(self, fresh, devs, owner_client, form, message):
        owner_client.put(url(fresh), form, content_type=FORM)
        body = assert_error(owner_client.put(url(fresh), "public=1", content_type=FORM), 500, 225)
        assert body["err"]["msg"] == f"Error publishing: {message}"
        assert not ReviewRequest.objects.get(pk=fresh.pk).public

    def test_later_publish_records_a_change(self, owner, other, admin, owner_client):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        owner_client.put(
            url(published),
            (
                "summary=Add frobnicator (v2)&target_people=grumpy,admin"
                "&changedescription=Addressed *feedback*.&changedescription_text_type=markdown"
            ),
            content_type=FORM,
        )
        draft = assert_ok(owner_client.get(url(published)))["draft"]
        assert (draft["changedescription"], draft["changedescription_text_type"]) == (
            "Addressed *feedback*.",
            "markdown",
        )
        assert_ok(owner_client.put(url(published), "public=1", content_type=FORM))
        change = ChangeDescription.objects.get(review_request=published)
        assert (change.public, change.text, change.rich_text) == (
            True,
            "Addressed *feedback*.",
            True,
        )
        assert change.fields_changed["summary"] == {
            "old": ["Add frobnicator"],
            "new": ["Add frobnicator (v2)"],
        }
        assert change.fields_changed["target_people"]["added"] == [
            ["admin", "/users/admin/", admin.pk]
        ]

    def test_publishing_nothing_is_211(self, owner, other, owner_client):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        owner_client.post(url(published), {})
        body = assert_error(
            owner_client.put(url(published), "public=1", content_type=FORM), 400, 211
        )
        assert body["err"]["msg"] == (
            "You attempted to publish a review request without any modifications."
        )

    def test_post_on_a_discarded_request_reopens_it(self, owner, other, owner_client):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        owner_client.put(
            f"/api/review-requests/{published.pk}/", "status=discarded", content_type=FORM
        )
        assert_ok(owner_client.post(url(published), {"summary": "Back"}), 201)
        request = ReviewRequest.objects.get(pk=published.pk)
        assert (request.status, request.public) == ("P", False)
        assert_ok(owner_client.put(url(published), "public=1", content_type=FORM))
        request = ReviewRequest.objects.get(pk=published.pk)
        assert (request.status, request.public, request.summary) == ("P", True, "Back")


class TestDelete:
    def test_discard_the_draft(self, owner, other, owner_client):
        published = make_review_request(submitter=owner, people=[other], publish=True)
        owner_client.post(url(published), {"summary": "Throw away"})
        assert owner_client.delete(url(published)).status_code == 204
        assert not ReviewRequestDraft.objects.exists()
        assert not ChangeDescription.objects.exists()
        assert_error(owner_client.delete(url(published)), 404, 100)
        assert ReviewRequest.objects.get(pk=published.pk).summary == "Add frobnicator"

    def test_others_cannot(self, fresh, other_client):
        assert_error(other_client.delete(url(fresh)), 403, 101)
        assert ReviewRequestDraft.objects.filter(review_request=fresh).exists()


class TestExpandOnTheReviewRequest:
    """``rbt status`` lists with ``expand=draft`` and reads ``review_request.draft[0]``."""

    def test_draft_expands_to_a_list_for_editors_only(
        self, owner, other, owner_client, other_client
    ):
        with_draft = make_review_request(submitter=owner, people=[other], publish=True)
        owner_client.post(url(with_draft), {"summary": "Pending edit"})
        without = make_review_request(submitter=owner, people=[other], publish=True)
        body = assert_ok(
            owner_client.get("/api/review-requests/?from-user=doc&status=pending&expand=draft")
        )
        drafts = {rr["id"]: rr["draft"] for rr in body["review_requests"]}
        assert [d["summary"] for d in drafts[with_draft.pk]] == ["Pending edit"]
        assert drafts[without.pk] == []
        first = body["review_requests"][0]
        assert "draft" not in first["links"]
        assert first["_expanded"]["draft"]["item_mimetype"] == (
            "application/vnd.reviewboard.org.review-request-draft+json"
        )
        body = assert_ok(other_client.get("/api/review-requests/?expand=draft"))
        assert all(rr["draft"] == [] for rr in body["review_requests"])
