"""/api/review-requests/ and /api/review-requests/{review_request_id}/ (spec: resources.md §1).

Review requests are built with the domain services (create, draft, publish, close, reopen), so
these tests exercise only what the resource adds: the payload, who may see and change what, the
list filters, and what each write stores.
"""

from __future__ import annotations

import datetime
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission

from changes.models import ChangeDescription
from reviews.models import Group, Repository, ReviewRequest, ReviewRequestDraft
from reviews.services import (
    review_request_close,
    review_request_create,
    review_request_publish,
    review_request_reopen,
)

from ..conftest import assert_error, assert_ok, logged_in_client, make_user

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
LIST = "/api/review-requests/"
FORM = "application/x-www-form-urlencoded"
# Review Board marks a review request once it has worked out its trophies, at its first publish.
TROPHIES = {"calculated_trophies": True}
UTC = datetime.UTC
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
NOT_SHIPPED = 'The review request has not been marked "Ship It!"'

# Golden 014 (GET /api/review-requests/1/ on Review Board 8.1), its fields without links: the
# names and value types every review request payload must have.
GOLDEN_014 = {
    "absolute_url": "http://127.0.0.1:8081/r/1/",
    "approval_failure": NOT_SHIPPED,
    "approved": False,
    "blocks": [],
    "branch": "main",
    "bugs_closed": ["101", "102"],
    "changenum": None,
    "close_description": None,
    "close_description_text_type": "plain",
    "commit_id": None,
    "created_with_history": False,
    "depends_on": [],
    "description": "This adds a **frobnicator** stage.\n\nSecond paragraph.",
    "description_text_type": "markdown",
    "extra_data": {"calculated_trophies": True},
    "id": 1,
    "issue_dropped_count": 0,
    "issue_open_count": 1,
    "issue_resolved_count": 0,
    "issue_verifying_count": 0,
    "last_updated": "2026-11-23T13:27:05Z",
    "public": True,
    "repository": None,
    "ship_it_count": 0,
    "status": "pending",
    "summary": "Add frobnicator to the widget pipeline (v2)",
    "target_groups": [
        {"href": "http://127.0.0.1:8081/api/groups/devs/", "method": "GET", "title": "devs"}
    ],
    "target_people": [
        {"href": "http://127.0.0.1:8081/api/users/doc/", "method": "GET", "title": "doc"},
    ],
    "testing_done": "Ran the unit tests and the integration tests.",
    "testing_done_text_type": "plain",
    "text_type": None,
    "time_added": "2026-11-23T13:27:04Z",
    "url": "/r/1/",
}
GOLDEN_014_LINKS = {
    "changes",
    "delete",
    "diff_context",
    "diffs",
    "draft",
    "file_attachments",
    "last_update",
    "reviews",
    "screenshots",
    "self",
    "status_updates",
    "submitter",
    "update",
}


# --- factories ---------------------------------------------------------------------------------
def create(submitter, *, repository=None, commit_id=None, people=(), groups=(), **values):
    """An unpublished review request whose draft holds ``values`` and the reviewers."""
    review_request = review_request_create(
        submitter=submitter, repository=repository, commit_id=commit_id
    )
    draft = review_request.draft
    values = {"summary": "Add frobnicator", "description": "Adds it.", **values}
    for name, value in values.items():
        setattr(draft, name, value)
    draft.save()
    draft.target_people.set(people)
    draft.target_groups.set(groups)
    return ReviewRequest.objects.get(pk=review_request.pk)


def publish(submitter, **kwargs) -> ReviewRequest:
    """A published review request (reviewers default to nobody, so pass people or groups)."""
    review_request = create(submitter, **kwargs)
    review_request_publish(review_request=review_request, user=submitter)
    return ReviewRequest.objects.get(pk=review_request.pk)


def close(review_request, status="S", description="", rich_text=False) -> ReviewRequest:
    review_request_close(
        review_request=review_request,
        user=review_request.submitter,
        status=status,
        description=description,
        rich_text=rich_text,
    )
    return ReviewRequest.objects.get(pk=review_request.pk)


def stamp(review_request, *, time_added=None, last_updated=None, **values) -> ReviewRequest:
    """Set stored values (timestamps, counters) without touching anything else."""
    if time_added is not None:
        values["time_added"] = time_added
    if last_updated is not None:
        values["last_updated"] = last_updated
    ReviewRequest.objects.filter(pk=review_request.pk).update(**values)
    return ReviewRequest.objects.get(pk=review_request.pk)


def at(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


def grant(user, *codenames: str):
    """Give ``user`` reviews permissions; the re-fetched user has no stale permission cache."""
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="reviews")
        )
    return type(user).objects.get(pk=user.pk)


def put(client, review_request, **data):
    return client.put(
        f"{LIST}{review_request.pk}/", urlencode(data), content_type=FORM, HTTP_ACCEPT="*/*"
    )


def ids(body) -> list[int]:
    return [item["id"] for item in body["review_requests"]]


def listed(client, query: str = "") -> list[int]:
    return ids(assert_ok(client.get(f"{LIST}{query}"), mimetype="review-requests"))


# --- golden payloads ---------------------------------------------------------------------------
def href(review_request) -> str:
    return f"{BASE}/api/review-requests/{review_request.pk}/"


def user_link(username: str) -> dict:
    return {"href": f"{BASE}/api/users/{username}/", "method": "GET", "title": username}


def group_link(name: str) -> dict:
    return {"href": f"{BASE}/api/groups/{name}/", "method": "GET", "title": name}


def rr_link(review_request) -> dict:
    return {"href": href(review_request), "method": "GET", "title": review_request.summary}


def golden_links(review_request) -> dict:
    item = href(review_request)
    links = {
        "changes": {"href": f"{item}changes/", "method": "GET"},
        "delete": {"href": item, "method": "DELETE"},
        "diff_context": {"href": f"{item}diff-context/", "method": "GET"},
        "diffs": {"href": f"{item}diffs/", "method": "GET"},
        "draft": {"href": f"{item}draft/", "method": "GET"},
        "file_attachments": {"href": f"{item}file-attachments/", "method": "GET"},
        "last_update": {"href": f"{item}last-update/", "method": "GET"},
        "reviews": {"href": f"{item}reviews/", "method": "GET"},
        "screenshots": {"href": f"{item}screenshots/", "method": "GET"},
        "self": {"href": item, "method": "GET"},
        "status_updates": {"href": f"{item}status-updates/", "method": "GET"},
        "submitter": user_link(review_request.submitter.username),
        "update": {"href": item, "method": "PUT"},
    }
    if review_request.repository is not None:
        repository = review_request.repository
        links["repository"] = {
            "href": f"{BASE}/api/repositories/{repository.pk}/",
            "method": "GET",
            "title": repository.name,
        }
    return links


