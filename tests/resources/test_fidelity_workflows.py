"""Issue 14: the workflow classes the differential replay (tests/fidelity/replay.py) found
between rbapi and Review Board 8.1, each pinned to what the original answers (probed on the
reference server with the same requests), and the deliberate differences kept where the
original leaks or lets a user act on what they may not read (README, "Where rbapi deliberately
differs")."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from reviews.models import GeneralComment, ReviewRequest, ReviewRequestDraft
from status_updates.models import StatusUpdate

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
TROPHIES = {"calculated_trophies": True}
TEXT_TYPE_CHOICES = 'is not a valid value. Valid values are: "plain", "markdown"'


def put(client, path: str, **fields: str):
    return client.put(path, urlencode(fields), content_type=FORM)


def rr_url(review_request: ReviewRequest) -> str:
    return f"/api/review-requests/{review_request.pk}/"


def draft_url(review_request: ReviewRequest) -> str:
    return f"{rr_url(review_request)}draft/"


@pytest.fixture
def published(owner, other) -> ReviewRequest:
    return make_review_request(submitter=owner, people=[other], publish=True)


@pytest.fixture
def fresh(owner) -> ReviewRequest:
    return make_review_request(submitter=owner, summary="", description="")


class TestPublishAnswer:
    def test_the_answer_is_the_deleted_draft_linking_the_new_summary(
        self, fresh, owner, other, owner_client
    ):
        """Review Board answers a successful publish with the draft it has just deleted: same
        id, its lists gone with it, and ``links.review_request`` titled with the summary just
        published."""
        draft_id = fresh.draft.pk
        other_request = make_review_request(submitter=owner, summary="Other")
        assert_ok(
            put(
                owner_client,
                draft_url(fresh),
                summary="Old",
                description="d",
                target_people="grumpy",
                depends_on=str(other_request.pk),
            )
        )
        body = assert_ok(
            put(owner_client, draft_url(fresh), public="1", summary="New summary"),
            mimetype="review-request-draft",
        )
        draft = body["draft"]
        assert draft["id"] == draft_id
        assert (draft["summary"], draft["public"]) == ("New summary", False)
        assert (draft["target_people"], draft["target_groups"], draft["depends_on"]) == (
            [],
            [],
            [],
        )
        assert draft["links"]["review_request"] == {
            "href": f"{BASE}{rr_url(fresh)}",
            "method": "GET",
            "title": "New summary",
        }
        # What was published is on the review request.
        item = assert_ok(owner_client.get(rr_url(fresh)))["review_request"]
        assert item["summary"] == "New summary"
        assert [person["title"] for person in item["target_people"]] == ["grumpy"]
        assert len(item["depends_on"]) == 1
        assert not ReviewRequestDraft.objects.filter(review_request=fresh).exists()

    def test_a_failed_publish_keeps_the_draft_and_leaves_the_request(
        self, fresh, other, owner_client
    ):
        # Deliberate: the original already copies the reviewers to the review request.
        response = put(owner_client, draft_url(fresh), public="1", target_people="grumpy")
        assert_error(response, 500, 225)
        draft = ReviewRequestDraft.objects.get(review_request=fresh)
        assert list(draft.target_people.values_list("username", flat=True)) == ["grumpy"]
        fresh.refresh_from_db()
        assert (fresh.public, list(fresh.target_people.all())) == (False, [])


class TestValues:
    def test_summary_keeps_surrounding_spaces(self, fresh, other, owner_client):
        body = assert_ok(
            put(
                owner_client,
                draft_url(fresh),
                summary="  spaced  ",
                description="d",
                target_people="grumpy",
            )
        )
        assert body["draft"]["summary"] == "  spaced  "
        body = assert_ok(put(owner_client, draft_url(fresh), public="1"))
        assert body["draft"]["links"]["review_request"]["title"] == "  spaced  "
        assert ReviewRequest.objects.get(pk=fresh.pk).summary == "  spaced  "

    def test_a_blank_summary_still_cannot_be_published(self, fresh, other, owner_client):
        put(owner_client, draft_url(fresh), summary="   ", description="d", target_people="grumpy")
        assert_error(put(owner_client, draft_url(fresh), public="1"), 500, 225)
        assert not ReviewRequest.objects.get(pk=fresh.pk).public

    def test_publishing_marks_the_trophies_and_new_drafts_carry_the_mark(
        self, fresh, other, owner_client
    ):
        assert assert_ok(owner_client.get(rr_url(fresh)))["review_request"]["extra_data"] == {}
        put(owner_client, draft_url(fresh), summary="s", description="d", target_people="grumpy")
        assert_ok(put(owner_client, draft_url(fresh), public="1"))
        item = assert_ok(owner_client.get(rr_url(fresh)))["review_request"]
        assert item["extra_data"] == TROPHIES
        body = assert_ok(put(owner_client, draft_url(fresh), description="d2"))
        assert body["draft"]["extra_data"] == TROPHIES

    def test_publishing_a_discarded_request_marks_no_trophies(self, fresh, other, owner_client):
        put(owner_client, draft_url(fresh), summary="s", description="d", target_people="grumpy")
        assert_ok(put(owner_client, rr_url(fresh), status="discarded"))
        assert_ok(put(owner_client, draft_url(fresh), public="1", description="d2"))
        fresh.refresh_from_db()
        assert (fresh.status, fresh.public, fresh.extra_data) == ("D", True, {})

    def test_draft_extra_data_stays_on_the_draft(self, fresh, other, owner_client):
        """Review Board never copies the draft's own extra_data keys to the review request
        (an empty value removes a key from the draft)."""
        body = assert_ok(
            put(
                owner_client,
                draft_url(fresh),
                summary="s",
                description="d",
                target_people="grumpy",
                **{"extra_data.k": "v", "extra_data.e": ""},
            )
        )
        assert body["draft"]["extra_data"] == {"k": "v"}
        body = assert_ok(put(owner_client, draft_url(fresh), public="1"))
        assert body["draft"]["extra_data"] == {"k": "v"}
        assert ReviewRequest.objects.get(pk=fresh.pk).extra_data == TROPHIES
        # A new draft starts from the review request's extra_data.
        body = assert_ok(put(owner_client, draft_url(fresh), **{"extra_data.z": "1"}))
        assert body["draft"]["extra_data"] == {**TROPHIES, "z": 1}
        assert_ok(put(owner_client, draft_url(fresh), public="1", description="d2"))
        assert ReviewRequest.objects.get(pk=fresh.pk).extra_data == TROPHIES

    def test_legacy_text_type_also_sets_the_change_description(self, published, owner_client):
        body = assert_ok(put(owner_client, draft_url(published), text_type="markdown"))
        draft = body["draft"]
        assert (draft["description_text_type"], draft["testing_done_text_type"]) == (
            "markdown",
            "markdown",
        )
        assert draft["changedescription_text_type"] == "markdown"
        # A new review request has no change description: the legacy type is no error there.
        fresh_request = make_review_request(submitter=published.submitter)
        body = assert_ok(put(owner_client, draft_url(fresh_request), text_type="markdown"))
        assert body["draft"]["changedescription_text_type"] == "plain"

    @pytest.mark.parametrize("status", ["discarded", "submitted"])
    def test_close_without_description_answers_null(self, published, owner_client, status):
        item = assert_ok(put(owner_client, rr_url(published), status=status))["review_request"]
        assert (item["status"], item["close_description"]) == (status, None)
        assert item["close_description_text_type"] == "plain"
        # An empty description is no description; a later GET says "".
        item = assert_ok(put(owner_client, rr_url(published), status=status, close_description=""))
        assert item["review_request"]["close_description"] is None
        item = assert_ok(owner_client.get(rr_url(published)))["review_request"]
        assert item["close_description"] == ""
        item = assert_ok(
            put(owner_client, rr_url(published), status=status, close_description="x")
        )
        assert item["review_request"]["close_description"] == "x"

    def test_reopen_answers_null(self, published, owner_client):
        put(owner_client, rr_url(published), status="submitted", close_description="Done")
        item = assert_ok(put(owner_client, rr_url(published), status="pending"))
        assert item["review_request"]["close_description"] is None

    def test_submit_as_oneself_needs_no_right(self, owner, owner_client):
        body = assert_ok(owner_client.post("/api/review-requests/", {"submit_as": "doc"}), 201)
        assert body["review_request"]["links"]["submitter"]["title"] == "doc"
        response = owner_client.post("/api/review-requests/", {"submit_as": "grumpy"})
        assert_error(response, 403, 101)
        assert ReviewRequest.objects.filter(submitter=owner).count() == 1


class TestChoicesFirst:
    """Review Board checks plain choice fields before looking anything up or deciding any
    right: a bad value is 105 whoever asks (once logged in) and whatever the URL names."""

    STATUS_MESSAGE = (
        '"bogus" is not a valid value. Valid values are: "discarded", "pending", "submitted"'
    )

    def test_review_request_status_and_text_type(self, published, owner, other_client):
        body = assert_error(
            put(other_client, rr_url(published), status="bogus", close_description_text_type="x"),
            400,
            105,
        )
        assert body["fields"] == {
            "status": [self.STATUS_MESSAGE],
            "close_description_text_type": [f'"x" {TEXT_TYPE_CHOICES}'],
        }
        body = assert_error(
            put(other_client, "/api/review-requests/999/", status="bogus"), 400, 105
        )
        assert body["fields"] == {"status": [self.STATUS_MESSAGE]}
        hidden = make_review_request(submitter=owner)  # unpublished: grumpy may not read it
        assert_error(put(other_client, rr_url(hidden), status="bogus"), 400, 105)
        assert_error(put(other_client, rr_url(hidden), status="submitted"), 403, 101)
        published.refresh_from_db()
        assert published.status == "P"

    def test_review_request_anonymous_is_103_first(self, published, anon_client):
        assert_error(put(anon_client, rr_url(published), status="bogus"), 401, 103)

    def test_draft_text_types(self, published, owner_client, other_client):
        body = assert_error(put(other_client, draft_url(published), text_type="bogus"), 400, 105)
        assert body["fields"] == {"text_type": [f'"bogus" {TEXT_TYPE_CHOICES}']}
        assert "draft" not in body
        body = assert_error(
            put(other_client, "/api/review-requests/999/draft/", text_type="bogus"), 400, 105
        )
        assert list(body["fields"]) == ["text_type"]
        # Only the text type is reported, not the other bad fields, and nothing is stored.
        body = assert_error(
            put(
                owner_client,
                draft_url(published),
                description_text_type="rtf",
                target_people="nobody",
                summary="Changed",
            ),
            400,
            105,
        )
        assert body["fields"] == {"description_text_type": [f'"rtf" {TEXT_TYPE_CHOICES}']}
        assert not ReviewRequestDraft.objects.filter(review_request=published).exists()
        # Other bad fields still come with the draft.
        body = assert_error(
            put(owner_client, draft_url(published), target_people="nobody"), 400, 105
        )
        assert body["fields"] == {"target_people": ["nobody"]}
        assert body["draft"]["summary"] == published.summary


def _review_with_issue(client, review_request: ReviewRequest, *, publish: bool = True):
    """A review by the client's user with one issue-opening general comment, via the API."""
    review = assert_ok(
        client.post(f"{rr_url(review_request)}reviews/", {"body_top": "Review"}), 201
    )["review"]
    path = f"{rr_url(review_request)}reviews/{review['id']}/"
    comment = assert_ok(
        client.post(f"{path}general-comments/", {"text": "Fix it", "issue_opened": "1"}), 201
    )["general_comment"]
    if publish:
        assert_ok(put(client, path, public="1"))
    return review["id"], f"{path}general-comments/{comment['id']}/"


