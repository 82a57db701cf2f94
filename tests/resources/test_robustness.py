"""Inputs that once broke things: each gets a clear error (or works) and stores nothing
wrong. Found by reviewing the whole change."""

from __future__ import annotations

import json

import pytest
from django.test.client import encode_multipart

from changes.models import ChangeDescription
from reviews.models import ReviewRequest, ReviewRequestDraft
from status_updates.models import StatusUpdate

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"
BOUNDARY = "===============0123456789=="


@pytest.fixture
def published(owner, other):
    return make_review_request(submitter=owner, people=[other], publish=True)


def test_huge_timeout_is_105_and_not_stored(published, owner_client):
    body = assert_error(
        owner_client.post(
            f"/api/review-requests/{published.pk}/status-updates/",
            {"service_id": "ci", "summary": "CI", "timeout": "100000000000000"},
        ),
        400,
        105,
    )
    assert list(body["fields"]) == ["timeout"]
    assert not StatusUpdate.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "repository=99999999999999999999999",
        "changenum=99999999999",
        "changenum=²",
        "last-updated-from=9999-12-31T23:59:59-14:00",
        "time-added-to=0001-01-01T00:00:00%2B14:00",
        "ship-it-count=99999999999999999999999",
    ],
)
def test_out_of_range_filters_never_500(published, anon_client, query):
    response = anon_client.get(f"/api/review-requests/?status=all&{query}")
    assert response.status_code in (200, 400), response.content


def test_superscript_digits_are_not_ids(published, owner_client):
    draft_url = f"/api/review-requests/{published.pk}/draft/"
    body = assert_error(owner_client.put(draft_url, "depends_on=²", content_type=FORM), 400, 105)
    assert body["fields"] == {"depends_on": ["²"]}
    assert_ok(owner_client.put(draft_url, "bugs_closed=²,3", content_type=FORM))


def test_uploaded_files_are_not_form_fields(published, owner_client):
    content = encode_multipart(BOUNDARY, {"summary": "Text summary"})
    # A file part named like a text field must not turn into the field's value.
    file_part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="description"; '
        f'filename="d.txt"\r\nContent-Type: text/plain\r\n\r\nfrom a file\r\n'
    ).encode()
    content = file_part + content
    response = owner_client.put(
        f"/api/review-requests/{published.pk}/draft/",
        content,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    draft = assert_ok(response)["draft"]
    assert (draft["summary"], draft["description"]) == ("Text summary", "Adds a frobnicator.")


@pytest.mark.parametrize("expand", ["last_update", "info", "draft,last_update,changes"])
def test_expanding_children_without_lists_keeps_their_links(published, owner_client, expand):
    body = assert_ok(owner_client.get(f"/api/review-requests/{published.pk}/?expand={expand}"))
    assert "last_update" in body["review_request"]["links"]


def test_bad_output_options_are_refused_before_writing(published, owner_client):
    assert_error(
        owner_client.put(
            f"/api/review-requests/{published.pk}/",
            "status=submitted&force_text_type=bogus",
            content_type=FORM,
        ),
        400,
        105,
    )
    assert ReviewRequest.objects.get(pk=published.pk).status == "P"


def test_reopening_keeps_a_draft_edited_while_discarded(published, owner_client):
    rr_url = f"/api/review-requests/{published.pk}/"
    owner_client.put(rr_url, "status=discarded", content_type=FORM)
    owner_client.put(f"{rr_url}draft/", "summary=Edited while discarded", content_type=FORM)
    body = assert_ok(owner_client.put(rr_url, "status=pending", content_type=FORM))
    assert (body["review_request"]["status"], body["review_request"]["public"]) == (
        "pending",
        False,
    )
    draft = ReviewRequestDraft.objects.get(review_request=published)
    assert draft.summary == "Edited while discarded"
    assert draft.changedesc.fields_changed == {"status": {"old": ["D"], "new": ["P"]}}


def test_invalid_post_on_a_discarded_request_does_not_reopen_it(published, owner_client):
    rr_url = f"/api/review-requests/{published.pk}/"
    owner_client.put(rr_url, "status=discarded", content_type=FORM)
    assert_error(owner_client.post(f"{rr_url}draft/", {"target_people": "ghost"}), 400, 105)
    request = ReviewRequest.objects.get(pk=published.pk)
    assert (request.status, request.public) == ("D", True)


def test_submitter_change_is_published_and_recorded(published, owner, other, owner_client):
    draft_url = f"/api/review-requests/{published.pk}/draft/"
    owner_client.put(draft_url, "submitter=grumpy", content_type=FORM)
    assert_ok(owner_client.put(draft_url, "public=1", content_type=FORM))
    assert ReviewRequest.objects.get(pk=published.pk).submitter == other
    change = ChangeDescription.objects.get(review_request=published)
    assert change.fields_changed["submitter"] == {
        "old": [["doc", "/users/doc/", owner.pk]],
        "new": [["grumpy", "/users/grumpy/", other.pk]],
    }


def test_json_lists_and_false(published, owner_client, admin):
    draft_url = f"/api/review-requests/{published.pk}/draft/"
    response = owner_client.put(
        draft_url,
        json.dumps({"target_people": ["grumpy", "admin"], "public": False}),
        content_type="application/json",
    )
    draft = assert_ok(response)["draft"]
    assert sorted(p["title"] for p in draft["target_people"]) == ["admin", "grumpy"]
    assert ReviewRequestDraft.objects.filter(review_request=published).exists()
