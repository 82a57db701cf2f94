"""A user's child lists (spec: code-and-files.md §11): watched review requests and groups,
archived and muted review requests, their links on the user, and starring's effect on the
review request list's ``to-users`` filters (resources.md §1).

Payload shapes follow golden 150-168: the watched lists carry no links and no total, each entry
is ``{"id", "watched_review_request"}`` with the object in full as its own GET shows it.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ReviewRequestVisit, WatchedGroup, WatchedReviewRequest
from reviews.models import Group

from ..conftest import assert_error, assert_ok, logged_in_client, make_user, rsp
from ..factories import make_review_request
from ..golden_files import golden

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
WATCHED_RRS = "/api/users/doc/watched/review-requests/"
WATCHED_GROUPS = "/api/users/doc/watched/review-groups/"
ARCHIVED = "/api/users/doc/archived-review-requests/"
MUTED = "/api/users/doc/muted-review-requests/"


@pytest.fixture
def rr(owner, other):
    return make_review_request(submitter=owner, publish=True, people=[other])


@pytest.fixture
def devs(db):
    return Group.objects.create(name="devs", display_name="Developers", mailing_list="d@x.org")


def link(path: str, method: str = "GET") -> dict:
    return {"href": f"{BASE}{path}", "method": method}


def rr_payload(client, rr) -> dict:
    """The review request as the same viewer's own GET shows it."""
    return assert_ok(client.get(f"/api/review-requests/{rr.pk}/"))["review_request"]


class TestUserLinks:
    def test_user_item_links_golden_150(self, owner, anon_client):
        body = assert_ok(anon_client.get("/api/users/doc/"), mimetype="user")
        assert body["user"]["links"] == {
            "api_tokens": link("/api/users/doc/api-tokens/"),
            "archived_review_requests": link("/api/users/doc/archived-review-requests/"),
            "muted_review_requests": link("/api/users/doc/muted-review-requests/"),
            "self": link("/api/users/doc/"),
            "update": link("/api/users/doc/", "PUT"),
            "user_file_attachments": link("/api/users/doc/user-file-attachments/"),
            "watched": link("/api/users/doc/watched/"),
        }

    def test_uri_templates(self, anon_client):
        templates = assert_ok(anon_client.get("/api/"))["uri_templates"]
        users = f"{BASE}/api/users/{{username}}/"
        assert {
            k: v for k, v in templates.items() if k.startswith(("watched", "archived", "muted"))
        } == {
            "archived_review_request": f"{users}archived-review-requests/{{review_request_id}}/",
            "archived_review_requests": f"{users}archived-review-requests/",
            "muted_review_request": f"{users}muted-review-requests/{{review_request_id}}/",
            "muted_review_requests": f"{users}muted-review-requests/",
            "watched": f"{users}watched/",
            "watched_review_group": f"{users}watched/review-groups/{{watched_obj_id}}/",
            "watched_review_groups": f"{users}watched/review-groups/",
            "watched_review_request": f"{users}watched/review-requests/{{watched_obj_id}}/",
            "watched_review_requests": f"{users}watched/review-requests/",
        }


class TestWatchedRoot:
    def test_golden_151(self, owner, anon_client):
        response = anon_client.get("/api/users/doc/watched/")
        assert assert_ok(response, mimetype="watched") == {
            "stat": "ok",
            "links": {
                "self": link("/api/users/doc/watched/"),
                "watched_review_groups": link("/api/users/doc/watched/review-groups/"),
                "watched_review_requests": link("/api/users/doc/watched/review-requests/"),
            },
        }

    def test_unknown_user_404(self, owner, anon_client):
        assert_error(anon_client.get("/api/users/nobody/watched/"), 404, 100)


