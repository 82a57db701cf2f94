"""/api/review-requests/{id}/status-updates/ and /status-updates/{status_update_id}/.

The CI-bot resource (spec: resources.md §5, clients.md §3; goldens 036-038, 049, 050): every
state on the wire and as stored, timed-out computed on read, filters, request-run, who may
read and change, the feature switch, extra_data, links, query counts and concurrent PUTs.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from urllib.parse import urlencode

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from changes.models import ChangeDescription
from core.errors import InvalidFieldsError
from reviews.models import Group
from reviews.services import review_get_or_create_draft, review_publish
from status_updates.models import StatusUpdate
from status_updates.services import (
    status_update_create,
    status_update_delete,
    status_update_request_run,
    status_update_update,
)

from ..conftest import assert_error, assert_ok, basic_auth, logged_in_client, make_user, rsp
from ..factories import make_review_request, update_and_publish

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"

# Wire name -> stored letter (resources.md §5).
STATES = {
    "pending": "P",
    "done-success": "S",
    "done-failure": "F",
    "error": "E",
    "timed-out": "T",
    "not-yet-run": "R",
    "cancelled": "C",
}
POST_CHOICES = (
    '"cancelled", "done-failure", "done-success", "error", "not-yet-run", "pending", "timed-out"'
)
PUT_CHOICES = f'{POST_CHOICES}, "request-run"'
LIMITS = {"service_id": 255, "summary": 255, "description": 255, "url": 255, "url_text": 64}
FORM_ERROR = {"code": 105, "msg": "One or more fields had errors", "type": "request-field-error"}


def choice_error(value: str, choices: str) -> str:
    return f'"{value}" is not a valid value. Valid values are: {choices}'


# --- helpers --------------------------------------------------------------------------------


def list_url(review_request) -> str:
    return f"/api/review-requests/{review_request.pk}/status-updates/"


def item_url(status_update) -> str:
    return f"{list_url(status_update.review_request)}{status_update.pk}/"


def put(client: Client, url: str, data: dict):
    return client.put(url, urlencode(data), content_type=FORM)


def make_su(review_request, user, **values) -> StatusUpdate:
    values = {"service_id": "ci.example", "summary": "CI build", **values}
    return StatusUpdate.objects.create(review_request=review_request, user=user, **values)


def age(status_update: StatusUpdate, **delta) -> None:
    """Move the stored timestamp into the past, behind the model's back."""
    StatusUpdate.objects.filter(pk=status_update.pk).update(
        timestamp=timezone.now() - datetime.timedelta(**delta)
    )


def stored(status_update: StatusUpdate) -> StatusUpdate:
    return StatusUpdate.objects.get(pk=status_update.pk)


def snapshot() -> list[dict]:
    """Every stored status update, field by field, to show that nothing changed."""
    return list(StatusUpdate.objects.order_by("pk").values())


def wire(status_update: StatusUpdate, *, state: str | None = None) -> dict:
    """The payload Review Board sends for ``status_update`` (golden 038): no user, no
    timestamp; a set change or review only as a titled link, an unset one as null."""
    status_update = stored(status_update)
    href = f"{BASE}{item_url(status_update)}"
    rr_href = f"{BASE}/api/review-requests/{status_update.review_request_id}/"
    links = {
        "delete": {"href": href, "method": "DELETE"},
        "self": {"href": href, "method": "GET"},
        "update": {"href": href, "method": "PUT"},
    }
    data = {
        "description": status_update.description,
        "extra_data": {
            k: v for k, v in status_update.extra_data.items() if not k.startswith("__")
        },
        "id": status_update.pk,
        "links": links,
        "service_id": status_update.service_id,
        "state": state or StatusUpdate.STATES[status_update.state],
        "summary": status_update.summary,
        "timeout": status_update.timeout,
        "url": status_update.url,
        "url_text": status_update.url_text,
    }
    change = status_update.change_description
    if change is None:
        data["change"] = None
    else:
        links["change"] = {
            "href": f"{rr_href}changes/{change.pk}/",
            "method": "GET",
            "title": change.text,
        }
    review = status_update.review
    if review is None:
        data["review"] = None
    else:
        links["review"] = {
            "href": f"{rr_href}reviews/{review.pk}/",
            "method": "GET",
            # Review Board 8.1's title for a link to a review (found by the replay).
            "title": f"Review of '{review.review_request.summary}'",
        }
    return data


def assert_item(response, status: int = 200) -> dict:
    body = assert_ok(response, status, mimetype="status-update")
    assert set(body) == {"stat", "status_update"}
    return body["status_update"]


def assert_list(response) -> dict:
    body = assert_ok(response, mimetype="status-updates")
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.status-update+json"
    return body


def assert_form_error(response, fields: dict) -> dict:
    body = assert_error(response, 400, 105)
    assert body == {"stat": "fail", "err": FORM_ERROR, "fields": fields}
    return body


def ids(body: dict) -> list[int]:
    return [item["id"] for item in body["status_updates"]]


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def rr(owner, other):
    """Doc's published review request, with Grumpy as a reviewer."""
    return make_review_request(submitter=owner, publish=True, people=[other])


@pytest.fixture
def other_rr(owner, other):
    return make_review_request(
        submitter=owner, publish=True, people=[other], summary="Another request"
    )


@pytest.fixture
def change(rr, owner) -> ChangeDescription:
    """A public change description of ``rr`` (its second publish)."""
    update_and_publish(rr, user=owner, summary="Add frobnicator (v2)", changedescription="v2.")
    return rr.changedescs.get(public=True, text="v2.")


@pytest.fixture
def review(rr, other):
    """A published review by grumpy (a draft would be hidden from everyone else)."""
    draft = review_get_or_create_draft(review_request=rr, user=other)[0]
    draft.body_top = "Bot findings."
    draft.save()
    return review_publish(review=draft)


@pytest.fixture
def draft_review(rr, other):
    return review_get_or_create_draft(review_request=rr, user=other)[0]


@pytest.fixture
def bot(db):
    return make_user("bot")


@pytest.fixture
def bot_client(bot) -> Client:
    return logged_in_client(bot)


@pytest.fixture
def su(rr, bot) -> StatusUpdate:
    """A pending update the bot reported on ``rr``."""
    return make_su(rr, bot, description="running...")


@pytest.fixture
def run_requests():
    """The ``status_update_request_run`` signals sent during the test."""
    calls: list[dict] = []

    def receiver(sender, **kwargs):
        calls.append({"sender": sender, **kwargs})

    status_update_request_run.connect(receiver, weak=False)
    yield calls
    status_update_request_run.disconnect(receiver)


# --- reads ----------------------------------------------------------------------------------