@pytest.fixture
def devs(owner, other):
    group = Group.objects.create(
        name="devs", display_name="Developers", mailing_list="devs@example.com"
    )
    group.users.add(owner, other)
    return group


@pytest.fixture
def secret(owner):
    """An invite-only group with only doc in it."""
    group = Group.objects.create(name="secret", display_name="Secret", invite_only=True)
    group.users.add(owner)
    return group


@pytest.fixture
def repo(db):
    return Repository.objects.create(
        name="localgit", path="/srv/git/local.git", mirror_path="git@example.com:local.git"
    )


@pytest.fixture
def dopey(db):
    return make_user("dopey")


@pytest.fixture
def dopey_client(dopey):
    return logged_in_client(dopey)


@pytest.fixture
def frobnicator(owner, other, devs):
    """Golden 014's review request, as doc's: published, pending, Markdown description."""
    review_request = publish(
        owner,
        summary="Add frobnicator to the widget pipeline",
        description="This adds a **frobnicator** stage.\n\nSecond paragraph.",
        description_rich_text=True,
        testing_done="Ran the unit tests and the integration tests.",
        branch="main",
        bugs_closed="102, #101,101",
        people=[other],
        groups=[devs],
        extra_data={"calculated_trophies": True, "__private": "hidden"},
    )
    return stamp(
        review_request,
        time_added=at(2026, 11, 23, 13, 27, 4, 123456),
        last_updated=at(2026, 11, 23, 13, 27, 5, 999999),
        issue_open_count=1,
    )


class TestItem:
    def test_golden(self, frobnicator, anon_client):
        response = anon_client.get(href(frobnicator))
        body = assert_ok(response, mimetype="review-request")
        assert body == {
            "stat": "ok",
            "review_request": {
                "absolute_url": f"{BASE}/r/{frobnicator.pk}/",
                "approval_failure": NOT_SHIPPED,
                "approved": False,
                "blocks": [],
                "branch": "main",
                "bugs_closed": ["101", "102"],
                "changenum": None,
                "close_description": None,
                "close_description_text_type": "plain",
                "commit_id": None,
                "created_with_history": False,
                "depends_on": [],
                "description": "This adds a **frobnicator** stage.\n\nSecond paragraph.",
                "description_text_type": "markdown",
                "extra_data": {"calculated_trophies": True},
                "id": frobnicator.pk,
                "issue_dropped_count": 0,
                "issue_open_count": 1,
                "issue_resolved_count": 0,
                "issue_verifying_count": 0,
                "last_updated": "2026-11-23T13:27:05Z",
                "links": golden_links(frobnicator),
                "public": True,
                "repository": None,
                "ship_it_count": 0,
                "status": "pending",
                "summary": "Add frobnicator to the widget pipeline",
                "target_groups": [group_link("devs")],
                "target_people": [user_link("grumpy")],
                "testing_done": "Ran the unit tests and the integration tests.",
                "testing_done_text_type": "plain",
                "text_type": None,
                "time_added": "2026-11-23T13:27:04Z",
                "url": f"/r/{frobnicator.pk}/",
            },
        }

    def test_shape_matches_golden_014(self, frobnicator, admin_client):
        item = assert_ok(admin_client.get(href(frobnicator)))["review_request"]
        links = item.pop("links")
        assert {name: type(value) for name, value in item.items()} == {
            name: type(value) for name, value in GOLDEN_014.items()
        }
        # Every link rbapi gives is one Review Board gives; the rest are resources to come.
        assert set(links) <= GOLDEN_014_LINKS
        assert {"self", "update", "delete", "changes", "draft", "last_update", "submitter"} <= set(
            links
        )
        assert DATE_RE.match(item["time_added"]) and DATE_RE.match(item["last_updated"])
        for person in item["target_people"] + item["target_groups"]:
            assert set(person) == {"href", "method", "title"}

    def test_submitted_with_repository(self, owner, devs, repo, anon_client):
        review_request = publish(owner, groups=[devs], repository=repo, commit_id="abc123")
        review_request = close(review_request, "S", "Landed on *main*.", rich_text=True)
        item = assert_ok(anon_client.get(href(review_request)))["review_request"]
        assert item["status"] == "submitted"
        assert item["public"] is True
        assert item["close_description"] == "Landed on *main*."
        assert item["close_description_text_type"] == "markdown"
        assert item["commit_id"] == "abc123"
        # A repository is a link, not a field (golden 020).
        assert "repository" not in item
        assert item["links"] == golden_links(review_request)
        assert item["links"]["repository"]["title"] == "localgit"

    def test_discarded_has_an_empty_close_description(self, owner, other, anon_client):
        review_request = close(publish(owner, people=[other]), "D")
        item = assert_ok(anon_client.get(href(review_request)))["review_request"]
        assert (item["status"], item["close_description"]) == ("discarded", "")
        assert item["close_description_text_type"] == "plain"

    def test_close_description_is_the_latest_status_change(self, owner, other, anon_client):
        review_request = close(publish(owner, people=[other]), "S", "First landing.")
        review_request_reopen(review_request=review_request, user=owner)
        assert (
            assert_ok(anon_client.get(href(review_request)))["review_request"]["close_description"]
            is None
        )
        review_request = close(review_request, "S", "Second landing.")
        item = assert_ok(anon_client.get(href(review_request)))["review_request"]
        assert item["close_description"] == "Second landing."

    @pytest.mark.parametrize(
        ("raw", "served"),
        [
            ("102, #101,101, 3", ["3", "101", "102"]),
            ("b,a 2", ["2", "a", "b"]),
            ("", []),
        ],
    )
    def test_bugs_closed(self, owner, other, anon_client, raw, served):
        review_request = publish(owner, people=[other], bugs_closed=raw)
        item = assert_ok(anon_client.get(href(review_request)))["review_request"]
        assert item["bugs_closed"] == served

    @pytest.mark.parametrize(
        ("counts", "approved", "failure"),
        [
            ({}, False, NOT_SHIPPED),
            (
                {"shipit_count": 1, "issue_open_count": 1},
                False,
                "The review request has open issues.",
            ),
            (
                {"shipit_count": 1, "issue_verifying_count": 2},
                False,
                "The review request has unverified issues.",
            ),
            ({"shipit_count": 2, "issue_resolved_count": 1, "issue_dropped_count": 1}, True, None),
        ],
    )
    def test_approval(self, owner, other, anon_client, counts, approved, failure):
        review_request = stamp(publish(owner, people=[other]), **counts)
        item = assert_ok(anon_client.get(href(review_request)))["review_request"]
        assert (item["approved"], item["approval_failure"]) == (approved, failure)
        assert item["ship_it_count"] == counts.get("shipit_count", 0)
        assert item["issue_verifying_count"] == counts.get("issue_verifying_count", 0)

    def test_changenum(self, owner, other, anon_client):
        review_request = stamp(publish(owner, people=[other]), changenum=42)
        assert (
            assert_ok(anon_client.get(href(review_request)))["review_request"]["changenum"] == 42
        )

    def test_expand(self, frobnicator, anon_client):
        response = anon_client.get(
            f"{href(frobnicator)}?expand=submitter,target_people,target_groups"
        )
        item = assert_ok(response, mimetype="review-request")["review_request"]
        assert item["_expanded"] == {
            "submitter": {"item_mimetype": "application/vnd.reviewboard.org.user+json"},
            "target_groups": {
                "item_mimetype": "application/vnd.reviewboard.org.review-group+json"
            },
            "target_people": {"item_mimetype": "application/vnd.reviewboard.org.user+json"},
        }
        doc = assert_ok(anon_client.get("/api/users/doc/"))["user"]
        grumpy = assert_ok(anon_client.get("/api/users/grumpy/"))["user"]
        devs = assert_ok(anon_client.get("/api/groups/devs/"))["group"]
        assert item["submitter"] == doc
        assert item["target_people"] == [grumpy]
        assert item["target_groups"] == [devs]
        # The expanded submitter leaves the links (golden 016).
        links = golden_links(frobnicator)
        del links["submitter"]
        assert item["links"] == links

    def test_only_fields_and_only_links(self, frobnicator, anon_client):
        response = anon_client.get(
            f"{href(frobnicator)}?only-fields=id,summary,status&only-links=self"
        )
        assert assert_ok(response)["review_request"] == {
            "close_description_text_type": "plain",
            "description_text_type": "markdown",
            "id": frobnicator.pk,
            "links": {"self": {"href": href(frobnicator), "method": "GET"}},
            "status": "pending",
            "summary": "Add frobnicator to the widget pipeline",
            "testing_done_text_type": "plain",
        }
        item = assert_ok(anon_client.get(f"{href(frobnicator)}?only-fields=id&only-links="))[
            "review_request"
        ]
        assert "links" not in item
        assert item["id"] == frobnicator.pk
        # Filtering a foreign key out of the fields keeps its link (mechanics.md §6).
        item = assert_ok(anon_client.get(f"{href(frobnicator)}?only-fields=id"))["review_request"]
        assert item["links"]["submitter"] == user_link("doc")

    def test_xml(self, frobnicator, anon_client):
        response = anon_client.get(href(frobnicator), HTTP_ACCEPT="application/xml")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.reviewboard.org.review-request+xml"
        assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<rsp>')
        root = ET.fromstring(response.content)
        assert root.findtext("stat") == "ok"
        item = root.find("review_request")
        assert item.findtext("id") == str(frobnicator.pk)
        assert item.findtext("summary") == "Add frobnicator to the widget pipeline"
        assert item.findtext("public") == "1"
        assert item.findtext("approved") == "0"
        assert item.findtext("close_description").strip() == ""
        assert [bug.text for bug in item.findall("bugs_closed/array/item")] == ["101", "102"]
        assert item.findtext("target_people/array/item/title") == "grumpy"
        assert item.findtext("links/submitter/title") == "doc"

    def test_etag_and_304(self, frobnicator, owner_client):
        response = owner_client.get(href(frobnicator))
        etag = response["ETag"]
        assert re.fullmatch(r"[0-9a-f]{64}", etag)
        cached = owner_client.get(href(frobnicator), HTTP_IF_NONE_MATCH=etag)
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached["ETag"] == etag
        assert_ok(put(owner_client, frobnicator, status="submitted"))
        fresh = owner_client.get(href(frobnicator), HTTP_IF_NONE_MATCH=etag)
        assert fresh.status_code == 200
        assert fresh["ETag"] != etag

    def test_unknown_is_100(self, anon_client):
        assert_error(anon_client.get(f"{LIST}999/"), 404, 100)


