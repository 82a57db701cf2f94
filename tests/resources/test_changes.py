"""/api/review-requests/{id}/changes/ and /changes/{change_id}/, and /last-update/."""

from __future__ import annotations

import hashlib

import pytest

from changes.models import ChangeDescription
from reviews.models import Group
from reviews.services import review_request_close

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request, update_and_publish

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


@pytest.fixture
def history(owner, other, admin):
    """Doc's review request, published, then updated (change 1), then submitted (change 2)."""
    devs = Group.objects.create(name="devs", display_name="Developers")
    request = make_review_request(
        submitter=owner, people=[other], groups=[devs], bugs_closed="101,102", publish=True
    )
    request = update_and_publish(
        request,
        user=owner,
        people=[other, admin],
        summary="Add frobnicator (v2)",
        bugs_closed="101,103",
        changedescription="Addressed review feedback.",
    )
    review_request_close(review_request=request, user=owner, status="S", description="Landed.")
    return request


def changes_url(request) -> str:
    return f"/api/review-requests/{request.pk}/changes/"


def user_ids(objects) -> list[int]:
    return [obj["id"] for obj in objects]


class TestChanges:
    def test_list_is_newest_first(self, history, anon_client):
        response = anon_client.get(changes_url(history))
        body = assert_ok(response, mimetype="review-request-changes")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.review-request-change+json"
        )
        assert [c["text"] for c in body["changes"]] == ["Landed.", "Addressed review feedback."]
        assert body["total_results"] == 2
        assert body["changes"][0]["fields_changed"] == {"status": {"old": "P", "new": "S"}}

    def test_item_wire_form(self, history, owner, other, admin, anon_client):
        change = history.changedescs.get(text="Addressed review feedback.")
        response = anon_client.get(f"{changes_url(history)}{change.pk}/")
        body = assert_ok(response, mimetype="review-request-change")["change"]
        fields = body.pop("fields_changed")
        assert body == {
            "id": change.pk,
            "links": {
                "self": {"href": f"{BASE}{changes_url(history)}{change.pk}/", "method": "GET"}
            },
            "text": "Addressed review feedback.",
            "text_type": "plain",
            "timestamp": body["timestamp"],
        }
        assert fields["summary"] == {"old": "Add frobnicator", "new": "Add frobnicator (v2)"}
        assert fields["bugs_closed"] == {
            "old": ["101", "102"],
            "new": ["101", "103"],
            "added": ["103"],
            "removed": ["102"],
        }
        people = fields["target_people"]
        assert user_ids(people["old"]) == [other.pk]
        assert sorted(user_ids(people["new"])) == sorted([other.pk, admin.pk])
        assert user_ids(people["added"]) == [admin.pk] and people["removed"] == []
        # Full user objects, as the original sends.
        assert people["added"][0]["username"] == "admin"
        assert people["added"][0]["links"]["self"]["href"] == f"{BASE}/api/users/admin/"
        assert set(fields) == {"summary", "bugs_closed", "target_people"}

    def test_drafts_changes_are_not_listed(self, history, owner_client):
        ChangeDescription.objects.create(review_request=history, text="secret", public=False)
        body = assert_ok(owner_client.get(changes_url(history)))
        assert "secret" not in [c["text"] for c in body["changes"]]

    def test_read_only(self, history, admin_client):
        change = history.changedescs.first()
        assert_error(admin_client.post(changes_url(history), {}), 405, 900)
        assert_error(admin_client.delete(f"{changes_url(history)}{change.pk}/"), 405, 900)

    def test_access_follows_the_review_request(self, owner, other, other_client, anon_client):
        private = make_review_request(submitter=owner, people=[other])
        assert_error(anon_client.get(changes_url(private)), 401, 103)
        assert_error(other_client.get(changes_url(private)), 403, 101)
        assert_error(anon_client.get("/api/review-requests/999/changes/"), 404, 100)

    def test_change_of_another_request_is_100(self, history, owner, other, anon_client):
        second = make_review_request(submitter=owner, people=[other], publish=True)
        change = history.changedescs.first()
        assert_error(anon_client.get(f"{changes_url(second)}{change.pk}/"), 404, 100)


class TestLastUpdate:
    def url(self, request) -> str:
        return f"/api/review-requests/{request.pk}/last-update/"

    def test_payload_and_etag(self, history, owner, anon_client):
        history.refresh_from_db()
        response = anon_client.get(self.url(history))
        body = assert_ok(response, mimetype="last-update")["last_update"]
        assert body["type"] == "review-request"
        assert body["summary"] == "Review request completed"
        assert body["user"]["username"] == "doc"
        expected = hashlib.sha256(
            f"{history.last_updated.isoformat()}:{history.pk}".encode()
        ).hexdigest()
        assert response["ETag"] == expected
        again = anon_client.get(self.url(history), HTTP_IF_NONE_MATCH=expected)
        assert again.status_code == 304 and again.content == b""

    def test_pending_update_by_latest_changer(self, owner, other, admin, anon_client):
        request = make_review_request(submitter=owner, people=[other], publish=True)
        body = assert_ok(anon_client.get(self.url(request)))["last_update"]
        assert (body["summary"], body["user"]["username"]) == ("Review request updated", "doc")

    def test_drafts_do_not_count(self, owner, other, owner_client):
        request = make_review_request(submitter=owner, people=[other], publish=True)
        before = owner_client.get(self.url(request))["ETag"]
        owner_client.post(f"/api/review-requests/{request.pk}/draft/", {"summary": "WIP"})
        assert owner_client.get(self.url(request), HTTP_IF_NONE_MATCH=before).status_code == 304

    def test_hidden_requests(self, owner, other_client):
        private = make_review_request(submitter=owner)
        assert_error(other_client.get(self.url(private)), 403, 101)


def test_a_page_of_changes_costs_the_same_queries(
    owner, other, admin, anon_client, django_assert_max_num_queries
):
    request = make_review_request(submitter=owner, people=[other], publish=True)
    request = update_and_publish(
        request, user=owner, people=[other, admin], summary="v2", changedescription="One."
    )
    with django_assert_max_num_queries(50) as one:
        assert len(assert_ok(anon_client.get(changes_url(request)))["changes"]) == 1
    for n in range(10):
        people = [other] if n % 2 else [other, admin]
        request = update_and_publish(
            request,
            user=owner,
            people=people,
            summary=f"v{n + 3}",
            changedescription=f"Change {n}.",
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert len(assert_ok(anon_client.get(changes_url(request)))["changes"]) == 11


def test_expanded_change_of_a_status_update_keeps_its_objects(history, other, anon_client):
    from status_updates.models import StatusUpdate

    change = history.changedescs.get(text="Addressed review feedback.")
    update = StatusUpdate.objects.create(
        review_request=history, service_id="ci", summary="CI", change_description=change
    )
    body = assert_ok(
        anon_client.get(
            f"/api/review-requests/{history.pk}/status-updates/{update.pk}/?expand=change"
        )
    )
    people = body["status_update"]["change"]["fields_changed"]["target_people"]
    assert [user["username"] for user in people["added"]] == ["admin"]