class TestWatchedReviewRequests:
    def test_post_golden_152(self, rr, owner, owner_client):
        response = owner_client.post(WATCHED_RRS, {"object_id": rr.pk})
        body = assert_ok(response, 201, mimetype="watched-review-request")
        assert body == {"stat": "ok", "watched_review_request": rr_payload(owner_client, rr)}
        assert "Location" not in response
        assert WatchedReviewRequest.objects.filter(user=owner, review_request=rr).count() == 1
        # Repeating is 201 again and stores nothing more.
        assert_ok(owner_client.post(WATCHED_RRS, {"object_id": rr.pk}), 201)
        assert WatchedReviewRequest.objects.filter(user=owner).count() == 1

    def test_post_for_other_user_403_golden_153(self, rr, other_client):
        assert_error(other_client.post(WATCHED_RRS, {"object_id": rr.pk}), 403, 101)
        assert not WatchedReviewRequest.objects.exists()

    def test_post_anonymous_401(self, rr, anon_client):
        assert_error(anon_client.post(WATCHED_RRS, {"object_id": rr.pk}), 401, 103)

    def test_admin_may_star_for_user(self, rr, owner, admin_client):
        assert_ok(admin_client.post(WATCHED_RRS, {"object_id": rr.pk}), 201)
        assert WatchedReviewRequest.objects.filter(user=owner, review_request=rr).exists()

    def test_post_unknown_404_golden_154(self, rr, owner_client):
        assert_error(owner_client.post(WATCHED_RRS, {"object_id": 999}), 404, 100)
        assert_error(owner_client.post(WATCHED_RRS, {"object_id": "abc"}), 404, 100)

    def test_post_missing_105(self, rr, owner_client):
        body = assert_error(owner_client.post(WATCHED_RRS, {}), 400, 105)
        assert body["fields"] == {"object_id": ["This field is required"]}

    def test_post_hidden_review_request_404(self, owner, other):
        """rbapi departs from Review Board here: starring what the caller cannot see would
        answer with its whole payload."""
        hidden = make_review_request(submitter=other, publish=False)
        client = logged_in_client(owner)
        assert_error(client.post(WATCHED_RRS, {"object_id": hidden.pk}), 404, 100)
        assert not WatchedReviewRequest.objects.exists()

    def test_list_golden_155(self, rr, owner, anon_client):
        WatchedReviewRequest.objects.create(user=owner, review_request=rr)
        response = anon_client.get(WATCHED_RRS)
        body = assert_ok(response, mimetype="watched-review-requests")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.watched-review-request+json"
        )
        assert body == {
            "stat": "ok",
            "watched_review_requests": [
                {"id": rr.pk, "watched_review_request": rr_payload(anon_client, rr)}
            ],
        }

    def test_list_leaves_out_hidden(self, rr, owner, other, anon_client):
        draft = make_review_request(submitter=owner, publish=False)
        WatchedReviewRequest.objects.create(user=owner, review_request=rr)
        WatchedReviewRequest.objects.create(user=owner, review_request=draft)
        ids = [
            entry["id"]
            for entry in assert_ok(anon_client.get(WATCHED_RRS))["watched_review_requests"]
        ]
        assert ids == [rr.pk]
        own = logged_in_client(owner).get(WATCHED_RRS)
        assert [e["id"] for e in assert_ok(own)["watched_review_requests"]] == [rr.pk, draft.pk]

    def test_list_unknown_user_is_empty(self, anon_client, db):
        body = assert_ok(anon_client.get("/api/users/nobody/watched/review-requests/"))
        assert body == {"stat": "ok", "watched_review_requests": []}

    def test_list_costs_constant_queries(self, owner, other, anon_client, settings):
        settings.RBAPI_RESPONSE_CACHE = False  # measure the building of the answer

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(WATCHED_RRS))
            return len(queries)

        first = make_review_request(submitter=owner, publish=True, people=[other])
        WatchedReviewRequest.objects.create(user=owner, review_request=first)
        one = count()
        for _ in range(19):
            more = make_review_request(submitter=other, publish=True, people=[owner])
            WatchedReviewRequest.objects.create(user=owner, review_request=more)
        assert len(assert_ok(anon_client.get(WATCHED_RRS))["watched_review_requests"]) == 20
        assert count() == one

    def test_item_redirects_golden_156(self, rr, owner, owner_client):
        WatchedReviewRequest.objects.create(user=owner, review_request=rr)
        response = owner_client.get(f"{WATCHED_RRS}{rr.pk}/")
        assert response.status_code == 302
        assert response["Location"] == f"{BASE}/api/review-requests/{rr.pk}/"
        # As the review and reply draft redirects: a vendor type, never HTML.
        assert "html" not in response["Content-Type"]

    def test_item_not_starred_404(self, rr, owner_client):
        assert_error(owner_client.get(f"{WATCHED_RRS}{rr.pk}/"), 404, 100)

    def test_delete_golden_157(self, rr, owner, owner_client):
        WatchedReviewRequest.objects.create(user=owner, review_request=rr)
        response = owner_client.delete(f"{WATCHED_RRS}{rr.pk}/")
        assert response.status_code == 204
        assert response["Content-Type"] == (
            "application/vnd.reviewboard.org.watched-review-request+json"
        )
        assert not WatchedReviewRequest.objects.exists()
        assert owner_client.delete(f"{WATCHED_RRS}{rr.pk}/").status_code == 204

    def test_delete_other_user_403(self, rr, owner, other_client):
        WatchedReviewRequest.objects.create(user=owner, review_request=rr)
        assert_error(other_client.delete(f"{WATCHED_RRS}{rr.pk}/"), 403, 101)
        assert WatchedReviewRequest.objects.exists()

    def test_delete_unknown_404(self, owner_client):
        assert_error(owner_client.delete(f"{WATCHED_RRS}999/"), 404, 100)