class TestPermissions:
    def test_unpublished_is_private(
        self, owner, other, anon_client, other_client, owner_client, admin_client
    ):
        review_request = create(owner, people=[other])
        body = assert_error(anon_client.get(href(review_request)), 401, 103)
        assert body["err"]["msg"] == "You are not logged in"
        assert anon_client.get(href(review_request))["WWW-Authenticate"] == 'Basic realm="Web API"'
        body = assert_error(other_client.get(href(review_request)), 403, 101)
        assert body["err"]["msg"] == "You don't have permission for this"
        item = assert_ok(owner_client.get(href(review_request)))["review_request"]
        # The request shows its own (empty) values, not its draft's.
        assert (item["public"], item["summary"], item["target_people"]) == (False, "", [])
        assert assert_ok(admin_client.get(href(review_request)))["review_request"]["id"] == (
            review_request.pk
        )
        grant(other, "can_edit_reviewrequest")
        assert_ok(other_client.get(href(review_request)))

    def test_anonymous_reads_can_be_turned_off(
        self, frobnicator, settings, anon_client, other_client
    ):
        settings.RBAPI_ANONYMOUS_READ = False
        assert_error(anon_client.get(LIST), 401, 103)
        assert_error(anon_client.get(href(frobnicator)), 401, 103)
        assert_ok(other_client.get(href(frobnicator)))
        assert listed(other_client) == [frobnicator.pk]

    def test_invite_only_group(self, owner, other, secret, dopey, other_client, dopey_client):
        review_request = publish(owner, groups=[secret], people=[dopey])
        assert_error(other_client.get(href(review_request)), 403, 101)
        # A target person sees it although not in the group.
        assert_ok(dopey_client.get(href(review_request)))
        secret.users.add(other)
        assert_ok(other_client.get(href(review_request)))

    def test_one_accessible_group_is_enough(self, owner, devs, secret, other_client):
        review_request = publish(owner, groups=[devs, secret])
        assert_ok(other_client.get(href(review_request)))

    def test_private_repository(
        self, owner, other, dopey, anon_client, dopey_client, admin_client
    ):
        private = Repository.objects.create(name="private", path="/srv/private", public=False)
        review_request = publish(owner, people=[other, dopey], repository=private)
        assert_error(anon_client.get(href(review_request)), 401, 103)
        # Being a target person is not enough: the repository comes first.
        assert_error(dopey_client.get(href(review_request)), 403, 101)
        assert_ok(admin_client.get(href(review_request)))
        private.users.add(dopey)
        assert_ok(dopey_client.get(href(review_request)))

    def test_related_requests_never_leak(
        self, owner, other, secret, dopey, anon_client, dopey_client, owner_client
    ):
        visible = publish(other, people=[dopey], summary="Visible")
        hidden = publish(owner, groups=[secret], summary="Hidden")
        draft_only = create(owner, people=[dopey], summary="Unpublished")
        blocked = publish(other, people=[dopey], summary="Blocked by the hidden one")
        visible.depends_on.set([hidden, draft_only])
        blocked.depends_on.set([visible])
        hidden.depends_on.set([visible])
        for client in (anon_client, dopey_client):
            item = assert_ok(client.get(href(visible)))["review_request"]
            assert item["depends_on"] == []
            assert item["blocks"] == [rr_link(blocked)]
            listed_item = next(
                entry
                for entry in assert_ok(client.get(LIST))["review_requests"]
                if entry["id"] == visible.pk
            )
            assert (listed_item["depends_on"], listed_item["blocks"]) == ([], [rr_link(blocked)])
        item = assert_ok(owner_client.get(href(visible)))["review_request"]
        assert sorted(link["href"] for link in item["depends_on"]) == sorted(
            [href(hidden), href(draft_only)]
        )
        assert sorted(link["href"] for link in item["blocks"]) == sorted(
            [href(blocked), href(hidden)]
        )