class TestRead:
    def test_list_golden_036(self, rr, bot, anon_client):
        done = make_su(
            rr,
            bot,
            state="S",
            description="passed",
            url="http://ci.example/build/1",
            url_text="Build #1",
        )
        body = assert_list(anon_client.get(list_url(rr)))
        url = f"{BASE}{list_url(rr)}"
        assert body == {
            "stat": "ok",
            "links": {
                "create": {"href": url, "method": "POST"},
                "self": {"href": url, "method": "GET"},
            },
            "status_updates": [
                {
                    "change": None,
                    "description": "passed",
                    "extra_data": {},
                    "id": done.pk,
                    "links": {
                        "delete": {"href": f"{url}{done.pk}/", "method": "DELETE"},
                        "self": {"href": f"{url}{done.pk}/", "method": "GET"},
                        "update": {"href": f"{url}{done.pk}/", "method": "PUT"},
                    },
                    "review": None,
                    "service_id": "ci.example",
                    "state": "done-success",
                    "summary": "CI build",
                    "timeout": None,
                    "url": "http://ci.example/build/1",
                    "url_text": "Build #1",
                }
            ],
            "total_results": 1,
        }

    def test_list_filter_golden_037(self, rr, bot, anon_client):
        done = make_su(rr, bot, state="S", description="passed")
        make_su(rr, bot, state="P")
        make_su(rr, bot, state="S", service_id="other.ci")
        query = "?service-id=ci.example&state=done-success"
        body = assert_list(anon_client.get(list_url(rr) + query))
        assert body["links"]["self"] == {"href": f"{BASE}{list_url(rr)}{query}", "method": "GET"}
        assert body["status_updates"] == [wire(done)]
        assert body["total_results"] == 1

    def test_item_golden_038(self, rr, bot, anon_client):
        done = make_su(rr, bot, state="S", description="passed", url="http://ci/1")
        item = assert_item(anon_client.get(item_url(done)))
        assert item == wire(done)
        assert item["change"] is None and item["review"] is None
        assert "user" not in item and "timestamp" not in item
        assert set(item["links"]) == {"self", "update", "delete"}

    def test_item_with_change_and_review_links(self, rr, bot, change, review, anon_client):
        linked = make_su(
            rr,
            bot,
            state="F",
            description="failed.",
            timeout=20,
            change_description=change,
            review=review,
            extra_data={"can_retry": True},
        )
        item = assert_item(anon_client.get(item_url(linked)))
        rr_href = f"{BASE}/api/review-requests/{rr.pk}/"
        assert item == {
            "description": "failed.",
            "extra_data": {"can_retry": True},
            "id": linked.pk,
            "links": {
                "change": {
                    "href": f"{rr_href}changes/{change.pk}/",
                    "method": "GET",
                    "title": "v2.",
                },
                "delete": {"href": f"{BASE}{item_url(linked)}", "method": "DELETE"},
                "review": {
                    "href": f"{rr_href}reviews/{review.pk}/",
                    "method": "GET",
                    "title": f"Review of '{review.review_request.summary}'",
                },
                "self": {"href": f"{BASE}{item_url(linked)}", "method": "GET"},
                "update": {"href": f"{BASE}{item_url(linked)}", "method": "PUT"},
            },
            "service_id": "ci.example",
            "state": "done-failure",
            "summary": "CI build",
            "timeout": 20,
            "url": "",
            "url_text": "",
        }

    def test_item_etag(self, rr, su, anon_client):
        response = anon_client.get(item_url(su))
        assert_item(response)
        again = anon_client.get(item_url(su), HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304
        put(logged_in_client(su.user), item_url(su), {"description": "changed"})
        changed = anon_client.get(item_url(su), HTTP_IF_NONE_MATCH=response["ETag"])
        assert assert_item(changed)["description"] == "changed"

    def test_missing_item_is_100(self, rr, su, other_rr, anon_client):
        assert_error(anon_client.get(f"{list_url(rr)}{su.pk + 1000}/"), 404, 100)
        # A status update is found only under its own review request.
        assert_error(anon_client.get(f"{list_url(other_rr)}{su.pk}/"), 404, 100)
        assert_error(anon_client.get("/api/review-requests/9999/status-updates/"), 404, 100)

    def test_list_only_this_review_requests_updates(self, rr, other_rr, bot, anon_client):
        mine = make_su(rr, bot)
        make_su(other_rr, bot)
        assert ids(assert_list(anon_client.get(list_url(rr)))) == [mine.pk]


class TestFilters:
    def test_change(self, rr, bot, change, anon_client):
        on_change = make_su(rr, bot, change_description=change)
        make_su(rr, bot)
        body = assert_list(anon_client.get(f"{list_url(rr)}?change={change.pk}"))
        assert body["status_updates"] == [wire(on_change)]

    def test_service_id(self, rr, bot, anon_client):
        lint = make_su(rr, bot, service_id="reviewbot.pep8")
        make_su(rr, bot, service_id="reviewbot.pyflakes")
        body = assert_list(anon_client.get(f"{list_url(rr)}?service-id=reviewbot.pep8"))
        assert ids(body) == [lint.pk]

    @pytest.mark.parametrize(("name", "letter"), STATES.items())
    def test_state(self, rr, bot, anon_client, name, letter):
        by_letter = {code: make_su(rr, bot, state=code) for code in STATES.values()}
        body = assert_list(anon_client.get(f"{list_url(rr)}?state={name}"))
        assert ids(body) == [by_letter[letter].pk]
        assert body["status_updates"][0]["state"] == name

    @pytest.mark.parametrize("state", ["done_success", "bogus", "request-run"])
    def test_bad_state_is_105(self, rr, su, anon_client, state):
        response = anon_client.get(f"{list_url(rr)}?state={state}")
        assert_form_error(response, {"state": [choice_error(state, POST_CHOICES)]})

    def test_ordered_by_timestamp(self, rr, bot, anon_client):
        first, second, third = (make_su(rr, bot, summary=str(n)) for n in range(3))
        age(first, minutes=10)
        age(second, minutes=30)
        age(third, minutes=20)
        body = assert_list(anon_client.get(list_url(rr)))
        assert ids(body) == [second.pk, third.pk, first.pk]

    def test_counts_only(self, rr, bot, anon_client):
        make_su(rr, bot)
        make_su(rr, bot)
        make_su(rr, bot, state="S")
        response = anon_client.get(f"{list_url(rr)}?counts-only=1")
        assert assert_list(response) == {"stat": "ok", "count": 3}
        response = anon_client.get(f"{list_url(rr)}?counts-only=1&state=pending")
        assert assert_list(response) == {"stat": "ok", "count": 2}

    def test_paging(self, rr, bot, anon_client):
        made = [make_su(rr, bot, summary=str(n)) for n in range(3)]
        body = assert_list(anon_client.get(f"{list_url(rr)}?max-results=2"))
        assert ids(body) == [made[0].pk, made[1].pk]
        assert body["total_results"] == 3
        assert "next" in body["links"]


# --- timed-out, computed on read ------------------------------------------------------------


class TestTimedOut:
    def test_pending_past_timeout_reads_timed_out(self, rr, su, anon_client):
        StatusUpdate.objects.filter(pk=su.pk).update(timeout=60)
        age(su, hours=1)
        item = assert_item(anon_client.get(item_url(su)))
        assert item["state"] == "timed-out"
        assert item == wire(su, state="timed-out")
        # Computed only: the stored state is still pending.
        assert stored(su).state == "P"
        assert stored(su).effective_state == "T"

    def test_state_filter_uses_the_stored_state(self, rr, su, bot, anon_client):
        StatusUpdate.objects.filter(pk=su.pk).update(timeout=60)
        age(su, hours=1)
        really_timed_out = make_su(rr, bot, state="T")
        body = assert_list(anon_client.get(f"{list_url(rr)}?state=timed-out"))
        assert ids(body) == [really_timed_out.pk]
        body = assert_list(anon_client.get(f"{list_url(rr)}?state=pending"))
        assert ids(body) == [su.pk]
        assert body["status_updates"][0]["state"] == "timed-out"
        count = assert_list(anon_client.get(f"{list_url(rr)}?state=timed-out&counts-only=1"))
        assert count["count"] == 1

    def test_within_timeout_reads_pending(self, rr, su, anon_client):
        StatusUpdate.objects.filter(pk=su.pk).update(timeout=3600)
        age(su, minutes=5)
        assert assert_item(anon_client.get(item_url(su)))["state"] == "pending"

    def test_no_timeout_never_times_out(self, rr, su, anon_client):
        age(su, days=30)
        assert assert_item(anon_client.get(item_url(su)))["state"] == "pending"

    @pytest.mark.parametrize("letter", ["S", "F", "E", "R", "C"])
    def test_only_pending_times_out(self, rr, bot, anon_client, letter):
        finished = make_su(rr, bot, state=letter, timeout=1)
        age(finished, hours=1)
        item = assert_item(anon_client.get(item_url(finished)))
        assert item["state"] == StatusUpdate.STATES[letter]

    def test_put_restarts_the_clock(self, rr, su, owner_client):
        StatusUpdate.objects.filter(pk=su.pk).update(timeout=60)
        age(su, hours=1)
        before = stored(su).timestamp
        assert assert_item(owner_client.get(item_url(su)))["state"] == "timed-out"
        item = assert_item(put(owner_client, item_url(su), {"description": "still running"}))
        assert item["state"] == "pending"
        assert item["description"] == "still running"
        after = stored(su)
        assert after.timestamp > before
        assert after.state == "P"
        assert assert_item(owner_client.get(item_url(su)))["state"] == "pending"


# --- create ---------------------------------------------------------------------------------


class TestCreate:
    @pytest.mark.parametrize(("name", "letter"), STATES.items())
    def test_every_state(self, rr, bot_client, bot, name, letter):
        response = bot_client.post(
            list_url(rr), {"service_id": "ci", "summary": "Build", "state": name}
        )
        item = assert_item(response, 201)
        created = StatusUpdate.objects.get()
        assert item == wire(created)
        assert item["state"] == name
        assert created.state == letter
        assert created.user == bot
        assert created.review_request == rr

    def test_minimal_defaults_to_pending(self, rr, bot_client):
        response = bot_client.post(list_url(rr), {"service_id": "ci", "summary": "Build"})
        item = assert_item(response, 201)
        created = StatusUpdate.objects.get()
        assert created.state == "P"
        assert item == {
            "change": None,
            "description": "",
            "extra_data": {},
            "id": created.pk,
            "links": wire(created)["links"],
            "review": None,
            "service_id": "ci",
            "state": "pending",
            "summary": "Build",
            "timeout": None,
            "url": "",
            "url_text": "",
        }

    def test_every_field(self, rr, bot, bot_client, change, review):
        started = timezone.now()
        response = bot_client.post(
            list_url(rr),
            {
                "service_id": "myci",
                "summary": "Build",
                "state": "pending",
                "description": "queued",
                "url": "https://ci.example/build/7",
                "url_text": "Build #7",
                "timeout": "3600",
                "change_id": str(change.pk),
                "review_id": str(review.pk),
                "extra_data.can_retry": "true",
            },
        )
        item = assert_item(response, 201)
        created = StatusUpdate.objects.get()
        assert item == wire(created)
        assert item["links"]["change"]["href"].endswith(f"/changes/{change.pk}/")
        assert item["links"]["review"]["href"].endswith(f"/reviews/{review.pk}/")
        assert "change" not in item and "review" not in item
        assert (created.service_id, created.summary, created.description) == (
            "myci",
            "Build",
            "queued",
        )
        assert (created.url, created.url_text, created.timeout) == (
            "https://ci.example/build/7",
            "Build #7",
            3600,
        )
        assert created.change_description == change
        assert created.review == review
        assert created.extra_data == {"can_retry": True}
        assert created.user == bot
        assert created.timestamp >= started

    def test_multipart_is_accepted(self, rr, bot_client):
        # Client.post encodes multipart by default; urlencoded is covered by the PUT tests.
        response = bot_client.post(
            list_url(rr), {"service_id": "ci", "summary": "Build", "state": "done-success"}
        )
        assert assert_item(response, 201)["state"] == "done-success"

    def test_form_encoded_is_accepted(self, rr, bot_client):
        response = bot_client.post(
            list_url(rr),
            urlencode({"service_id": "ci", "summary": "Build", "timeout": "60"}),
            content_type=FORM,
        )
        assert assert_item(response, 201)["timeout"] == 60

    def test_any_logged_in_reader_may_create(self, rr, other, other_client):
        item = assert_item(
            other_client.post(list_url(rr), {"service_id": "ci", "summary": "Build"}), 201
        )
        assert StatusUpdate.objects.get(pk=item["id"]).user == other

    def test_anonymous_is_103(self, rr, anon_client):
        response = anon_client.post(list_url(rr), {"service_id": "ci", "summary": "Build"})
        assert_error(response, 401, 103)
        assert not StatusUpdate.objects.exists()

    def test_missing_fields_golden_049(self, rr, admin_client):
        response = admin_client.post(
            list_url(rr),
            urlencode({"description": "no service_id or summary"}),
            content_type=FORM,
        )
        assert_form_error(
            response,
            {"service_id": ["This field is required"], "summary": ["This field is required"]},
        )
        assert not StatusUpdate.objects.exists()

    @pytest.mark.parametrize("missing", ["service_id", "summary"])
    def test_each_required_field(self, rr, admin_client, missing):
        data = {"service_id": "ci", "summary": "Build"}
        del data[missing]
        assert_form_error(
            admin_client.post(list_url(rr), data), {missing: ["This field is required"]}
        )
        assert not StatusUpdate.objects.exists()

    @pytest.mark.parametrize("state", ["done_success", "done_failure", "timed_out", "bogus"])
    def test_unknown_state(self, rr, admin_client, state):
        response = admin_client.post(
            list_url(rr), {"service_id": "ci", "summary": "Build", "state": state}
        )
        assert_form_error(response, {"state": [choice_error(state, POST_CHOICES)]})
        assert not StatusUpdate.objects.exists()

    def test_request_run_is_not_a_post_state(self, rr, admin_client, run_requests):
        response = admin_client.post(
            list_url(rr), {"service_id": "ci", "summary": "Build", "state": "request-run"}
        )
        assert_form_error(response, {"state": [choice_error("request-run", POST_CHOICES)]})
        assert not StatusUpdate.objects.exists()
        assert run_requests == []

    @pytest.mark.parametrize(("field", "limit"), LIMITS.items())
    def test_over_long_field(self, rr, admin_client, field, limit):
        data = {"service_id": "ci", "summary": "Build", field: "x" * (limit + 1)}
        body = assert_error(admin_client.post(list_url(rr), data), 400, 105)
        assert list(body["fields"]) == [field]
        assert len(body["fields"][field]) == 1
        assert not StatusUpdate.objects.exists()

    @pytest.mark.parametrize(("field", "limit"), LIMITS.items())
    def test_field_at_its_limit(self, rr, admin_client, field, limit):
        data = {"service_id": "ci", "summary": "Build", field: "x" * limit}
        item = assert_item(admin_client.post(list_url(rr), data), 201)
        assert item[field] == "x" * limit
        assert getattr(StatusUpdate.objects.get(), field) == "x" * limit

    @pytest.mark.parametrize("timeout", ["soon", "1.5", "ten", "0x10"])
    def test_timeout_must_be_an_integer(self, rr, admin_client, timeout):
        data = {"service_id": "ci", "summary": "Build", "timeout": timeout}
        body = assert_error(admin_client.post(list_url(rr), data), 400, 105)
        assert list(body["fields"]) == ["timeout"]
        assert not StatusUpdate.objects.exists()

    @pytest.mark.parametrize(
        ("change_id", "message"),
        [("99999", "Invalid change description ID"), ("abc", '"abc" is not an integer')],
    )
    def test_unknown_change_id(self, rr, admin_client, change_id, message):
        data = {"service_id": "ci", "summary": "Build", "change_id": change_id}
        assert_form_error(admin_client.post(list_url(rr), data), {"change_id": [message]})
        assert not StatusUpdate.objects.exists()

    def test_change_of_another_review_request(self, rr, other_rr, owner, admin_client):
        update_and_publish(other_rr, user=owner, summary="Other v2", changedescription="o2")
        foreign = other_rr.changedescs.get(public=True)
        data = {"service_id": "ci", "summary": "Build", "change_id": str(foreign.pk)}
        assert_form_error(
            admin_client.post(list_url(rr), data),
            {"change_id": ["Invalid change description ID"]},
        )
        assert not StatusUpdate.objects.exists()

    @pytest.mark.parametrize(
        ("review_id", "message"),
        [("99999", "Invalid review ID"), ("abc", '"abc" is not an integer')],
    )
    def test_unknown_review_id(self, rr, admin_client, review_id, message):
        data = {"service_id": "ci", "summary": "Build", "review_id": review_id}
        assert_form_error(admin_client.post(list_url(rr), data), {"review_id": [message]})
        assert not StatusUpdate.objects.exists()

    def test_review_of_another_review_request(self, rr, other_rr, other, admin_client):
        foreign = review_get_or_create_draft(review_request=other_rr, user=other)[0]
        data = {"service_id": "ci", "summary": "Build", "review_id": str(foreign.pk)}
        assert_form_error(
            admin_client.post(list_url(rr), data), {"review_id": ["Invalid review ID"]}
        )
        assert not StatusUpdate.objects.exists()

    def test_every_form_error_at_once_before_the_lookups(self, rr, admin_client):
        # As Review Board 8.1: the change and review are looked up only once every field is
        # well-formed.
        data = {
            "description": "x" * 256,
            "state": "done_success",
            "timeout": "soon",
            "change_id": "99999",
            "review_id": "99999",
        }
        body = assert_error(admin_client.post(list_url(rr), data), 400, 105)
        assert set(body["fields"]) == {"service_id", "summary", "description", "state", "timeout"}
        assert not StatusUpdate.objects.exists()

    def test_missing_review_request_is_100(self, admin_client):
        response = admin_client.post(
            "/api/review-requests/9999/status-updates/", {"service_id": "ci", "summary": "B"}
        )
        assert_error(response, 404, 100)


# --- update ---------------------------------------------------------------------------------


class TestUpdate:
    @pytest.mark.parametrize(("name", "letter"), STATES.items())
    def test_every_state(self, rr, su, bot_client, name, letter):
        item = assert_item(put(bot_client, item_url(su), {"state": name}))
        assert item["state"] == name
        assert stored(su).state == letter
        assert item == wire(su)

    @pytest.mark.parametrize(
        ("start", "steps"),
        [
            ("P", ["done-success"]),
            ("P", ["done-failure"]),
            ("P", ["error", "pending", "done-success"]),
            ("R", ["pending", "done-failure"]),
            ("P", ["timed-out", "pending", "cancelled"]),
        ],
    )
    def test_transitions(self, rr, bot, bot_client, start, steps):
        update = make_su(rr, bot, state=start)
        for name in steps:
            assert assert_item(put(bot_client, item_url(update), {"state": name}))["state"] == (
                name
            )
            assert stored(update).state == STATES[name]

    def test_every_field(self, rr, su, bot_client, change, review):
        response = put(
            bot_client,
            item_url(su),
            {
                "service_id": "ci2",
                "summary": "Build 2",
                "description": "failed.",
                "url": "https://ci/2",
                "url_text": "Build #2",
                "timeout": "120",
                "state": "done-failure",
                "change_id": str(change.pk),
                "review_id": str(review.pk),
            },
        )
        item = assert_item(response)
        after = stored(su)
        assert item == wire(after)
        assert (after.service_id, after.summary, after.description, after.url) == (
            "ci2",
            "Build 2",
            "failed.",
            "https://ci/2",
        )
        assert (after.url_text, after.timeout, after.state) == ("Build #2", 120, "F")
        assert after.change_description == change
        assert after.review == review

    def test_partial_put_keeps_other_fields(self, rr, bot, bot_client, change, review):
        update = make_su(
            rr,
            bot,
            description="running...",
            url="https://ci/1",
            url_text="Build #1",
            timeout=60,
            change_description=change,
            review=review,
            extra_data={"keep": 1},
        )
        before = stored(update)
        item = assert_item(put(bot_client, item_url(update), {"url_text": "Build one"}))
        after = stored(update)
        assert item == wire(after)
        assert after.url_text == "Build one"
        for name in (
            "service_id",
            "summary",
            "description",
            "url",
            "timeout",
            "state",
            "change_description_id",
            "review_id",
            "extra_data",
            "user_id",
        ):
            assert getattr(after, name) == getattr(before, name), name

    def test_bad_state_golden_050(self, rr, su, admin_client):
        before = snapshot()
        response = put(admin_client, item_url(su), {"state": "bogus"})
        assert_form_error(response, {"state": [choice_error("bogus", PUT_CHOICES)]})
        assert snapshot() == before

    @pytest.mark.parametrize("state", ["done_success", "done_failure", "not_yet_run", "Pending"])
    def test_underscore_state(self, rr, su, admin_client, state):
        before = snapshot()
        response = put(admin_client, item_url(su), {"state": state})
        assert_form_error(response, {"state": [choice_error(state, PUT_CHOICES)]})
        assert snapshot() == before

    @pytest.mark.parametrize(("field", "limit"), LIMITS.items())
    def test_over_long_field(self, rr, su, bot_client, field, limit):
        before = snapshot()
        body = assert_error(
            put(bot_client, item_url(su), {"state": "error", field: "y" * (limit + 1)}),
            400,
            105,
        )
        assert list(body["fields"]) == [field]
        assert snapshot() == before

    @pytest.mark.parametrize("timeout", ["soon", "1.5"])
    def test_timeout_must_be_an_integer(self, rr, su, bot_client, timeout):
        before = snapshot()
        body = assert_error(put(bot_client, item_url(su), {"timeout": timeout}), 400, 105)
        assert list(body["fields"]) == ["timeout"]
        assert snapshot() == before

    def test_change_and_review_of_another_review_request(
        self, rr, su, other_rr, owner, other, bot_client
    ):
        update_and_publish(other_rr, user=owner, summary="Other v2", changedescription="o2")
        foreign_change = other_rr.changedescs.get(public=True)
        foreign_review = review_get_or_create_draft(review_request=other_rr, user=other)[0]
        before = snapshot()
        response = put(
            bot_client,
            item_url(su),
            {
                "description": "should not be stored",
                "change_id": str(foreign_change.pk),
                "review_id": str(foreign_review.pk),
            },
        )
        # The change is named first, and alone (Review Board 8.1).
        assert_form_error(response, {"change_id": ["Invalid change description ID"]})
        assert snapshot() == before

    def test_unknown_change_and_review(self, rr, su, bot_client):
        before = snapshot()
        response = put(bot_client, item_url(su), {"change_id": "99999", "review_id": "99999"})
        assert_form_error(response, {"change_id": ["Invalid change description ID"]})
        response = put(bot_client, item_url(su), {"review_id": "99999"})
        assert_form_error(response, {"review_id": ["Invalid review ID"]})
        assert snapshot() == before

    def test_ci_script_links_its_review(self, rr, bot, bot_client):
        """The curl-style recipe: POST pending with a timeout, then PUT done-failure with
        the review it created."""
        created = assert_item(
            bot_client.post(
                list_url(rr),
                {"service_id": "myci", "summary": "Build", "state": "pending", "timeout": "3600"},
            ),
            201,
        )
        review = review_get_or_create_draft(review_request=rr, user=bot)[0]
        url = f"{list_url(rr)}{created['id']}/"
        item = assert_item(
            put(
                bot_client,
                url,
                {"state": "done-failure", "description": "failed.", "review_id": review.pk},
            )
        )
        assert item["state"] == "done-failure"
        assert item["links"]["review"]["href"] == (
            f"{BASE}/api/review-requests/{rr.pk}/reviews/{review.pk}/"
        )
        assert stored(StatusUpdate(pk=created["id"])).review == review

    def test_jenkins_basic_auth_urlencoded_put(self, rr, su, bot):
        """The Jenkins plugin: a urlencoded PUT to the hard-coded item URL, expecting 200."""
        client = Client()
        url = f"/api/review-requests/{rr.pk}/status-updates/{su.pk}/"
        body = (
            "state=pending&description=build%20running&url=http://jenkins/1&url_text=See%20build"
        )
        response = client.put(url, body, content_type=FORM, HTTP_AUTHORIZATION=basic_auth("bot"))
        item = assert_item(response)
        assert (item["state"], item["description"], item["url_text"]) == (
            "pending",
            "build running",
            "See build",
        )
        response = client.put(
            url, "state=done-success", content_type=FORM, HTTP_AUTHORIZATION=basic_auth("bot")
        )
        assert assert_item(response)["state"] == "done-success"
        assert stored(su).state == "S"

    def test_writes_do_not_touch_the_review_request(self, rr, su, bot_client):
        before = type(rr).objects.get(pk=rr.pk).last_updated
        assert_item(put(bot_client, item_url(su), {"state": "done-success"}))
        assert_item(bot_client.post(list_url(rr), {"service_id": "ci", "summary": "B"}), 201)
        assert type(rr).objects.get(pk=rr.pk).last_updated == before

    def test_method_override(self, rr, su, bot_client):
        response = bot_client.post(item_url(su), {"_method": "PUT", "state": "error"})
        assert assert_item(response)["state"] == "error"
        assert stored(su).state == "E"


# --- request-run ----------------------------------------------------------------------------


class TestRequestRun:
    @pytest.mark.parametrize(
        ("letter", "extra_data", "aged"),
        [
            ("R", {}, False),
            ("R", {"can_retry": False}, False),
            ("E", {"can_retry": True}, False),
            ("T", {"can_retry": True}, False),
            # Pending past its timeout reads timed-out, and so may be retried.
            ("P", {"can_retry": True}, True),
        ],
    )
    def test_allowed(self, rr, bot, bot_client, run_requests, letter, extra_data, aged):
        update = make_su(rr, bot, state=letter, extra_data=extra_data, timeout=10)
        if aged:
            age(update, hours=1)
            assert assert_item(bot_client.get(item_url(update)))["state"] == "timed-out"
        item = assert_item(put(bot_client, item_url(update), {"state": "request-run"}))
        assert len(run_requests) == 1
        assert run_requests[0]["sender"] is StatusUpdate
        assert run_requests[0]["status_update"].pk == update.pk
        assert run_requests[0]["user"] == bot
        # request-run is not stored: the state is unchanged.
        assert stored(update).state == letter
        # The PUT saved the update, so its timeout counts again from now (as upstream).
        assert item["state"] == StatusUpdate.STATES[letter]
        assert item == wire(update)

    @pytest.mark.parametrize(
        ("letter", "extra_data"),
        [
            ("P", {"can_retry": True}),
            ("S", {"can_retry": True}),
            ("F", {"can_retry": True}),
            ("C", {"can_retry": True}),
            ("E", {}),
            ("E", {"can_retry": False}),
            ("T", {}),
        ],
    )
    def test_refused(self, rr, bot, bot_client, run_requests, letter, extra_data):
        update = make_su(rr, bot, state=letter, extra_data=extra_data)
        before = snapshot()
        response = put(bot_client, item_url(update), {"state": "request-run"})
        assert_form_error(response, {"state": ["This status update cannot be run"]})
        assert run_requests == []
        assert snapshot() == before

    def test_refused_with_other_fields_stores_nothing(self, rr, bot, bot_client, run_requests):
        update = make_su(rr, bot, state="S")
        before = snapshot()
        response = put(
            bot_client, item_url(update), {"state": "request-run", "description": "again"}
        )
        assert_form_error(response, {"state": ["This status update cannot be run"]})
        assert snapshot() == before
        assert run_requests == []

    def test_other_user_cannot_request_a_run(self, rr, bot, other_client, run_requests):
        update = make_su(rr, bot, state="R")
        assert_error(put(other_client, item_url(update), {"state": "request-run"}), 403, 101)
        assert run_requests == []


# --- permissions ----------------------------------------------------------------------------


@pytest.fixture(params=["unpublished", "invite-only group"])
def private_rr(request, owner):
    if request.param == "unpublished":
        return make_review_request(submitter=owner)
    secret = Group.objects.create(name="secret", display_name="Secret", invite_only=True)
    return make_review_request(submitter=owner, publish=True, groups=[secret])


@pytest.fixture(params=["reviews", "status_updates"])
def perm_holder(request, db):
    """A holder of ``change_statusupdate``: Review Board's ``reviews.change_statusupdate``, or
    the status_updates app's own."""
    user = make_user("ci-admin")
    user.user_permissions.add(
        Permission.objects.get(
            codename="change_statusupdate", content_type__app_label=request.param
        )
    )
    return get_user_model().objects.get(pk=user.pk)


class TestPermissions:
    def test_private_review_request_hides_its_updates(
        self, private_rr, owner, other_client, anon_client, owner_client, admin_client
    ):
        update = make_su(private_rr, owner)
        for url in (list_url(private_rr), item_url(update)):
            assert_error(anon_client.get(url), 401, 103)
            assert_error(other_client.get(url), 403, 101)
            assert_ok(owner_client.get(url))
            assert_ok(admin_client.get(url))

    def test_private_review_request_refuses_writes_by_non_readers(
        self, private_rr, owner, other_client
    ):
        update = make_su(private_rr, owner)
        before = snapshot()
        data = {"service_id": "ci", "summary": "Build"}
        assert_error(other_client.post(list_url(private_rr), data), 403, 101)
        assert_error(put(other_client, item_url(update), {"state": "error"}), 403, 101)
        assert_error(other_client.delete(item_url(update)), 403, 101)
        assert snapshot() == before

    def test_readers_read(self, rr, su, anon_client, other_client):
        assert assert_item(anon_client.get(item_url(su))) == wire(su)
        assert assert_item(other_client.get(item_url(su))) == wire(su)
        assert ids(assert_list(other_client.get(list_url(rr)))) == [su.pk]

    @pytest.mark.parametrize("who", ["creator", "submitter", "perm_holder", "superuser"])
    def test_who_may_change(self, rr, su, bot, owner, admin, perm_holder, who):
        user = {"creator": bot, "submitter": owner, "perm_holder": perm_holder}.get(who, admin)
        client = logged_in_client(user)
        item = assert_item(put(client, item_url(su), {"state": "done-success"}))
        assert item["state"] == "done-success"
        after = stored(su)
        assert after.state == "S"
        assert after.user == bot  # the creator stays the creator

    @pytest.mark.parametrize("who", ["creator", "submitter", "perm_holder", "superuser"])
    def test_who_may_delete(self, rr, su, bot, owner, admin, perm_holder, who):
        user = {"creator": bot, "submitter": owner, "perm_holder": perm_holder}.get(who, admin)
        client = logged_in_client(user)
        response = client.delete(item_url(su))
        assert response.status_code == 204, response.content
        assert response.content == b""
        assert not StatusUpdate.objects.filter(pk=su.pk).exists()
        assert_error(client.get(item_url(su)), 404, 100)

    def test_others_may_not_change_or_delete(self, rr, su, other, other_client):
        before = snapshot()
        assert_error(put(other_client, item_url(su), {"state": "done-success"}), 403, 101)
        assert_error(put(other_client, item_url(su), {"extra_data.x": "1"}), 403, 101)
        assert_error(other_client.delete(item_url(su)), 403, 101)
        assert_error(
            other_client.post(item_url(su), {"_method": "DELETE"}),
            403,
            101,
        )
        assert snapshot() == before

    def test_other_permissions_do_not_grant_change(self, rr, su, db):
        user = make_user("viewer")
        user.user_permissions.add(
            Permission.objects.get(
                codename="view_statusupdate", content_type__app_label="status_updates"
            )
        )
        client = logged_in_client(get_user_model().objects.get(pk=user.pk))
        before = snapshot()
        assert_error(put(client, item_url(su), {"state": "error"}), 403, 101)
        assert_error(client.delete(item_url(su)), 403, 101)
        assert snapshot() == before

    def test_anonymous_writes_are_103(self, rr, su, anon_client):
        before = snapshot()
        assert_error(put(anon_client, item_url(su), {"state": "error"}), 401, 103)
        assert_error(anon_client.delete(item_url(su)), 401, 103)
        assert snapshot() == before

    def test_inactive_creator_is_not_logged_in(self, rr, su, bot, bot_client):
        bot.is_active = False
        bot.save()
        before = snapshot()
        response = put(bot_client, item_url(su), {"state": "error"})
        assert response.status_code in (401, 403)
        assert snapshot() == before

    def test_anonymous_read_can_be_switched_off(self, rr, su, anon_client, settings):
        settings.RBAPI_ANONYMOUS_READ = False
        assert_error(anon_client.get(list_url(rr)), 401, 103)
        assert_error(anon_client.get(item_url(su)), 401, 103)


# --- the feature switch ---------------------------------------------------------------------


class TestFeatureSwitch:
    @pytest.mark.parametrize("who", ["anon", "bot", "owner", "admin"])
    def test_off_makes_every_method_101(self, rr, su, bot, owner, admin, settings, who):
        settings.RBAPI_STATUS_UPDATES = False
        user = {"bot": bot, "owner": owner, "admin": admin}.get(who)
        client = logged_in_client(user) if user else Client()
        before = snapshot()
        responses = {
            "GET list": client.get(list_url(rr)),
            "GET item": client.get(item_url(su)),
            "GET counts": client.get(f"{list_url(rr)}?counts-only=1"),
            "POST": client.post(list_url(rr), {"service_id": "ci", "summary": "Build"}),
            "PUT": put(client, item_url(su), {"state": "done-success"}),
            "DELETE": client.delete(item_url(su)),
        }
        problems = {
            name: (response.status_code, rsp(response).get("err", {}).get("code"))
            for name, response in responses.items()
            if (response.status_code, rsp(response).get("err", {}).get("code")) != (403, 101)
        }
        assert problems == {}, f"not 403/101 with the feature off ({who}): {problems}"
        for response in responses.values():
            assert_error(response, 403, 101)
        assert snapshot() == before

    def test_on_by_default(self, rr, su, anon_client):
        assert_ok(anon_client.get(list_url(rr)))


# --- extra_data -----------------------------------------------------------------------------


class TestExtraData:
    def test_typed_keys_on_create(self, rr, bot_client):
        response = bot_client.post(
            list_url(rr),
            {
                "service_id": "ci",
                "summary": "Build",
                "extra_data.can_retry": "true",
                "extra_data.flaky": "False",
                "extra_data.attempt": "3",
                "extra_data.ratio": "0.5",
                "extra_data.branch": "main",
                "extra_data.__secret": "hidden",
            },
        )
        item = assert_item(response, 201)
        expected = {
            "can_retry": True,
            "flaky": False,
            "attempt": 3,
            "ratio": 0.5,
            "branch": "main",
        }
        assert item["extra_data"] == expected
        assert StatusUpdate.objects.get().extra_data == expected

    def test_keys_on_update_merge_and_delete(self, rr, bot, bot_client):
        update = make_su(rr, bot, extra_data={"keep": "me", "drop": 1, "__token": "s3cret"})
        item = assert_item(
            put(bot_client, item_url(update), {"extra_data.drop": "", "extra_data.new": "2"})
        )
        assert item["extra_data"] == {"keep": "me", "new": 2}
        assert stored(update).extra_data == {"keep": "me", "new": 2, "__token": "s3cret"}

    def test_private_keys_hidden_and_unwritable(self, rr, bot, bot_client, anon_client):
        update = make_su(rr, bot, extra_data={"__token": "s3cret", "shown": 1})
        assert assert_item(anon_client.get(item_url(update)))["extra_data"] == {"shown": 1}
        assert assert_list(anon_client.get(list_url(rr)))["status_updates"][0]["extra_data"] == {
            "shown": 1
        }
        assert_item(put(bot_client, item_url(update), {"extra_data.__token": "overwritten"}))
        assert stored(update).extra_data["__token"] == "s3cret"

    def test_json_merge_patch(self, rr, bot, bot_client):
        update = make_su(rr, bot, extra_data={"a": {"b": 1, "c": 2}, "gone": True, "__p": 0})
        patch = {"a": {"c": None, "d": [1, 2]}, "gone": None, "new": "x", "__p": 9}
        item = assert_item(
            put(bot_client, item_url(update), {"extra_data:json": json.dumps(patch)})
        )
        assert item["extra_data"] == {"a": {"b": 1, "d": [1, 2]}, "new": "x"}
        assert stored(update).extra_data == {"a": {"b": 1, "d": [1, 2]}, "new": "x", "__p": 0}

    def test_json_merge_patch_on_create(self, rr, bot_client):
        response = bot_client.post(
            list_url(rr),
            {
                "service_id": "ci",
                "summary": "Build",
                "extra_data:json": json.dumps({"tool": {"name": "pep8"}}),
            },
        )
        assert assert_item(response, 201)["extra_data"] == {"tool": {"name": "pep8"}}
        assert StatusUpdate.objects.get().extra_data == {"tool": {"name": "pep8"}}

    def test_json_patch_of_new_keys(self, rr, bot, bot_client):
        update = make_su(rr, bot, extra_data={"keep": 1})
        patch = [{"op": "add", "path": "/tool", "value": {"name": "pep8"}}]
        item = assert_item(
            put(bot_client, item_url(update), {"extra_data:json-patch": json.dumps(patch)})
        )
        assert item["extra_data"] == {"keep": 1, "tool": {"name": "pep8"}}
        assert stored(update).extra_data == {"keep": 1, "tool": {"name": "pep8"}}

    @pytest.mark.parametrize(
        ("patch", "expected"),
        [
            ([{"op": "add", "path": "/list/-", "value": 2}], {"list": [1, 2], "n": 1}),
            ([{"op": "remove", "path": "/n"}], {"list": [1]}),
            ([{"op": "replace", "path": "/n", "value": 5}], {"list": [1], "n": 5}),
            (
                [
                    {"op": "test", "path": "/n", "value": 1},
                    {"op": "add", "path": "/t", "value": 0},
                ],
                {"list": [1], "n": 1, "t": 0},
            ),
        ],
        ids=["append", "remove", "replace", "test"],
    )
    def test_json_patch_of_existing_keys(self, rr, bot, bot_client, patch, expected):
        """An RFC 6902 patch applies to the stored extra_data, so it may name existing keys."""
        update = make_su(rr, bot, extra_data={"list": [1], "n": 1})
        item = assert_item(
            put(bot_client, item_url(update), {"extra_data:json-patch": json.dumps(patch)})
        )
        assert item["extra_data"] == expected
        assert stored(update).extra_data == expected

    def test_json_patch_of_a_private_key_is_105(self, rr, bot, bot_client):
        update = make_su(rr, bot, extra_data={"__p": 1})
        before = snapshot()
        patch = [{"op": "add", "path": "/__p", "value": 2}]
        body = assert_error(
            put(bot_client, item_url(update), {"extra_data:json-patch": json.dumps(patch)}),
            400,
            105,
        )
        assert list(body["fields"]) == ["extra_data"]
        assert snapshot() == before

    def test_bad_json_is_105_and_stores_nothing(self, rr, su, bot_client):
        before = snapshot()
        body = assert_error(
            put(bot_client, item_url(su), {"extra_data:json": "{nope", "description": "x"}),
            400,
            105,
        )
        assert list(body["fields"]) == ["extra_data"]
        assert snapshot() == before
        body = assert_error(
            bot_client.post(
                list_url(rr),
                {"service_id": "ci", "summary": "Build", "extra_data:json": "[1, 2]"},
            ),
            400,
            105,
        )
        assert list(body["fields"]) == ["extra_data"]
        assert snapshot() == before


# --- links ----------------------------------------------------------------------------------


class TestLinks:
    def test_review_request_links_to_its_status_updates(self, rr, anon_client):
        body = assert_ok(anon_client.get(f"/api/review-requests/{rr.pk}/"))
        assert body["review_request"]["links"]["status_updates"] == {
            "href": f"{BASE}{list_url(rr)}",
            "method": "GET",
        }

    def test_root_uri_templates(self, anon_client):
        templates = assert_ok(anon_client.get("/api/"))["uri_templates"]
        item = (
            f"{BASE}/api/review-requests/{{review_request_id}}/status-updates/"
            "{status_update_id}/"
        )
        assert templates["status_update"] == item
        assert templates["status_updates"] == (
            f"{BASE}/api/review-requests/{{review_request_id}}/status-updates/"
        )
        assert templates["review_request_status_update"] == item

    def test_links_follow_to_the_change_and_review(self, rr, bot, change, review, other_client):
        linked = make_su(rr, bot, change_description=change, review=review)
        links = assert_item(other_client.get(item_url(linked)))["links"]
        change_body = assert_ok(other_client.get(links["change"]["href"]))
        assert change_body["change"]["id"] == change.pk
        # The review is Grumpy's draft, which Grumpy may read.
        review_body = assert_ok(other_client.get(links["review"]["href"]))
        assert review_body["review"]["id"] == review.pk

    def test_list_create_link_and_item_hrefs(self, rr, su, anon_client):
        body = assert_list(anon_client.get(list_url(rr)))
        assert body["links"]["create"] == {"href": f"{BASE}{list_url(rr)}", "method": "POST"}
        assert body["status_updates"][0]["links"]["self"]["href"] == f"{BASE}{item_url(su)}"


# --- query counts ---------------------------------------------------------------------------


class TestQueryCount:
    @pytest.mark.parametrize("who", ["anon", "owner"])
    def test_list_of_100_costs_what_a_list_of_1_costs(
        self, rr, bot, change, review, owner, django_assert_max_num_queries, who
    ):
        client = logged_in_client(owner) if who == "owner" else Client()
        make_su(rr, bot, change_description=change, review=review, extra_data={"n": 0})
        url = f"{list_url(rr)}?max-results=200"
        assert len(assert_list(client.get(url))["status_updates"]) == 1  # warm up
        with CaptureQueriesContext(connection) as one:
            assert len(assert_list(client.get(url))["status_updates"]) == 1
        for n in range(1, 100):
            make_su(
                rr,
                bot,
                summary=f"Build {n}",
                change_description=change if n % 2 else None,
                review=review if n % 3 else None,
                state="SFEP"[n % 4],
                timeout=5 if n % 5 == 0 else None,
            )
        with django_assert_max_num_queries(len(one)):
            body = assert_list(client.get(url))
        assert len(body["status_updates"]) == 100
        assert body["total_results"] == 100


# --- concurrency ----------------------------------------------------------------------------


def skip_on_sqlite() -> None:
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite's test database is in-memory with a shared cache: concurrent writers from "
            "threads hit 'database table is locked' at once (the busy timeout does not apply "
            "in shared-cache mode), which rbapi answers 503/901, and select_for_update is a "
            "no-op there; run with DATABASE_URL=postgres://... to exercise this"
        )