class TestWatchedGroups:
    def group_payload(self, client) -> dict:
        return assert_ok(client.get("/api/groups/devs/"))["group"]

    def test_post_golden_158(self, devs, owner, owner_client):
        response = owner_client.post(WATCHED_GROUPS, {"object_id": "devs"})
        body = assert_ok(response, 201, mimetype="watched-review-group")
        assert body == {"stat": "ok", "watched_review_group": self.group_payload(owner_client)}
        assert WatchedGroup.objects.filter(user=owner, group=devs).exists()

    def test_post_unknown_404(self, devs, owner_client):
        assert_error(owner_client.post(WATCHED_GROUPS, {"object_id": "nope"}), 404, 100)

    def test_post_invite_only_hidden_404(self, owner, owner_client):
        Group.objects.create(name="secret", display_name="S", invite_only=True)
        assert_error(owner_client.post(WATCHED_GROUPS, {"object_id": "secret"}), 404, 100)

    def test_list_golden_159(self, devs, owner, owner_client):
        WatchedGroup.objects.create(user=owner, group=devs)
        response = owner_client.get(WATCHED_GROUPS)
        body = assert_ok(response, mimetype="watched-review-groups")
        assert body == {
            "stat": "ok",
            "watched_review_groups": [
                {"id": devs.pk, "watched_review_group": self.group_payload(owner_client)}
            ],
        }

    def test_item_by_id_redirects_and_by_name_too(self, devs, owner, owner_client):
        """Review Board answers an HTML 500 by name (golden 160); rbapi redirects."""
        WatchedGroup.objects.create(user=owner, group=devs)
        for key in (devs.pk, "devs"):
            response = owner_client.get(f"{WATCHED_GROUPS}{key}/")
            assert response.status_code == 302
            assert response["Location"] == f"{BASE}/api/groups/devs/"

    def test_delete_by_name(self, devs, owner, owner_client):
        WatchedGroup.objects.create(user=owner, group=devs)
        assert_error(owner_client.delete(f"{WATCHED_GROUPS}{devs.pk}/"), 404, 100)
        assert owner_client.delete(f"{WATCHED_GROUPS}devs/").status_code == 204
        assert not WatchedGroup.objects.exists()