@pytest.fixture
def world(owner, other, admin, dopey, devs, repo):
    """Published review requests to filter, newest-updated first: r4, r3, r2, r1.

    * r1: doc -> grumpy directly; repository, branch main, commit abc, changenum 7.
    * r2: grumpy -> devs; ship-it 2, one open issue.
    * r3: admin -> qa (dopey's group); ship-it 1, two dropped, one verifying issue.
    * r4: dopey -> devs and qa and doc directly; submitted.
    """
    qa = Group.objects.create(name="qa", display_name="QA")
    qa.users.add(dopey)
    r1 = publish(owner, people=[other], repository=repo, commit_id="abc", branch="main")
    r1 = stamp(
        r1,
        changenum=7,
        time_added=at(2024, 1, 1, 10),
        last_updated=at(2024, 1, 1, 10),
    )
    r2 = stamp(
        publish(other, groups=[devs], branch="feature"),
        shipit_count=2,
        issue_open_count=1,
        time_added=at(2024, 1, 2, 10),
        last_updated=at(2024, 1, 5, 10),
    )
    r3 = stamp(
        publish(admin, groups=[qa]),
        shipit_count=1,
        issue_dropped_count=2,
        issue_verifying_count=1,
        issue_resolved_count=3,
        time_added=at(2024, 1, 3, 10),
        last_updated=at(2024, 1, 6, 10),
    )
    r4 = close(publish(dopey, groups=[devs, qa], people=[owner]), "S", "Done.")
    r4 = stamp(r4, time_added=at(2024, 1, 4, 10), last_updated=at(2024, 1, 7, 10))
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "qa": qa}