def run_concurrently(jobs) -> list:
    """Run every job in its own thread, all released at once; return their results."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    failures: list[BaseException] = []

    def worker(index: int, job) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a PUT never finished"
    assert failures == []
    return results


def status_and_body(response) -> tuple[int, bytes]:
    return response.status_code, response.content


SCALARS = [
    ("description", lambda n: f"description from {n}"),
    ("url", lambda n: f"https://ci.example/{n}"),
    ("url_text", lambda n: f"Build {n}"),
    ("summary", lambda n: f"Summary {n}"),
    ("service_id", lambda n: f"ci.{n}"),
    ("timeout", lambda n: str(100 + n)),
]


@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    THREADS = 8
    ROUNDS = 3

    def test_puts_to_one_update_lose_no_field(self, rr, bot):
        skip_on_sqlite()
        update = make_su(rr, bot, extra_data={"base": True})
        clients = [logged_in_client(bot) for _ in range(self.THREADS)]
        url = item_url(update)
        written_extra: dict = {"base": True}
        for round_ in range(self.ROUNDS):
            payloads = []
            for i in range(self.THREADS):
                data = {f"extra_data.k_{round_}_{i}": str(i)}
                if i < len(SCALARS):
                    name, value = SCALARS[i]
                    data[name] = value(round_ * 100 + i)
                payloads.append(data)
                written_extra[f"k_{round_}_{i}"] = i

            results = run_concurrently(
                [
                    lambda c=c, d=d: status_and_body(put(c, url, d))
                    for c, d in zip(clients, payloads, strict=True)
                ]
            )
            assert [status for status, _ in results] == [200] * self.THREADS, results
            after = stored(update)
            assert after.extra_data == written_extra, f"round {round_}: lost extra_data keys"
            for i, (name, value) in enumerate(SCALARS):
                expected = value(round_ * 100 + i)
                got = getattr(after, name)
                assert str(got) == expected, f"round {round_}: lost {name}"
        item = assert_item(logged_in_client(bot).get(url))
        assert item["extra_data"] == written_extra

    def test_puts_to_different_updates_all_succeed(self, rr, bot):
        skip_on_sqlite()
        updates = [make_su(rr, bot, summary=f"Tool {i}") for i in range(self.THREADS)]
        clients = [logged_in_client(bot) for _ in updates]

        def job(client, update, i):
            response = put(
                client,
                item_url(update),
                {
                    "state": "done-success" if i % 2 else "done-failure",
                    "description": f"done {i}",
                    f"extra_data.run_{i}": "1",
                },
            )
            return response.status_code, response.content

        started = time.monotonic()
        results = run_concurrently(
            [
                lambda c=c, u=u, i=i: job(c, u, i)
                for i, (c, u) in enumerate(zip(clients, updates, strict=True))
            ]
        )
        elapsed = time.monotonic() - started
        assert [status for status, _ in results] == [200] * self.THREADS, results
        for i, update in enumerate(updates):
            after = stored(update)
            assert after.state == ("S" if i % 2 else "F")
            assert after.description == f"done {i}"
            assert after.extra_data == {f"run_{i}": 1}
        assert elapsed < 30, f"PUTs to different status updates took {elapsed:.1f}s"

    def test_puts_and_reads_interleave(self, rr, bot):
        """Readers never see an error while writers PUT the same update."""
        skip_on_sqlite()
        update = make_su(rr, bot)
        url = item_url(update)
        writers = [logged_in_client(bot) for _ in range(4)]
        readers = [Client() for _ in range(4)]
        jobs = [
            (lambda c=c, i=i: put(c, url, {f"extra_data.w{i}": "1"}).status_code)
            for i, c in enumerate(writers)
        ] + [(lambda c=c: c.get(url).status_code) for c in readers]
        assert run_concurrently(jobs) == [200] * 8
        assert stored(update).extra_data == {f"w{i}": 1 for i in range(4)}


class TestDraftReviewsStayPrivate:
    """A status update may point at its bot's draft review; only that review's author (and
    superusers) see the link or can expand it."""

    def test_link_hidden_from_others(self, rr, bot, draft_review, anon_client, other_client):
        linked = make_su(rr, bot, review=draft_review)
        assert assert_item(anon_client.get(item_url(linked)))["review"] is None
        body = assert_item(anon_client.get(item_url(linked) + "?expand=review"))
        assert body["review"] is None
        author = assert_item(other_client.get(item_url(linked) + "?expand=review"))
        assert author["review"]["id"] == draft_review.pk


# --- one service per write, locks in the documented order -----------------------------------


def for_update_tables(queries: list[dict]) -> list[str]:
    """The tables of the ``SELECT ... FOR UPDATE`` statements, in the order they ran."""
    tables = []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" in sql:
            table = sql.split(" FROM ", 1)[1].split()[0].strip('"')
            tables.append(table)
    return tables


class TestWriteServices:
    def test_run_is_decided_on_the_locked_row(self, rr, bot, run_requests):
        """A view's copy says not-yet-run, but a PUT stored done-success meanwhile: the
        service re-reads under its lock and refuses the run, storing nothing."""
        update = make_su(rr, bot, state="R")
        stale = stored(update)
        StatusUpdate.objects.filter(pk=update.pk).update(state="S")
        before = snapshot()
        with pytest.raises(InvalidFieldsError) as info:
            status_update_update(
                status_update=stale,
                user=bot,
                values={"description": "again"},
                request_run=True,
            )
        assert info.value.fields == {"state": ["This status update cannot be run"]}
        assert snapshot() == before
        assert run_requests == []

    def test_update_applies_extra_data_to_the_locked_row(self, rr, bot):
        update = make_su(rr, bot, extra_data={"kept": 1})
        stale = stored(update)
        StatusUpdate.objects.filter(pk=update.pk).update(extra_data={"kept": 1, "other": 2})
        result = status_update_update(
            status_update=stale, user=bot, values={}, extra_data_fields={"extra_data.new": "3"}
        )
        assert result.extra_data == {"kept": 1, "other": 2, "new": 3}
        assert stored(update).extra_data == {"kept": 1, "other": 2, "new": 3}

    def test_services_return_the_stored_object(self, rr, bot):
        created = status_update_create(
            review_request=rr,
            user=bot,
            values={"service_id": "ci", "summary": "Build", "state": "R"},
            extra_data_fields={"extra_data:json": '{"a": {"b": 1}}'},
        )
        assert created.pk and stored(created).extra_data == {"a": {"b": 1}}
        updated = status_update_update(status_update=created, user=bot, values={"state": "S"})
        assert updated.state == stored(created).state == "S"
        status_update_delete(status_update=updated)
        assert not StatusUpdate.objects.filter(pk=created.pk).exists()

    def test_lock_order_review_request_then_status_update(self, rr, bot):
        """Every write locks the review request row, then the status update row."""
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has no SELECT ... FOR UPDATE; run with DATABASE_URL=postgres")
        update = make_su(rr, bot, state="R")
        rr_table = type(rr)._meta.db_table
        su_table = StatusUpdate._meta.db_table
        with CaptureQueriesContext(connection) as create_queries:
            status_update_create(review_request=rr, user=bot, values={"service_id": "a"})
        with CaptureQueriesContext(connection) as update_queries:
            status_update_update(status_update=update, user=bot, values={}, request_run=True)
        with CaptureQueriesContext(connection) as delete_queries:
            status_update_delete(status_update=update)
        assert for_update_tables(create_queries.captured_queries) == [rr_table]
        assert for_update_tables(update_queries.captured_queries) == [rr_table, su_table]
        assert for_update_tables(delete_queries.captured_queries) == [rr_table, su_table]

    def test_delete_through_the_api_uses_the_service(self, rr, su, bot_client):
        response = bot_client.delete(item_url(su))
        assert response.status_code == 204
        assert not StatusUpdate.objects.filter(pk=su.pk).exists()


@pytest.mark.django_db(transaction=True)
class TestRequestRunRace:
    ROUNDS = 10

    def test_request_run_racing_a_put_is_decided_once(self, rr, bot):
        """``state=request-run`` on a not-yet-run update, racing a PUT that finishes it: the
        run is either granted before the PUT (signal sent while the stored state was
        not-yet-run) or refused after it (105, no signal); never granted on a stale read."""
        skip_on_sqlite()
        seen: list[str] = []

        def receiver(sender, status_update, **kwargs):
            # The state the service decided on, read back from the database.
            seen.append(StatusUpdate.objects.get(pk=status_update.pk).state)

        status_update_request_run.connect(receiver, weak=False)
        try:
            outcomes: list[int] = []
            for _ in range(self.ROUNDS):
                seen.clear()
                update = make_su(rr, bot, state="R")
                url = item_url(update)
                runner, finisher = logged_in_client(bot), logged_in_client(bot)
                run, finish = run_concurrently(
                    [
                        lambda c=runner, u=url: put(c, u, {"state": "request-run"}).status_code,
                        lambda c=finisher, u=url: put(c, u, {"state": "done-success"}).status_code,
                    ]
                )
                assert finish == 200
                assert run in (200, 400)
                assert seen == (["R"] if run == 200 else [])
                assert stored(update).state == "S"
                outcomes.append(run)
        finally:
            status_update_request_run.disconnect(receiver)
        print(f"request-run vs PUT: {outcomes.count(200)} granted, {outcomes.count(400)} refused")