class TestArchivedAndMuted:
    @pytest.mark.parametrize("path", [ARCHIVED, MUTED])
    def test_get_405_golden_161(self, rr, owner_client, path):
        response = owner_client.get(path)
        assert_error(response, 405, 900)
        assert "POST" in response["Allow"]
        assert_error(owner_client.get(f"{path}{rr.pk}/"), 405, 900)

    @pytest.mark.parametrize(
        ("path", "key", "visibility"),
        [
            (ARCHIVED, "archived_review_request", ReviewRequestVisit.ARCHIVED),
            (MUTED, "muted_review_request", ReviewRequestVisit.MUTED),
        ],
    )
    def test_post_golden_162_166(self, rr, owner, owner_client, path, key, visibility):
        response = owner_client.post(path, {"object_id": rr.pk})
        body = assert_ok(response, 201, mimetype=key.replace("_", "-"))
        assert body == {"stat": "ok", key: rr_payload(owner_client, rr)}
        assert_ok(owner_client.post(path, {"object_id": rr.pk}), 201)
        assert list(ReviewRequestVisit.objects.values_list("user", "visibility")) == [
            (owner.pk, visibility)
        ]

    def test_post_to_other_users_list_acts_for_caller_golden_163(self, rr, owner, other):
        client = logged_in_client(other)
        assert_ok(client.post(ARCHIVED, {"object_id": rr.pk}), 201)
        assert list(ReviewRequestVisit.objects.values_list("user", flat=True)) == [other.pk]

    def test_post_missing_105_golden_167(self, owner_client):
        body = assert_error(owner_client.post(MUTED, {}), 400, 105)
        assert body["fields"] == {"object_id": ["This field is required"]}

    def test_post_unknown_or_hidden_404(self, owner, other, owner_client):
        hidden = make_review_request(submitter=other, publish=False)
        assert_error(owner_client.post(ARCHIVED, {"object_id": 999}), 404, 100)
        assert_error(owner_client.post(ARCHIVED, {"object_id": hidden.pk}), 404, 100)
        assert not ReviewRequestVisit.objects.exists()

    def test_post_anonymous_401(self, rr, anon_client):
        assert_error(anon_client.post(ARCHIVED, {"object_id": rr.pk}), 401, 103)

    def test_mute_replaces_archive(self, rr, owner, owner_client):
        owner_client.post(ARCHIVED, {"object_id": rr.pk})
        owner_client.post(MUTED, {"object_id": rr.pk})
        assert list(ReviewRequestVisit.objects.values_list("visibility", flat=True)) == ["M"]

    def test_delete_golden_164_165_168(self, rr, owner, owner_client, other_client):
        owner_client.post(ARCHIVED, {"object_id": rr.pk})
        assert_error(other_client.delete(f"{ARCHIVED}{rr.pk}/"), 403, 101)
        assert ReviewRequestVisit.objects.exists()
        response = owner_client.delete(f"{ARCHIVED}{rr.pk}/")
        assert response.status_code == 204
        assert response["Content-Type"] == (
            "application/vnd.reviewboard.org.archived-review-request+json"
        )
        assert not ReviewRequestVisit.objects.exists()
        assert owner_client.delete(f"{ARCHIVED}{rr.pk}/").status_code == 204
        assert owner_client.delete(f"{MUTED}{rr.pk}/").status_code == 204
        assert_error(owner_client.delete(f"{MUTED}999/"), 404, 100)

    def test_unarchive_leaves_mute(self, rr, owner, owner_client):
        owner_client.post(MUTED, {"object_id": rr.pk})
        assert owner_client.delete(f"{ARCHIVED}{rr.pk}/").status_code == 204
        assert ReviewRequestVisit.objects.filter(visibility="M").exists()


class TestStarredInReviewRequestFilters:
    """``to-users`` and ``to-users-directly`` include what the user starred."""

    def test_to_users(self, owner, other, anon_client):
        dopey = make_user("dopey")
        starred = make_review_request(submitter=owner, publish=True, people=[other])
        make_review_request(submitter=owner, publish=True, people=[other])
        WatchedReviewRequest.objects.create(user=dopey, review_request=starred)
        for name in ("to-users", "to-users-directly"):
            body = assert_ok(anon_client.get(f"/api/review-requests/?{name}=dopey"))
            assert [item["id"] for item in body["review_requests"]] == [starred.pk]
            assert body["total_results"] == 1


class TestTranscripts:
    """Whole answers compared with Review Board's own transcripts (golden-files/)."""

    def test_user_item_150(self, owner, anon_client):
        expected = golden(150)
        response = anon_client.get("/api/users/doc/")
        assert response.status_code == expected.status
        assert response["Content-Type"] == expected.headers["content-type"]
        assert rsp(response) == expected.body({'"id": 3': f'"id": {owner.pk}'})

    def test_watched_root_151(self, owner, anon_client):
        expected = golden(151)
        response = anon_client.get("/api/users/doc/watched/")
        assert response["Content-Type"] == expected.headers["content-type"]
        assert rsp(response) == expected.body()

    @pytest.mark.parametrize(
        ("number", "who", "data"),
        [
            (153, "other", {"object_id": "5"}),
            (154, "owner", {"object_id": "999"}),
        ],
    )
    def test_watched_errors_153_154(self, rr, owner, other, number, who, data):
        client = logged_in_client(owner if who == "owner" else other)
        expected = golden(number)
        response = client.post(WATCHED_RRS, data)
        assert response.status_code == expected.status
        assert rsp(response) == expected.body()

    def test_archived_delete_other_164_and_muted_missing_167(self, rr, owner, other):
        expected = golden(164)
        response = logged_in_client(other).delete(f"{ARCHIVED}{rr.pk}/")
        assert (response.status_code, rsp(response)) == (expected.status, expected.body())
        expected = golden(167)
        response = logged_in_client(owner).post(MUTED, {})
        assert (response.status_code, rsp(response)) == (expected.status, expected.body())