class TestList:
    def test_golden(self, frobnicator, anon_client):
        response = anon_client.get(LIST)
        body = assert_ok(response, mimetype="review-requests")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.review-request+json"
        )
        item = assert_ok(anon_client.get(href(frobnicator)))["review_request"]
        assert body == {
            "stat": "ok",
            "total_results": 1,
            "review_requests": [item],
            "links": {
                "self": {"href": f"{BASE}{LIST}", "method": "GET"},
                "create": {"href": f"{BASE}{LIST}", "method": "POST"},
            },
        }

    def test_xml(self, frobnicator, anon_client):
        response = anon_client.get(LIST, HTTP_ACCEPT="application/xml")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.reviewboard.org.review-requests+xml"
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.review-request+xml"
        )
        root = ET.fromstring(response.content)
        assert root.findtext("total_results") == "1"
        assert root.findtext("review_requests/array/item/id") == str(frobnicator.pk)

    def test_status(self, world, anon_client):
        r1, r2, r3, r4 = (world[name] for name in ("r1", "r2", "r3", "r4"))
        discarded = stamp(
            close(publish(r1.submitter, people=[r2.submitter]), "D"),
            last_updated=at(2023, 1, 1),
        )
        assert listed(anon_client) == [r3.pk, r2.pk, r1.pk]
        assert listed(anon_client, "?status=pending") == [r3.pk, r2.pk, r1.pk]
        assert listed(anon_client, "?status=all") == [r4.pk, r3.pk, r2.pk, r1.pk, discarded.pk]
        assert listed(anon_client, "?status=submitted") == [r4.pk]
        assert listed(anon_client, "?status=discarded") == [discarded.pk]
        body = assert_error(anon_client.get(f"{LIST}?status=closed"), 400, 105)
        assert list(body["fields"]) == ["status"]

    def test_unpublished(
        self, world, owner, other, admin, owner_client, other_client, admin_client
    ):
        mine = create(owner, people=[other])
        theirs = create(other, people=[owner])
        assert mine.pk in listed(owner_client)
        assert theirs.pk not in listed(owner_client)
        assert mine.pk not in listed(other_client)
        assert mine.pk not in listed(admin_client)
        assert {mine.pk, theirs.pk} <= set(listed(admin_client, "?show-all-unpublished=1"))
        # Only superusers and submit-as users may ask for everyone's.
        assert mine.pk not in listed(other_client, "?show-all-unpublished=1")
        grant(other, "can_submit_as_another_user")
        assert mine.pk in listed(other_client, "?show-all-unpublished=true")

    def test_visibility(
        self, world, owner, secret, dopey, anon_client, dopey_client, owner_client
    ):
        hidden = publish(owner, groups=[secret])
        private = Repository.objects.create(name="private", path="/srv/private", public=False)
        in_private = publish(owner, people=[dopey], repository=private)
        assert hidden.pk not in listed(anon_client)
        assert hidden.pk not in listed(dopey_client)
        assert in_private.pk not in listed(dopey_client)
        assert in_private.pk not in listed(anon_client)
        assert {hidden.pk, in_private.pk} <= set(listed(owner_client))
        assert assert_ok(anon_client.get(f"{LIST}?counts-only=1"))["count"] == 3
        private.review_groups.add(world["qa"])
        assert in_private.pk in listed(dopey_client)

    def test_inactive_submitters_are_hidden(self, world, other, anon_client, admin_client):
        other.is_active = False
        other.save()
        assert world["r2"].pk not in listed(anon_client)
        assert world["r2"].pk not in listed(admin_client, "?status=all")

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("to-groups=devs", ["r4", "r2"]),
            ("to-groups=DEVS", ["r4", "r2"]),
            ("to-groups=devs,qa", ["r4"]),
            ("to-groups=nobody", []),
            ("to-users=grumpy", ["r4", "r2", "r1"]),
            ("to-users=dopey", ["r4", "r3"]),
            ("to-users=grumpy,dopey", ["r4"]),
            ("to-users=admin", []),
            ("to-users=doc", ["r4", "r2"]),
            ("to-users-directly=grumpy", ["r1"]),
            ("to-users-directly=doc", ["r4"]),
            ("to-users-directly=dopey", []),
            ("to-users-groups=dopey", ["r4", "r3"]),
            ("to-users-groups=grumpy", ["r4", "r2"]),
            ("to-user-groups=dopey", ["r4", "r3"]),
            ("from-user=grumpy", ["r2"]),
            ("from-user=nobody", []),
            ("branch=main", ["r1"]),
            ("branch=mai", []),
            ("commit-id=abc", ["r1"]),
            ("changenum=7", ["r1"]),
            ("changenum=7&commit-id=nope", ["r1"]),
            ("changenum=99&commit-id=abc", ["r1"]),
            ("changenum=99", []),
            ("ship-it=1", ["r3", "r2"]),
            ("ship-it=true", ["r3", "r2"]),
            ("ship-it=0", ["r4", "r1"]),
            ("ship-it-count=2", ["r2"]),
            ("ship-it-count-gt=1", ["r2"]),
            ("ship-it-count-gte=1", ["r3", "r2"]),
            ("ship-it-count-lt=2", ["r4", "r3", "r1"]),
            ("ship-it-count-lte=0", ["r4", "r1"]),
            ("issue-open-count=1", ["r2"]),
            ("issue-open-count-gte=1", ["r2"]),
            ("issue-dropped-count-gt=1", ["r3"]),
            ("issue-dropped-count-lt=2", ["r4", "r2", "r1"]),
            ("issue-resolved-count-lte=2", ["r4", "r2", "r1"]),
            ("issue-verifying-count=1", ["r3"]),
            ("time-added-from=2024-01-02", ["r4", "r3", "r2"]),
            ("time-added-from=2024-01-02T10:00:00Z", ["r4", "r3", "r2"]),
            ("time-added-to=2024-01-02T10:00:00", ["r1"]),
            ("time-added-from=2024-01-02&time-added-to=2024-01-04", ["r3", "r2"]),
            ("last-updated-from=2024-01-06T12:00:00%2B02:00", ["r4", "r3"]),
            ("last-updated-to=2024-01-06", ["r2", "r1"]),
            ("last-updated-from=2024-01-05&last-updated-to=2024-01-07", ["r3", "r2"]),
            ("to-groups=devs&from-user=dopey&ship-it=0", ["r4"]),
        ],
    )
    def test_filters(self, world, anon_client, query, expected):
        assert listed(anon_client, f"?status=all&{query}") == [world[name].pk for name in expected]

    def test_repository_filter(self, world, repo, anon_client):
        assert listed(anon_client, f"?repository={repo.pk}") == [world["r1"].pk]
        assert listed(anon_client, f"?repository={repo.pk + 100}") == []

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ("time-added-from=yesterday", "time-added-from"),
            ("time-added-to=2024-13-45", "time-added-to"),
            ("last-updated-from=soon", "last-updated-from"),
            ("last-updated-to=x", "last-updated-to"),
            ("ship-it-count=lots", "ship-it-count"),
            ("issue-open-count=x", "issue-open-count"),
            ("changenum=abc", "changenum"),
            ("repository=localgit", "repository"),
            ("max-results=abc", "max-results"),
        ],
    )
    def test_bad_values_are_105(self, world, anon_client, query, field):
        body = assert_error(anon_client.get(f"{LIST}?{query}"), 400, 105)
        assert list(body["fields"]) == [field]

    @pytest.mark.parametrize(
        "param", ["to-users", "to-users-directly", "to-users-groups", "to-user-groups"]
    )
    def test_unknown_user_is_100(self, world, anon_client, param):
        assert_error(anon_client.get(f"{LIST}?{param}=nobody"), 404, 100)
        assert_error(anon_client.get(f"{LIST}?{param}=grumpy,nobody"), 404, 100)

    def test_counts_only(self, world, anon_client):
        response = anon_client.get(f"{LIST}?counts-only=1&status=all&to-groups=devs")
        assert assert_ok(response, mimetype="review-requests") == {"stat": "ok", "count": 2}
        assert assert_ok(anon_client.get(f"{LIST}?counts-only=0")) == {"stat": "ok", "count": 3}
        assert assert_ok(anon_client.get(f"{LIST}?counts-only=1&from-user=nobody"))["count"] == 0
        # A request reaching doc both directly and through devs counts once.
        assert assert_ok(anon_client.get(f"{LIST}?counts-only=1&status=all&to-users=doc")) == {
            "stat": "ok",
            "count": 2,
        }
        body = assert_ok(anon_client.get(f"{LIST}?status=all&to-users=doc"))
        assert body["total_results"] == 2

    def test_paging_keeps_filters(self, world, anon_client):
        query = "?to-groups=devs,qa&max-results=1&status=all&to-users=dopey"
        body = assert_ok(anon_client.get(f"{LIST}{query}"))
        assert ids(body) == [world["r4"].pk]
        assert body["total_results"] == 1
        assert "next" not in body["links"]
        body = assert_ok(anon_client.get(f"{LIST}?to-groups=devs&max-results=1&status=all"))
        assert ids(body) == [world["r4"].pk]
        assert body["total_results"] == 2
        assert body["links"] == {
            "self": {
                "href": f"{BASE}{LIST}?to-groups=devs&max-results=1&status=all",
                "method": "GET",
            },
            "create": {"href": f"{BASE}{LIST}", "method": "POST"},
            "next": {
                "href": f"{BASE}{LIST}?start=1&max-results=1&status=all&to-groups=devs",
                "method": "GET",
            },
        }
        body = assert_ok(anon_client.get(body["links"]["next"]["href"]))
        assert ids(body) == [world["r2"].pk]
        assert body["links"]["prev"]["href"] == (
            f"{BASE}{LIST}?start=0&max-results=1&status=all&to-groups=devs"
        )
        assert "next" not in body["links"]

    def test_newest_updated_first(self, owner, other, anon_client):
        oldest = stamp(publish(owner, people=[other]), last_updated=at(2024, 5, 3))
        newest = stamp(publish(owner, people=[other]), last_updated=at(2024, 5, 9))
        middle = stamp(publish(owner, people=[other]), last_updated=at(2024, 5, 5))
        assert listed(anon_client) == [newest.pk, middle.pk, oldest.pk]
        # Closing bumps last_updated.
        close(oldest, "S")
        assert listed(anon_client, "?status=all")[0] == oldest.pk