class TestIssueStatus:
    MESSAGE = (
        '"bogus" is not a valid value. Valid values are: "open", "resolved", "dropped", '
        '"verifying-resolved", "verifying-dropped"'
    )

    def test_a_bad_value_is_105_before_anything(
        self, published, other_client, owner_client, admin_client
    ):
        _review_id, path = _review_with_issue(other_client, published)
        for client in (other_client, owner_client):
            body = assert_error(put(client, path, issue_status="bogus"), 400, 105)
            assert body["fields"] == {"issue_status": [self.MESSAGE]}
        missing = path.rsplit("/", 2)[0] + "/999/"
        assert_error(put(owner_client, missing, issue_status="bogus"), 400, 105)
        response = owner_client.put(path, {"issue_status": 5}, content_type="application/json")
        assert_error(response, 400, 105)
        response = owner_client.put(
            rr_url(published), {"status": 5}, content_type="application/json"
        )
        assert_error(response, 400, 105)
        # Also on a draft comment, where a good value is ignored.
        _draft_id, draft_path = _review_with_issue(admin_client, published, publish=False)
        assert_error(put(admin_client, draft_path, issue_status="bogus"), 400, 105)
        body = assert_ok(put(admin_client, draft_path, issue_status="dropped"))
        assert body["general_comment"]["issue_status"] == "open"

    def test_the_status_it_already_has_is_refused(self, published, other_client, owner_client):
        _review_id, path = _review_with_issue(other_client, published)
        assert_error(put(owner_client, path, issue_status="open"), 403, 101)
        assert_error(put(other_client, path, issue_status="open"), 403, 101)
        assert_ok(put(other_client, path, issue_status="resolved"))
        assert_error(put(other_client, path, issue_status="resolved"), 403, 101)
        assert_error(put(owner_client, path, issue_status="resolved"), 403, 101)
        published.refresh_from_db()
        assert (published.issue_open_count, published.issue_resolved_count) == (0, 1)
        assert GeneralComment.objects.get().issue_status == GeneralComment.RESOLVED
        assert_ok(put(owner_client, path, issue_status="open"))


