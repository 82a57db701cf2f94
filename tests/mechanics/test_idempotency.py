"""rbapi.idempotency: Idempotency-Key on POST of review requests, reviews and status updates.

A repeated key from the same user within 24 hours gets the first answer again (status, body
bytes, Location, mimetype) and creates nothing; a reuse with another URL or body is 422/911;
keys are per user; only 2xx/3xx answers are remembered; bad keys are 105.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from rbapi.models import IdempotencyKey
from reviews.models import GeneralComment, Review, ReviewRequest
from status_updates.models import StatusUpdate

from ..conftest import assert_error, assert_ok, logged_in_client, rsp
from ..factories import make_review_request

pytestmark = pytest.mark.django_db
RR_LIST = "/api/review-requests/"


def keyed(client: Client, url: str, data: dict | None = None, key: str = "k-1", **extra):
    return client.post(url, data or {}, HTTP_IDEMPOTENCY_KEY=key, **extra)


def assert_same_answer(first, second) -> None:
    assert second.status_code == first.status_code
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second.get("Location") == first.get("Location")
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


@pytest.fixture
def rr(owner, other):
    return make_review_request(submitter=owner, publish=True, people=[other])


@pytest.fixture
def bot(db):
    from ..conftest import make_user

    return make_user("ci-bot", superuser=True)


@pytest.fixture
def bot_client(bot) -> Client:
    return logged_in_client(bot)


# --- replays ----------------------------------------------------------------------------------


def test_review_request_post_is_replayed(owner_client):
    first = keyed(owner_client, RR_LIST)
    assert_ok(first, 201, "review-request")
    second = keyed(owner_client, RR_LIST)
    assert_same_answer(first, second)
    assert ReviewRequest.objects.count() == 1
    # Rate-limit and Vary headers are those of the new answer, as on any response.
    assert "Accept" in second["Vary"]


def test_xml_answer_is_replayed_as_stored(owner_client):
    first = keyed(owner_client, RR_LIST, HTTP_ACCEPT="application/xml")
    assert first.status_code == 201
    second = keyed(owner_client, RR_LIST, HTTP_ACCEPT="application/xml")
    assert_same_answer(first, second)


def test_review_post_is_replayed(rr, other_client):
    url = f"/api/review-requests/{rr.pk}/reviews/"
    first = keyed(other_client, url, {"body_top": "Looks good", "ship_it": "1"})
    body = assert_ok(first, 201, "review")
    assert first["Location"].endswith(f"{url}{body['review']['id']}/")
    second = keyed(other_client, url, {"body_top": "Looks good", "ship_it": "1"})
    assert_same_answer(first, second)
    assert Review.objects.count() == 1
    # Without the key the same POST is the usual 303 to the existing draft.
    assert other_client.post(url, {"body_top": "Looks good"}).status_code == 303


def test_status_update_post_is_replayed(rr, bot_client):
    url = f"/api/review-requests/{rr.pk}/status-updates/"
    data = {"service_id": "ci", "summary": "Build", "state": "pending"}
    first = keyed(bot_client, url, data)
    assert_ok(first, 201, "status-update")
    assert_same_answer(first, keyed(bot_client, url, data))
    assert StatusUpdate.objects.count() == 1


def test_multipart_retry_with_another_boundary_is_the_same_request(owner_client):
    def multipart(boundary: str):
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="extra_data.ci"\r\n\r\n'
            f"yes\r\n--{boundary}--\r\n"
        )
        return owner_client.post(
            RR_LIST,
            body,
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_IDEMPOTENCY_KEY="multi",
        )

    first = multipart("aaaaaaaa")
    assert_ok(first, 201)
    assert_same_answer(first, multipart("bbbbbbbbbbbb"))
    assert ReviewRequest.objects.count() == 1


# --- what a key is bound to -------------------------------------------------------------------


def test_reuse_with_another_body_is_422(owner_client):
    assert keyed(owner_client, RR_LIST, {"extra_data.a": "1"}).status_code == 201
    response = keyed(owner_client, RR_LIST, {"extra_data.a": "2"})
    body = assert_error(response, 422, 911)
    assert body["err"]["type"] == "request-idempotency-key-reused"
    assert ReviewRequest.objects.count() == 1


def test_reuse_with_another_url_is_422(rr, owner_client, bot_client):
    assert keyed(bot_client, RR_LIST).status_code == 201
    url = f"/api/review-requests/{rr.pk}/status-updates/"
    response = keyed(bot_client, url, {"service_id": "ci", "summary": "Build"})
    assert_error(response, 422, 911)
    assert StatusUpdate.objects.count() == 0
    # The query is part of the URL.
    assert_error(keyed(bot_client, f"{RR_LIST}?expand=submitter"), 422, 911)


def test_keys_are_per_user(owner_client, other_client):
    assert keyed(owner_client, RR_LIST).status_code == 201
    assert keyed(other_client, RR_LIST).status_code == 201
    assert ReviewRequest.objects.count() == 2
    assert IdempotencyKey.objects.count() == 2


def test_without_a_key_each_post_creates(owner_client):
    owner_client.post(RR_LIST)
    owner_client.post(RR_LIST)
    assert ReviewRequest.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_other_resources_ignore_the_key(rr, other, other_client):
    review = Review.objects.create(review_request=rr, user=other)
    url = f"/api/review-requests/{rr.pk}/reviews/{review.pk}/general-comments/"
    assert keyed(other_client, url, {"text": "a"}).status_code == 201
    assert keyed(other_client, url, {"text": "a"}).status_code == 201
    assert GeneralComment.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0


# --- failures are not remembered -------------------------------------------------------------


def test_a_4xx_is_not_remembered(rr, bot_client):
    url = f"/api/review-requests/{rr.pk}/status-updates/"
    bad = {"service_id": "ci", "summary": "Build", "state": "bogus"}
    assert_error(keyed(bot_client, url, bad), 400, 105)
    assert IdempotencyKey.objects.count() == 0
    # The same key with the corrected body is a new request, not a reuse.
    good = {"service_id": "ci", "summary": "Build", "state": "pending"}
    assert_ok(keyed(bot_client, url, good), 201)
    assert StatusUpdate.objects.count() == 1
    assert IdempotencyKey.objects.get().status == 201


def test_a_refused_post_can_be_retried_with_the_key(owner_client):
    data = {"repository": "no-such-repository"}
    assert_error(keyed(owner_client, RR_LIST, data), 400, 206)
    assert_error(keyed(owner_client, RR_LIST, data), 400, 206)
    assert IdempotencyKey.objects.count() == 0
    assert keyed(owner_client, RR_LIST).status_code == 201
    assert ReviewRequest.objects.count() == 1


# --- expiry -----------------------------------------------------------------------------------


def test_expired_key_is_ignored_and_purged(owner_client):
    assert keyed(owner_client, RR_LIST).status_code == 201
    IdempotencyKey.objects.update(created=timezone.now() - timedelta(hours=24, seconds=1))
    second = keyed(owner_client, RR_LIST)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert ReviewRequest.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1
    assert IdempotencyKey.objects.get().created > timezone.now() - timedelta(minutes=1)


def test_key_just_inside_24_hours_is_replayed(owner_client):
    assert keyed(owner_client, RR_LIST).status_code == 201
    IdempotencyKey.objects.update(created=timezone.now() - timedelta(hours=23, minutes=59))
    assert keyed(owner_client, RR_LIST)["Idempotent-Replayed"] == "true"
    assert ReviewRequest.objects.count() == 1


def test_purge_command(owner_client, other_client):
    keyed(owner_client, RR_LIST)
    keyed(other_client, RR_LIST)
    IdempotencyKey.objects.filter(key="k-1", user__username="doc").update(
        created=timezone.now() - timedelta(days=2)
    )
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert "1 expired" in out.getvalue()
    assert list(IdempotencyKey.objects.values_list("user__username", flat=True)) == ["grumpy"]


# --- bad keys ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   ", "x" * 256, "caf\u00e9", "a\tb"])
def test_bad_keys_are_105(owner_client, key):
    response = keyed(owner_client, RR_LIST, key=key)
    body = assert_error(response, 400, 105)
    assert "Idempotency-Key" in rsp(response)["fields"]
    assert body["fields"]["Idempotency-Key"] == [
        "The Idempotency-Key must be 1 to 255 printable ASCII characters."
    ]
    assert ReviewRequest.objects.count() == 0


def test_longest_key_is_accepted(owner_client):
    assert keyed(owner_client, RR_LIST, key="x" * 255).status_code == 201
    assert keyed(owner_client, RR_LIST, key="x" * 255)["Idempotent-Replayed"] == "true"