class TestQueryCount:
    def _published(self, owner, other, devs, n):
        review_request = publish(
            owner, people=[other, owner], groups=[devs], summary=f"Change {n}", bugs_closed="1,2"
        )
        return close(review_request, "S", f"Landed {n}.")

    @pytest.mark.parametrize(
        "query",
        [
            "?status=all&to-groups=devs",
            "?status=all&to-users=grumpy&ship-it-count-lt=5",
            "?status=submitted&expand=submitter,target_people,target_groups",
        ],
    )
    def test_page_cost_is_constant(
        self, owner, other, devs, other_client, django_assert_max_num_queries, query
    ):
        self._published(owner, other, devs, 0)
        url = f"{LIST}{query}&max-results=50"
        with django_assert_max_num_queries(20) as one:
            assert len(assert_ok(other_client.get(url))["review_requests"]) == 1
        for n in range(1, 50):
            self._published(owner, other, devs, n)
        with django_assert_max_num_queries(len(one.captured_queries)):
            body = assert_ok(other_client.get(url))
        assert len(body["review_requests"]) == 50
        assert {item["close_description"] for item in body["review_requests"]} == {
            f"Landed {n}." for n in range(50)
        }

    def test_related_requests_cost_is_constant(
        self, owner, other, devs, dopey_client, django_assert_max_num_queries
    ):
        """depends_on and blocks are filtered for the viewer without a query per item."""
        base = publish(owner, groups=[devs], summary="Base")
        first = publish(owner, groups=[devs], summary="Change 0")
        first.depends_on.set([base])
        url = f"{LIST}?max-results=60"
        with django_assert_max_num_queries(30) as one:
            assert len(assert_ok(dopey_client.get(url))["review_requests"]) == 2
        for n in range(1, 40):
            publish(owner, groups=[devs], summary=f"Change {n}").depends_on.set([base, first])
        with django_assert_max_num_queries(len(one.captured_queries)):
            assert len(assert_ok(dopey_client.get(url))["review_requests"]) == 41


class TestCreate:
    def test_without_repository(self, owner, owner_client):
        response = owner_client.post(LIST)
        body = assert_ok(response, 201, mimetype="review-request")
        review_request = ReviewRequest.objects.get()
        item = body["review_request"]
        assert item["id"] == review_request.pk
        assert (item["public"], item["status"], item["summary"]) == (False, "pending", "")
        assert item["repository"] is None
        assert item["close_description"] is None
        assert item["links"] == golden_links(review_request)
        assert "Location" not in response
        assert review_request.submitter == owner
        assert not review_request.public
        draft = ReviewRequestDraft.objects.get(review_request=review_request)
        assert draft.owner == owner
        assert_ok(owner_client.get(f"{href(review_request)}draft/"))

    @pytest.mark.parametrize(
        "value",
        ["id", "localgit", "/srv/git/local.git", "git@example.com:local.git"],
    )
    def test_repository_lookup(self, repo, owner_client, value):
        value = str(repo.pk) if value == "id" else value
        body = assert_ok(owner_client.post(LIST, {"repository": value}), 201)
        review_request = ReviewRequest.objects.get()
        assert review_request.repository == repo
        assert "repository" not in body["review_request"]
        assert body["review_request"]["links"]["repository"] == {
            "href": f"{BASE}/api/repositories/{repo.pk}/",
            "method": "GET",
            "title": "localgit",
        }

    def test_unknown_repository_is_206(self, repo, admin_client):
        body = assert_error(admin_client.post(LIST, {"repository": "no-such-repo"}), 400, 206)
        assert body == {
            "stat": "fail",
            "err": {
                "code": 206,
                "msg": "The repository path specified is not in the list of known repositories.",
                "type": "repository-invalid",
            },
            "repository": "no-such-repo",
        }
        assert_error(admin_client.post(LIST, {"repository": str(repo.pk + 100)}), 400, 206)
        assert not ReviewRequest.objects.exists()

    def test_ambiguous_repository_is_206(self, repo, owner_client):
        Repository.objects.create(name="other", path="localgit")
        body = assert_error(owner_client.post(LIST, {"repository": "localgit"}), 400, 206)
        assert body["err"]["msg"].startswith('Too many repositories matched "localgit".')
        assert not ReviewRequest.objects.exists()

    def test_inaccessible_repository(self, other, other_client):
        private = Repository.objects.create(name="private", path="/srv/private", public=False)
        assert_error(other_client.post(LIST, {"repository": "private"}), 403, 101)
        assert not ReviewRequest.objects.exists()
        private.users.add(other)
        assert_ok(other_client.post(LIST, {"repository": "private"}), 201)

    def test_commit_id(self, owner, repo, owner_client, other_client):
        body = assert_ok(owner_client.post(LIST, {"repository": repo.pk, "commit_id": "abc"}), 201)
        first = ReviewRequest.objects.get()
        assert body["review_request"]["commit_id"] == "abc"
        assert first.commit_id == "abc"
        response = owner_client.post(LIST, {"repository": repo.pk, "commit_id": "abc"})
        body = assert_error(response, 409, 204)
        assert body["err"]["msg"] == "The commit ID specified has already been used."
        assert body["err"]["type"] == "review-request-commit-id-conflict"
        # Review Board names the review request that holds the commit (resources.md §1: "with
        # extra review_request"), as an object or a link.
        held = body.get("review_request")
        assert held is not None, body
        assert held.get("id") == first.pk or held.get("href") == href(first)
        assert ReviewRequest.objects.count() == 1
        # Another repository, or none, may use the same commit.
        other_repo = Repository.objects.create(name="other", path="/srv/other")
        assert_ok(other_client.post(LIST, {"repository": other_repo.pk, "commit_id": "abc"}), 201)
        assert_ok(other_client.post(LIST, {"commit_id": "abc"}), 201)

    def test_commit_id_held_by_a_draft_conflicts(self, owner, repo, owner_client):
        review_request = create(owner, repository=repo, people=[owner])
        ReviewRequestDraft.objects.filter(review_request=review_request).update(commit_id="d1")
        assert_error(owner_client.post(LIST, {"repository": repo.pk, "commit_id": "d1"}), 409, 204)

    def test_submit_as(self, owner, other, admin_client, owner_client, other_client):
        body = assert_ok(admin_client.post(LIST, {"submit_as": "doc"}), 201)
        assert body["review_request"]["links"]["submitter"] == user_link("doc")
        assert ReviewRequest.objects.get().submitter == owner
        assert ReviewRequestDraft.objects.get().owner == owner

        assert_error(other_client.post(LIST, {"submit_as": "doc"}), 403, 101)
        assert ReviewRequest.objects.count() == 1
        assert_error(admin_client.post(LIST, {"submit_as": "nobody"}), 400, 208)
        assert ReviewRequest.objects.count() == 1

        grant(other, "can_submit_as_another_user")
        body = assert_ok(other_client.post(LIST, {"submit_as": "doc"}), 201)
        assert ReviewRequest.objects.get(pk=body["review_request"]["id"]).submitter == owner

    def test_extra_data(self, owner_client):
        data = {"extra_data.color": "blue", "extra_data.count": "3", "extra_data.__secret": "x"}
        body = assert_ok(owner_client.post(LIST, data), 201)
        assert body["review_request"]["extra_data"] == {"color": "blue", "count": 3}
        assert ReviewRequest.objects.get().extra_data == {"color": "blue", "count": 3}

    def test_anonymous_is_103(self, anon_client):
        response = anon_client.post(LIST)
        assert_error(response, 401, 103)
        assert response["WWW-Authenticate"] == 'Basic realm="Web API"'
        assert not ReviewRequest.objects.exists()


