"""Screenshots (legacy) and screenshot comments (spec: code-and-files.md §10; golden 146-149).

doc (``owner``) owns a published review request that targets grumpy (``other``); images go to
a temporary ``MEDIA_ROOT``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attachments.models import Screenshot, ScreenshotComment
from reviews.models import ReviewRequest
from reviews.services import review_get_or_create_draft

from ..conftest import assert_error, assert_ok, rsp
from ..factories import make_review_request
from ..golden_files import golden
from .test_file_attachments import FORM, PNG

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def rr(owner, other):
    return make_review_request(submitter=owner, publish=True, people=[other])


def rr_path(rr) -> str:
    return f"/api/review-requests/{rr.pk}/"


def upload(client, rr, *, draft=True, name="shot.png", data=PNG, caption="shot"):
    path = f"{rr_path(rr)}{'draft/' if draft else ''}screenshots/"
    return client.post(path, {"caption": caption, "path": SimpleUploadedFile(name, data)})


def publish(client, rr):
    assert_ok(client.put(f"{rr_path(rr)}draft/", "public=1", content_type=FORM))


def link(path: str, method: str = "GET", title: str | None = None) -> dict:
    data = {"href": f"{BASE}{path}", "method": method}
    if title is not None:
        data["title"] = title
    return data


def golden_screenshot(shot: Screenshot, caption: str) -> dict:
    """Golden 147/149, with rbapi's own image URL in place of Review Board's /media/."""
    item = f"{rr_path(shot.review_request)}screenshots/{shot.pk}/"
    image = f"/r/{shot.review_request_id}/s/{shot.pk}/image/"
    return {
        "absolute_url": f"{BASE}{image}",
        "caption": caption,
        "filename": shot.image.name.rsplit("/", 1)[-1],
        "id": shot.pk,
        "links": {
            "delete": link(item, "DELETE"),
            "screenshot_comments": link(f"{item}screenshot-comments/"),
            "self": link(item),
            "update": link(item, "PUT"),
        },
        "path": shot.image.name,
        "review_url": f"/r/{shot.review_request_id}/s/{shot.pk}/",
        "thumbnail_url": image,
        "url": image,
    }


class TestScreenshots:
    def test_empty_list_golden_146(self, rr, anon_client):
        body = assert_ok(anon_client.get(f"{rr_path(rr)}screenshots/"), mimetype="screenshots")
        assert body == {
            "stat": "ok",
            "screenshots": [],
            "links": {
                "create": link(f"{rr_path(rr)}screenshots/", "POST"),
                "self": link(f"{rr_path(rr)}screenshots/"),
            },
            "total_results": 0,
        }

    def test_draft_upload_golden_147(self, rr, owner_client, anon_client):
        response = upload(owner_client, rr)
        body = assert_ok(response, 201, mimetype="draft-screenshot")
        shot = Screenshot.objects.get()
        assert body == {"stat": "ok", "draft_screenshot": golden_screenshot(shot, "shot")}
        assert shot.image.name.startswith("uploaded/images/") and shot.image.read() == PNG
        assert assert_ok(anon_client.get(f"{rr_path(rr)}screenshots/"))["total_results"] == 0
        listed = assert_ok(owner_client.get(f"{rr_path(rr)}screenshots/"))
        assert listed["total_results"] == 1

    def test_published_golden_149(self, rr, owner_client, anon_client):
        assert_ok(upload(owner_client, rr), 201)
        publish(owner_client, rr)
        shot = Screenshot.objects.get()
        body = assert_ok(anon_client.get(f"{rr_path(rr)}screenshots/"))
        assert body["screenshots"] == [golden_screenshot(shot, "shot")]
        change = ReviewRequest.objects.get(pk=rr.pk).changedescs.get()
        assert change.fields_changed["screenshots"]["added"] == [
            ["shot", f"/r/{rr.pk}/s/{shot.pk}/", shot.pk]
        ]
        image = anon_client.get(f"/r/{rr.pk}/s/{shot.pk}/image/")
        assert image["Content-Type"] == "image/png"
        assert b"".join(image.streaming_content) == PNG

    def test_not_an_image_105(self, rr, owner_client, media):
        response = upload(owner_client, rr, name="notes.txt", data=b"hello\n")
        assert assert_error(response, 400, 105)["fields"] == {
            "path": ["The file is not an image."]
        }
        assert not Screenshot.objects.exists()
        assert not any(path.is_file() for path in media.rglob("*"))

    def test_other_user_403(self, rr, other_client, anon_client):
        assert_error(upload(other_client, rr), 403, 101)
        assert_error(upload(anon_client, rr), 401, 103)
        assert_error(other_client.get(f"{rr_path(rr)}draft/screenshots/"), 403, 101)

    def test_caption_and_delete_wait_for_publish(self, rr, owner_client, anon_client):
        assert_ok(upload(owner_client, rr), 201)
        publish(owner_client, rr)
        shot = Screenshot.objects.get()
        item = f"{rr_path(rr)}screenshots/{shot.pk}/"
        assert_ok(owner_client.put(item, "caption=renamed", content_type=FORM))
        assert assert_ok(anon_client.get(item))["screenshot"]["caption"] == "shot"
        publish(owner_client, rr)
        assert assert_ok(anon_client.get(item))["screenshot"]["caption"] == "renamed"
        assert owner_client.delete(item).status_code == 204
        assert assert_ok(anon_client.get(f"{rr_path(rr)}screenshots/"))["total_results"] == 1
        publish(owner_client, rr)
        # Gone from the lists and its URL; kept inactive for the change that removed it.
        assert assert_ok(anon_client.get(f"{rr_path(rr)}screenshots/"))["total_results"] == 0
        assert_error(anon_client.get(item), 404, 100)
        assert Screenshot.objects.get().inactive
        changes = assert_ok(anon_client.get(f"{rr_path(rr)}changes/"))["changes"]
        fields = changes[0]["fields_changed"]
        assert [shot["id"] for shot in fields["screenshots"]["removed"]] == [shot.pk]
        assert fields["screenshots"]["removed"][0]["caption"] == "renamed"
        assert fields["screenshots"]["new"] == fields["screenshots"]["added"] == []
        captions = changes[1]["fields_changed"]["screenshot_captions"]
        assert [(c["old"], c["new"], c["screenshot"]["id"]) for c in captions] == [
            ("shot", "renamed", shot.pk)
        ]

    def test_page_costs_constant_queries(self, rr, owner_client, anon_client, settings):
        settings.RBAPI_RESPONSE_CACHE = False
        url = f"{rr_path(rr)}screenshots/?max-results=25"
        assert_ok(upload(owner_client, rr), 201)
        publish(owner_client, rr)
        with CaptureQueriesContext(connection) as one:
            assert_ok(anon_client.get(url))
        for n in range(24):
            assert_ok(upload(owner_client, rr, caption=f"s{n}"), 201)
        publish(owner_client, rr)
        with CaptureQueriesContext(connection) as many:
            body = assert_ok(anon_client.get(url))
        assert len(body["screenshots"]) == 25
        assert len(many) == len(one)


class TestScreenshotComments:
    @pytest.fixture
    def shot(self, rr, owner_client):
        assert_ok(upload(owner_client, rr), 201)
        publish(owner_client, rr)
        return Screenshot.objects.get()

    @pytest.fixture
    def review(self, rr, other):
        review, _ = review_get_or_create_draft(review_request=rr, user=other)
        return review

    def path(self, review) -> str:
        return (
            f"/api/review-requests/{review.review_request_id}/reviews/{review.pk}/"
            "screenshot-comments/"
        )

    def test_only_published_screenshots_golden_148(self, rr, review, owner_client, other_client):
        assert_ok(upload(owner_client, rr, caption="pending"), 201)
        pending = Screenshot.objects.get()
        data = {"screenshot_id": pending.pk, "text": "x", "x": 1, "y": 1, "w": 1, "h": 1}
        body = assert_error(other_client.post(self.path(review), data), 400, 105)
        assert body["fields"] == {"screenshot_id": ["This is not a valid screenshot ID"]}

    def test_missing_fields_105(self, shot, review, other_client):
        body = assert_error(other_client.post(self.path(review), {}), 400, 105)
        assert set(body["fields"]) == {"screenshot_id", "text", "x", "y", "w", "h"}
        assert not ScreenshotComment.objects.exists()

    def test_create_publish_and_count(self, rr, shot, review, other_client, anon_client):
        data = {
            "screenshot_id": shot.pk,
            "text": "Misaligned",
            "x": 1,
            "y": 2,
            "w": 3,
            "h": 4,
            "issue_opened": 1,
        }
        response = other_client.post(self.path(review), data)
        item = assert_ok(response, 201, mimetype="screenshot-comment")["screenshot_comment"]
        assert (item["x"], item["y"], item["w"], item["h"]) == (1, 2, 3, 4)
        assert item["issue_status"] == "open"
        assert item["links"]["screenshot"] == link(
            f"{rr_path(rr)}screenshots/{shot.pk}/", title=f"shot ({shot.image.name})"
        )
        assert item["thumbnail_url"] == f"/r/{rr.pk}/s/{shot.pk}/image/"
        review_path = f"{rr_path(rr)}reviews/{review.pk}/"
        assert_ok(other_client.put(review_path, "public=1", content_type=FORM))
        assert ReviewRequest.objects.get(pk=rr.pk).issue_open_count == 1
        per_shot = f"{rr_path(rr)}screenshots/{shot.pk}/screenshot-comments/"
        listed = assert_ok(anon_client.get(per_shot), mimetype="screenshot-comments")
        assert [c["text"] for c in listed["screenshot_comments"]] == ["Misaligned"]

    def test_negative_region_105(self, shot, review, other_client):
        data = {"screenshot_id": shot.pk, "text": "x", "x": -1, "y": 0, "w": 1, "h": 1}
        body = assert_error(other_client.post(self.path(review), data), 400, 105)
        assert body["fields"] == {"x": ['"-1" is not an integer']}


def test_unpublished_screenshot_transcript_148(rr, other, owner_client, other_client):
    assert_ok(upload(owner_client, rr), 201)
    review, _ = review_get_or_create_draft(review_request=rr, user=other)
    data = {"screenshot_id": Screenshot.objects.get().pk, "text": "x", "x": 0, "y": 0}
    data.update(w=1, h=1)
    response = other_client.post(f"{rr_path(rr)}reviews/{review.pk}/screenshot-comments/", data)
    expected = golden(148)
    assert (response.status_code, rsp(response)) == (expected.status, expected.body())