class TestDeliberateDifferences:
    """Where Review Board 8.1 tells or lets a user more than they may read, rbapi keeps the
    stricter answer (README, "Where rbapi deliberately differs")."""

    def test_a_missing_draft_is_101_to_non_editors(self, published, owner_client, other_client):
        # Review Board: 100 when no draft exists, 101 once one does, telling outsiders
        # whether the owner has unpublished edits. rbapi: 101 either way.
        assert_error(owner_client.get(draft_url(published)), 404, 100)
        assert_error(other_client.get(draft_url(published)), 403, 101)
        assert_error(other_client.delete(draft_url(published)), 403, 101)
        assert_ok(put(owner_client, draft_url(published), description="Edited"))
        assert_error(other_client.get(draft_url(published)), 403, 101)
        assert_error(other_client.delete(draft_url(published)), 403, 101)
        assert ReviewRequestDraft.objects.filter(review_request=published).exists()

    def test_no_status_update_on_a_review_request_one_may_not_read(
        self, owner, other, other_client
    ):
        hidden = make_review_request(submitter=owner)
        response = other_client.post(
            f"{rr_url(hidden)}status-updates/", {"service_id": "ci", "summary": "Build"}
        )
        assert_error(response, 403, 101)
        assert not StatusUpdate.objects.exists()

    def test_status_update_by_a_reader_who_is_not_the_submitter(self, published, other_client):
        response = other_client.post(
            f"{rr_url(published)}status-updates/", {"service_id": "ci", "summary": "Build"}
        )
        assert_ok(response, 201)
        assert StatusUpdate.objects.get().user.username == "grumpy"

    def test_no_reply_to_a_draft_review_one_may_not_read(
        self, published, admin_client, other_client
    ):
        review_id, _path = _review_with_issue(admin_client, published, publish=False)
        replies = f"{rr_url(published)}reviews/{review_id}/replies/"
        assert_error(other_client.post(replies, {"body_top": "r"}), 403, 101)

    def test_depends_on_names_only_readable_review_requests(self, published, admin, owner_client):
        hidden = make_review_request(submitter=admin)  # unpublished: doc may not read it
        body = assert_error(
            put(owner_client, draft_url(published), depends_on=str(hidden.pk)), 400, 105
        )
        assert body["fields"] == {"depends_on": [str(hidden.pk)]}
        assert not ReviewRequestDraft.objects.filter(review_request=published).exists()

    def test_changes_of_a_hidden_review_request_even_counted(self, owner, other_client):
        hidden = make_review_request(submitter=owner)
        changes = f"{rr_url(hidden)}changes/"
        assert_error(other_client.get(changes), 403, 101)
        assert_error(other_client.get(f"{changes}?counts-only=1"), 403, 101)


# --- status updates: required means present, not non-blank ----------------------------------


@pytest.mark.parametrize(
    "fields", [{"service_id": "ci", "summary": ""}, {"service_id": "", "summary": "s"}]
)
def test_a_status_update_with_a_blank_summary_or_service_is_created(
    owner_client, published, fields
):
    """Review Board 8.1 answers 201 to ``summary=`` or ``service_id=`` (probed)."""
    url = f"{rr_url(published)}status-updates/"
    body = assert_ok(owner_client.post(url, fields), 201)["status_update"]
    stored = StatusUpdate.objects.get(pk=body["id"])
    assert (stored.service_id, stored.summary) == (fields["service_id"], fields["summary"])


@pytest.mark.parametrize("missing", ["service_id", "summary"])
def test_a_status_update_without_summary_or_service_is_105(owner_client, published, missing):
    url = f"{rr_url(published)}status-updates/"
    fields = {"service_id": "ci", "summary": "s"}
    del fields[missing]
    body = assert_error(owner_client.post(url, fields), 400, 105)
    assert body["fields"] == {missing: ["This field is required"]}
    assert not StatusUpdate.objects.filter(review_request=published).exists()