@pytest.fixture
def published(owner, other):
    return publish(owner, people=[other])


class TestUpdate:
    def test_close_as_submitted(self, published, owner_client):
        response = put(
            owner_client,
            published,
            status="submitted",
            close_description="  Landed on *main*.  ",
            close_description_text_type="markdown",
        )
        item = assert_ok(response, mimetype="review-request")["review_request"]
        assert (item["status"], item["public"]) == ("submitted", True)
        assert item["close_description"] == "Landed on *main*."
        assert item["close_description_text_type"] == "markdown"
        published.refresh_from_db()
        assert published.status == "S"
        change = published.changedescs.get()
        assert (change.text, change.rich_text, change.public) == ("Landed on *main*.", True, True)
        assert change.fields_changed == {"status": {"old": ["P"], "new": ["S"]}}

    def test_method_override(self, published, owner_client):
        response = owner_client.post(
            href(published), {"_method": "PUT", "status": "submitted", "close_description": "Ok"}
        )
        item = assert_ok(response, mimetype="review-request")["review_request"]
        assert (item["status"], item["close_description"]) == ("submitted", "Ok")
        published.refresh_from_db()
        assert published.status == "S"

    def test_closing_again_edits_the_description(self, published, owner_client):
        assert_ok(put(owner_client, published, status="submitted", close_description="Landed."))
        item = assert_ok(
            put(owner_client, published, status="submitted", close_description="Landed on main.")
        )["review_request"]
        assert item["close_description"] == "Landed on main."
        assert item["close_description_text_type"] == "plain"
        assert published.changedescs.get().text == "Landed on main."

    def test_closing_again_after_a_publish_edits_that_publish(self, published, owner_client):
        """As Review Board 8.1 (found by the replay): no second closing record; the latest
        public change description (here the publish's) takes the text, the answer shows the
        close just made, and a later GET still shows the first close."""
        assert_ok(put(owner_client, published, status="submitted", close_description="Landed."))
        draft_url = f"{href(published)}draft/"
        assert_ok(owner_client.put(draft_url, "summary=Renamed", content_type=FORM))
        assert_ok(owner_client.put(draft_url, "public=1", content_type=FORM))
        item = assert_ok(
            put(
                owner_client,
                published,
                status="submitted",
                close_description="Again.",
                close_description_text_type="markdown",
            )
        )["review_request"]
        assert (item["close_description"], item["close_description_text_type"]) == (
            "Again.",
            "markdown",
        )
        again = assert_ok(owner_client.get(href(published)))["review_request"]
        assert (again["close_description"], again["close_description_text_type"]) == (
            "",
            "plain",
        )
        closing, publish = published.changedescs.order_by("pk")
        assert (closing.text, list(closing.fields_changed)) == ("Landed.", ["status"])
        assert (publish.text, publish.rich_text, list(publish.fields_changed)) == (
            "Again.",
            True,
            ["summary"],
        )

    def test_legacy_description_and_text_type(self, published, owner_client):
        item = assert_ok(
            put(
                owner_client,
                published,
                status="discarded",
                description="Never mind.",
                text_type="markdown",
            )
        )["review_request"]
        assert (item["status"], item["close_description"]) == ("discarded", "Never mind.")
        assert item["close_description_text_type"] == "markdown"

    def test_closing_a_draft_as_submitted_is_225(self, owner, other, owner_client):
        review_request = create(owner, people=[other])
        response = put(owner_client, review_request, status="submitted", close_description="x")
        body = assert_error(response, 500, 225)
        assert body["err"] == {
            "code": 225,
            "msg": "Error publishing: The draft must be public first.",
            "type": "review-request-publish-error",
        }
        review_request.refresh_from_db()
        assert (review_request.status, review_request.public) == ("P", False)
        assert not ChangeDescription.objects.exists()
        assert ReviewRequestDraft.objects.filter(review_request=review_request).exists()

    def test_failed_close_stores_no_extra_data(self, owner, other, owner_client):
        review_request = create(owner, people=[other])
        response = put(owner_client, review_request, status="submitted", **{"extra_data.a": "1"})
        assert_error(response, 500, 225)
        review_request.refresh_from_db()
        assert review_request.extra_data == {}

    def test_discarding_a_draft_keeps_its_values(self, owner, other, owner_client):
        review_request = create(owner, people=[other], summary="Draft summary")
        item = assert_ok(put(owner_client, review_request, status="discarded"))["review_request"]
        assert (item["status"], item["public"], item["summary"]) == (
            "discarded",
            False,
            "Draft summary",
        )
        assert item["target_people"] == [user_link("grumpy")]
        assert not ReviewRequestDraft.objects.exists()

    def test_discard_clears_commit_id(self, owner, other, repo, owner_client, other_client):
        review_request = publish(owner, people=[other], repository=repo, commit_id="abc")
        item = assert_ok(put(owner_client, review_request, status="discarded"))["review_request"]
        # The answer to a close without a description says null, as Review Board's does.
        assert (item["status"], item["commit_id"], item["close_description"]) == (
            "discarded",
            None,
            None,
        )
        review_request.refresh_from_db()
        assert review_request.commit_id is None
        assert_ok(other_client.post(LIST, {"repository": repo.pk, "commit_id": "abc"}), 201)

    def test_closing_deletes_the_pending_draft(self, published, owner_client):
        assert_ok(
            owner_client.put(f"{href(published)}draft/", "summary=Edited", content_type=FORM)
        )
        assert ReviewRequestDraft.objects.filter(review_request=published).exists()
        assert_ok(put(owner_client, published, status="submitted"))
        assert not ReviewRequestDraft.objects.filter(review_request=published).exists()

    def test_reopen_submitted_stays_public(self, published, owner_client, anon_client):
        close(published, "S", "Landed.")
        item = assert_ok(put(owner_client, published, status="pending"))["review_request"]
        assert (item["status"], item["public"], item["close_description"]) == (
            "pending",
            True,
            None,
        )
        published.refresh_from_db()
        assert (published.status, published.public) == ("P", True)
        assert not ReviewRequestDraft.objects.exists()
        assert_ok(anon_client.get(href(published)))

    def test_reopen_discarded_needs_a_new_publish(
        self, published, owner_client, other_client, anon_client
    ):
        close(published, "D")
        item = assert_ok(put(owner_client, published, status="pending"))["review_request"]
        assert (item["status"], item["public"]) == ("pending", False)
        published.refresh_from_db()
        assert (published.status, published.public) == ("P", False)
        draft = ReviewRequestDraft.objects.get(review_request=published)
        assert draft.changedesc.fields_changed == {"status": {"old": ["D"], "new": ["P"]}}
        assert_error(other_client.get(href(published)), 403, 101)
        assert_error(anon_client.get(href(published)), 401, 103)

    def test_pending_on_pending_changes_nothing(self, published, owner_client):
        before = published.last_updated
        item = assert_ok(put(owner_client, published, status="pending"))["review_request"]
        assert (item["status"], item["public"]) == ("pending", True)
        published.refresh_from_db()
        assert published.last_updated == before
        assert not ChangeDescription.objects.exists()

    def test_other_user_is_101(self, published, other_client):
        """Golden 048."""
        body = assert_error(put(other_client, published, status="submitted"), 403, 101)
        assert body == {
            "err": {
                "code": 101,
                "msg": "You don't have permission for this",
                "type": "resource-permission-denied",
            },
            "stat": "fail",
        }
        published.refresh_from_db()
        assert published.status == "P"
        assert not ChangeDescription.objects.exists()

    def test_anonymous_is_103(self, published, anon_client):
        """Golden 046."""
        response = put(anon_client, published, status="submitted")
        body = assert_error(response, 401, 103)
        assert body["err"]["msg"] == "You are not logged in"
        assert response["WWW-Authenticate"] == 'Basic realm="Web API"'
        published.refresh_from_db()
        assert published.status == "P"

    def test_change_status_permission(self, published, other, other_client, admin_client):
        other = grant(other, "can_change_status")
        assert_ok(put(other_client, published, status="discarded", close_description="No."))
        published.refresh_from_db()
        assert published.status == "D"
        assert published.changedescs.get().user == other
        # Status rights do not cover extra_data.
        assert_error(put(other_client, published, **{"extra_data.a": "1"}), 403, 101)
        published.refresh_from_db()
        assert published.extra_data == TROPHIES
        # Superusers hold every permission.
        assert_ok(put(admin_client, published, status="pending"))

    def test_invalid_status_is_105(self, published, owner_client):
        body = assert_error(put(owner_client, published, status="closed"), 400, 105)
        assert list(body["fields"]) == ["status"]
        body = assert_error(
            put(
                owner_client,
                published,
                status="submitted",
                close_description_text_type="html",
            ),
            400,
            105,
        )
        assert list(body["fields"]) == ["close_description_text_type"]
        published.refresh_from_db()
        assert published.status == "P"
        assert not ChangeDescription.objects.exists()

    def test_extra_data(self, published, owner_client):
        item = assert_ok(
            put(owner_client, published, **{"extra_data.color": "red", "extra_data.ok": "true"})
        )["review_request"]
        assert item["extra_data"] == {**TROPHIES, "color": "red", "ok": True}
        published.refresh_from_db()
        assert published.extra_data == {**TROPHIES, "color": "red", "ok": True}
        assert_ok(put(owner_client, published, **{"extra_data.color": ""}))
        published.refresh_from_db()
        assert published.extra_data == {**TROPHIES, "ok": True}

    def test_extra_data_needs_edit_rights(self, published, other, other_client):
        assert_error(put(other_client, published, **{"extra_data.a": "1"}), 403, 101)
        published.refresh_from_db()
        assert published.extra_data == TROPHIES
        grant(other, "can_edit_reviewrequest")
        assert_ok(put(other_client, published, **{"extra_data.a": "1"}))
        published.refresh_from_db()
        assert published.extra_data == {**TROPHIES, "a": 1}

    def test_edit_rights_do_not_cover_status(self, published, other, other_client):
        """A holder of can_edit_reviewrequest may not close, and a refused PUT stores
        nothing, not even the extra_data it carried (Review Board checks both rights
        before changing anything)."""
        grant(other, "can_edit_reviewrequest")
        response = put(other_client, published, status="submitted", **{"extra_data.a": "1"})
        assert_error(response, 403, 101)
        published.refresh_from_db()
        assert (published.status, published.extra_data) == ("P", TROPHIES)


class TestDelete:
    def test_owner_cannot_delete(self, published, owner_client):
        assert_error(owner_client.delete(href(published)), 403, 101)
        assert ReviewRequest.objects.filter(pk=published.pk).exists()

    def test_anonymous_is_103(self, published, anon_client):
        assert_error(anon_client.delete(href(published)), 401, 103)
        assert ReviewRequest.objects.filter(pk=published.pk).exists()

    def test_admin_deletes(self, published, admin_client, anon_client):
        close(published, "S", "Landed.")
        response = admin_client.delete(href(published))
        assert response.status_code == 204
        assert not ReviewRequest.objects.filter(pk=published.pk).exists()
        assert not ChangeDescription.objects.exists()
        assert_error(anon_client.get(href(published)), 404, 100)
        assert_error(admin_client.delete(href(published)), 404, 100)

    def test_delete_permission(self, published, other, other_client):
        grant(other, "delete_reviewrequest")
        assert other_client.delete(href(published)).status_code == 204
        assert not ReviewRequest.objects.exists()

    def test_method_override(self, published, admin_client):
        response = admin_client.post(href(published), {"_method": "DELETE"})
        assert response.status_code == 204
        assert not ReviewRequest.objects.exists()

    def test_post_on_item_is_405(self, published, admin_client):
        """Golden 053 (with rbapi's JSON envelope)."""
        response = admin_client.post(href(published), {"summary": "x"})
        assert_error(response, 405, 900)
        assert response["Allow"] == "GET, PUT, DELETE"
        published.refresh_from_db()
        assert published.summary == "Add frobnicator"

    def test_put_on_list_is_405(self, admin_client):
        response = admin_client.put(LIST, "status=submitted", content_type=FORM)
        assert_error(response, 405, 900)
        # The list's and the items' methods less PUT, as Review Board announces them.
        assert response["Allow"] == "GET, POST, DELETE"
