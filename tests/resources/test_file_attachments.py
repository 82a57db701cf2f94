"""File attachments, draft file attachments, their comments, user file attachments and the
download URLs (spec: code-and-files.md §9, §9.1, §11; golden 123-145, 169-172).

Payloads are compared whole against dicts shaped like Review Board 8.1's (``golden_*``).
doc (``owner``) owns a published review request that targets grumpy (``other``); the bytes go
to a temporary ``MEDIA_ROOT``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attachments.models import FileAttachment, FileAttachmentComment, FileAttachmentHistory
from reviews.models import Review, ReviewRequest, ReviewRequestDraft
from reviews.services import review_get_or_create_draft

from ..conftest import assert_error, assert_ok, basic_auth, logged_in_client, make_user, rsp
from ..factories import make_review_request
from ..golden_files import golden

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)
IMAGE_ICON = "/static/rb/images/mimetypes/image-x-generic.68070b6d22c1.png"
TEXT_ICON = "/static/rb/images/mimetypes/text-x-generic.9efdac83f1d5.png"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def rr(owner, other):
    return make_review_request(submitter=owner, publish=True, people=[other])


def rr_path(rr) -> str:
    return f"/api/review-requests/{rr.pk}/"


def upload(client, rr, name="red.png", data=PNG, mimetype="image/png", *, draft=False, **fields):
    path = f"{rr_path(rr)}{'draft/' if draft else ''}file-attachments/"
    return client.post(path, {"path": SimpleUploadedFile(name, data, mimetype), **fields})


def publish(client, rr):
    assert_ok(client.put(f"{rr_path(rr)}draft/", "public=1", content_type=FORM))


def link(path: str, method: str = "GET", title: str | None = None) -> dict:
    data = {"href": f"{BASE}{path}", "method": method}
    if title is not None:
        data["title"] = title
    return data


def thumbnail_img(url: str, alt: str) -> str:
    src = f"{url}?thumbnail=1&amp;width="
    return (
        f'<div class="file-thumbnail"> <img src="{src}300" srcset="{src}300 1x, {src}600 2x, '
        f'{src}900 3x" alt="{alt}" width="300" /></div>'
    )


def golden_attachment(att: FileAttachment, *, draft=False, caption=None, alt="") -> dict:
    """Golden 125/126/128: an image attachment as the public (or draft) list shows it."""
    rr_id = att.review_request_id
    url = f"{BASE}/r/{rr_id}/file/{att.pk}/download/"
    item = f"{rr_path(att.review_request)}{'draft/' if draft else ''}file-attachments/{att.pk}/"
    links = {
        "delete": link(item, "DELETE"),
        "self": link(item),
        "update": link(item, "PUT"),
    }
    if not draft:
        links["file_attachment_comments"] = link(f"{item}file-attachment-comments/")
    checksum = hashlib.sha256(PNG).hexdigest()
    return {
        "absolute_url": url,
        "attachment_history_id": att.history_id,
        "caption": caption if caption is not None else att.caption,
        "extra_data": {"sha256_checksum": checksum},
        "filename": "red.png",
        "icon_url": IMAGE_ICON,
        "id": att.pk,
        "is_review_ui_accessible_by": True,
        "links": links,
        "mimetype": "image/png",
        "review_url": f"/r/{rr_id}/file/{att.pk}/",
        "revision": att.attachment_revision,
        "sha256_checksum": checksum,
        "thumbnail": thumbnail_img(url, alt),
        "url": url,
    }


class TestUpload:
    def test_golden_125(self, rr, owner_client):
        response = upload(owner_client, rr, caption="Red square")
        body = assert_ok(response, 201, mimetype="file-attachment")
        att = FileAttachment.objects.get()
        assert body == {
            "stat": "ok",
            "file_attachment": golden_attachment(att, caption="Red square"),
        }
        assert "Location" not in response
        assert att.added_in_draft and att.draft_caption == "Red square" and att.caption == ""
        assert att.attachment_revision == 1 and att.history.latest_revision == 1
        assert att.file.read() == PNG

    def test_without_a_caption_it_is_the_file_name(self, rr, owner_client):
        # Review Board 8.1 captions an upload without one (or with an empty one) with its file
        # name, in the answer and the lists (found by the differential replay).
        for data in ({}, {"caption": ""}):
            body = assert_ok(upload(owner_client, rr, **data), 201, mimetype="file-attachment")
            assert body["file_attachment"]["caption"] == "red.png"
        listed = assert_ok(owner_client.get(f"{rr_path(rr)}draft/file-attachments/"), 200)
        assert [a["caption"] for a in listed["draft_file_attachments"]] == ["red.png"] * 2
        assert {a.draft_caption for a in FileAttachment.objects.all()} == {"red.png"}
        # A later PUT may still empty it.
        att = FileAttachment.objects.first()
        changed = assert_ok(
            owner_client.put(
                f"{rr_path(rr)}file-attachments/{att.pk}/", "caption=", content_type=FORM
            ),
            200,
        )
        assert changed["file_attachment"]["caption"] == ""

    def test_missing_path_105_golden_123(self, rr, owner_client):
        response = owner_client.post(f"{rr_path(rr)}file-attachments/", {"caption": "no file"})
        body = assert_error(response, 400, 105)
        assert body["fields"] == {"path": ["This field is required"]}
        # A form value named path is not a file.
        response = owner_client.post(f"{rr_path(rr)}file-attachments/", {"path": "x"})
        assert assert_error(response, 400, 105)["fields"] == {"path": ["This field is required"]}
        assert not FileAttachment.objects.exists()

    def test_other_user_403_golden_124(self, rr, other_client, anon_client, media):
        assert_error(upload(other_client, rr), 403, 101)
        assert_error(upload(anon_client, rr), 401, 103)
        assert not FileAttachment.objects.exists()
        assert not any(media.rglob("*.png"))

    def test_admin_may_upload(self, rr, admin_client):
        assert_ok(upload(admin_client, rr), 201)

    def test_text_golden_133(self, rr, owner_client):
        data = b"hello notes\nsecond line\n"
        body = assert_ok(upload(owner_client, rr, "notes.txt", data, "text/plain"), 201)
        item = body["file_attachment"]
        assert item["mimetype"] == "text/plain"
        assert item["icon_url"] == TEXT_ICON
        assert item["thumbnail"] == (
            '<div class="file-thumbnail"> <div class="file-thumbnail-clipped">'
            "<pre>hello notes</pre><pre>second line</pre></div></div>"
        )
        assert item["is_review_ui_accessible_by"] is True

    def test_text_thumbnail_is_escaped(self, rr, owner_client):
        data = b"<script>alert(1)</script>\n"
        item = assert_ok(upload(owner_client, rr, "x.html", data, "text/plain"), 201)
        assert "<script>" not in item["file_attachment"]["thumbnail"]

    def test_octet_stream_golden_134(self, rr, owner_client):
        body = assert_ok(
            upload(owner_client, rr, "data.bin", b"\x00\x01\x02", "application/octet-stream"),
            201,
        )
        item = body["file_attachment"]
        assert item["mimetype"] == "application/octet-stream"
        assert item["is_review_ui_accessible_by"] is False
        assert item["review_url"] == ""
        assert item["thumbnail"] == '<pre class="file-thumbnail"></pre>'
        assert item["icon_url"] == TEXT_ICON

    @pytest.mark.parametrize(
        ("name", "data", "expected"),
        [
            ("shot", PNG, "image/png"),
            ("x.py", b"print('hi')\n", "text/plain"),
            ("blob", b"\x00\xff\x00", "application/octet-stream"),
        ],
    )
    def test_octet_stream_is_sniffed(self, rr, owner_client, name, data, expected):
        response = upload(owner_client, rr, name, data, "application/octet-stream")
        assert assert_ok(response, 201)["file_attachment"]["mimetype"] == expected

    def test_new_revision_golden_132(self, rr, owner_client):
        first = assert_ok(upload(owner_client, rr, caption="v1"), 201)["file_attachment"]
        history = first["attachment_history_id"]
        response = upload(owner_client, rr, draft=True, caption="v2", attachment_history=history)
        body = assert_ok(response, 201, mimetype="draft-file-attachment")
        item = body["draft_file_attachment"]
        assert item["revision"] == 2 and item["attachment_history_id"] == history
        assert item["links"]["self"]["href"].endswith(f"/draft/file-attachments/{item['id']}/")
        assert FileAttachmentHistory.objects.get().latest_revision == 2

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("999", "Select a valid choice. That choice is not one of the available choices."),
            ("abc", '"abc" is not an integer'),
        ],
    )
    def test_bad_history_105_golden_131(self, rr, owner_client, value, message):
        response = upload(owner_client, rr, draft=True, attachment_history=value)
        assert assert_error(response, 400, 105)["fields"] == {"attachment_history": [message]}
        assert not FileAttachment.objects.exists()

    def test_history_of_another_review_request_refused(self, rr, owner, owner_client):
        other_rr = make_review_request(submitter=owner, publish=True, people=[owner])
        theirs = assert_ok(upload(owner_client, other_rr), 201)["file_attachment"]
        response = upload(owner_client, rr, attachment_history=theirs["attachment_history_id"])
        assert_error(response, 400, 105)

    def test_too_large_105(self, rr, owner_client, settings, media):
        settings.RBAPI_MAX_UPLOAD_BYTES = 10
        response = upload(owner_client, rr, "big.txt", b"x" * 11, "text/plain")
        body = assert_error(response, 400, 105)
        assert body["fields"] == {"path": ["The file is larger than the limit of 10 bytes."]}
        assert not FileAttachment.objects.exists()
        assert not any(path.is_file() for path in media.rglob("*"))

    def test_upload_creates_the_draft(self, rr, owner_client):
        assert_error(owner_client.get(f"{rr_path(rr)}draft/"), 404, 100)
        assert_ok(upload(owner_client, rr), 201)
        assert_ok(owner_client.get(f"{rr_path(rr)}draft/"))

    def test_failed_transaction_leaves_no_file(self, rr, owner_client, media, monkeypatch):
        import attachments.services as services

        def boom(**kwargs):
            raise RuntimeError("database went away")

        monkeypatch.setattr(services, "_file_attachment_create", boom)
        assert_error(upload(owner_client, rr), 500, 902)
        assert not any(path.is_file() for path in media.rglob("*"))


class TestLists:
    def test_owner_sees_pending_golden_126_127(self, rr, owner_client, anon_client, other_client):
        assert_ok(upload(owner_client, rr, caption="Red square"), 201)
        att = FileAttachment.objects.get()
        response = owner_client.get(f"{rr_path(rr)}file-attachments/")
        body = assert_ok(response, mimetype="file-attachments")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.file-attachment+json"
        )
        assert body == {
            "stat": "ok",
            "file_attachments": [golden_attachment(att, caption="Red square")],
            "links": {
                "create": link(f"{rr_path(rr)}file-attachments/", "POST"),
                "self": link(f"{rr_path(rr)}file-attachments/"),
            },
            "total_results": 1,
        }
        for client in (anon_client, other_client):
            body = assert_ok(client.get(f"{rr_path(rr)}file-attachments/"))
            assert body["total_results"] == 0
            assert_error(client.get(f"{rr_path(rr)}file-attachments/{att.pk}/"), 404, 100)

    def test_draft_list_golden_128(self, rr, owner_client):
        assert_ok(upload(owner_client, rr, caption="Red square"), 201)
        att = FileAttachment.objects.get()
        response = owner_client.get(f"{rr_path(rr)}draft/file-attachments/")
        body = assert_ok(response, mimetype="draft-file-attachments")
        assert body == {
            "stat": "ok",
            "draft_file_attachments": [golden_attachment(att, draft=True, caption="Red square")],
            "links": {
                "create": link(f"{rr_path(rr)}draft/file-attachments/", "POST"),
                "self": link(f"{rr_path(rr)}draft/file-attachments/"),
            },
            "total_results": 1,
        }

    def test_draft_list_needs_a_draft_to_read(self, rr, owner_client):
        """Without a draft the draft list is empty and its items 100 (as the original); a PUT
        still finds a published attachment there and starts the draft."""
        assert_ok(upload(owner_client, rr), 201)
        publish(owner_client, rr)
        att = FileAttachment.objects.get()
        assert not ReviewRequestDraft.objects.filter(review_request=rr).exists()
        url = f"{rr_path(rr)}draft/file-attachments/"
        listed = assert_ok(owner_client.get(url))
        assert (listed["draft_file_attachments"], listed["total_results"]) == ([], 0)
        assert_error(owner_client.get(f"{url}{att.pk}/"), 404, 100)
        changed = owner_client.put(f"{url}{att.pk}/", "caption=New", content_type=FORM)
        assert assert_ok(changed)["draft_file_attachment"]["caption"] == "New"
        assert ReviewRequestDraft.objects.filter(review_request=rr).exists()
        assert (
            assert_ok(owner_client.get(f"{url}{att.pk}/"))["draft_file_attachment"]["id"] == att.pk
        )

    def test_draft_list_only_for_editors(self, rr, owner_client, other_client, anon_client):
        """Review Board lets any logged-in user read it (golden 129); rbapi does not."""
        assert_ok(upload(owner_client, rr), 201)
        assert_error(other_client.get(f"{rr_path(rr)}draft/file-attachments/"), 403, 101)
        assert_error(anon_client.get(f"{rr_path(rr)}draft/file-attachments/"), 401, 103)

    def test_published_and_revisions_listed_golden_135(self, rr, owner_client, anon_client):
        first = assert_ok(upload(owner_client, rr, caption="v1"), 201)["file_attachment"]
        publish(owner_client, rr)
        upload(owner_client, rr, caption="v2", attachment_history=first["attachment_history_id"])
        publish(owner_client, rr)
        body = assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/"))
        assert [(a["caption"], a["revision"]) for a in body["file_attachments"]] == [
            ("v1", 1),
            ("v2", 2),
        ]
        first_att = FileAttachment.objects.get(pk=first["id"])
        assert body["file_attachments"][0] == golden_attachment(first_att, alt="v1")

    def test_private_review_request_hides_attachments(self, owner, other, owner_client):
        draft_rr = make_review_request(submitter=owner, publish=False, people=[other])
        assert_ok(upload(owner_client, draft_rr), 201)
        client = logged_in_client(make_user("dopey"))
        assert_error(client.get(f"{rr_path(draft_rr)}file-attachments/"), 403, 101)

    def test_page_costs_constant_queries(self, rr, owner_client, anon_client, settings):
        settings.RBAPI_RESPONSE_CACHE = False

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/"))
            return len(queries)

        assert_ok(upload(owner_client, rr), 201)
        publish(owner_client, rr)
        one = count()
        for n in range(24):
            assert_ok(upload(owner_client, rr, f"f{n}.txt", b"text\n", "text/plain"), 201)
        publish(owner_client, rr)
        body = assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/?max-results=25"))
        assert len(body["file_attachments"]) == 25
        with CaptureQueriesContext(connection) as queries:
            assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/?max-results=25"))
        assert len(queries) == one


class TestPublish:
    def test_publish_makes_public_and_records_files(self, rr, owner_client, anon_client):
        assert_ok(upload(owner_client, rr, caption="Red"), 201)
        publish(owner_client, rr)
        att = FileAttachment.objects.get()
        assert not att.added_in_draft and att.caption == "Red"
        body = assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/{att.pk}/"))
        assert body["file_attachment"] == golden_attachment(att, alt="Red")
        change = ReviewRequest.objects.get(pk=rr.pk).changedescs.get()
        assert change.fields_changed["files"]["added"] == [
            ["Red", f"/r/{rr.pk}/file/{att.pk}/", att.pk]
        ]

    def test_only_attachment_change_is_publishable(self, rr, owner_client):
        """An upload alone is a change: the publish is not "nothing to publish" (211)."""
        assert_ok(upload(owner_client, rr), 201)
        assert_ok(owner_client.put(f"{rr_path(rr)}draft/", "public=1", content_type=FORM))

    def test_caption_put_waits_for_publish_golden_136(self, rr, owner_client, anon_client):
        assert_ok(upload(owner_client, rr, caption="Notes"), 201)
        publish(owner_client, rr)
        att = FileAttachment.objects.get()
        item = f"{rr_path(rr)}file-attachments/{att.pk}/"
        response = owner_client.put(
            item, urlencode({"caption": "Notes, renamed"}), content_type=FORM
        )
        assert (
            assert_ok(response, mimetype="file-attachment")["file_attachment"]["caption"]
            == "Notes"
        )
        assert assert_ok(anon_client.get(item))["file_attachment"]["caption"] == "Notes"
        draft = assert_ok(owner_client.get(f"{rr_path(rr)}draft/file-attachments/"))
        assert draft["draft_file_attachments"][0]["caption"] == "Notes, renamed"
        publish(owner_client, rr)
        assert assert_ok(anon_client.get(item))["file_attachment"]["caption"] == "Notes, renamed"
        change = ReviewRequest.objects.get(pk=rr.pk).changedescs.first()
        assert change.fields_changed["file_captions"][0]["old"] == "Notes"
        assert change.fields_changed["file_captions"][0]["new"] == "Notes, renamed"

    def test_put_by_other_403(self, rr, owner_client, other_client):
        assert_ok(upload(owner_client, rr, caption="Notes"), 201)
        publish(owner_client, rr)
        att = FileAttachment.objects.get()
        item = f"{rr_path(rr)}file-attachments/{att.pk}/"
        response = other_client.put(item, "caption=x", content_type=FORM)
        assert_error(response, 403, 101)
        assert FileAttachment.objects.get().draft_caption == "Notes"

    def test_delete_waits_for_publish_and_removes_history_golden_137_144_145(
        self,
        rr,
        other,
        owner_client,
        other_client,
        anon_client,
        media,
        django_capture_on_commit_callbacks,
    ):
        first = assert_ok(upload(owner_client, rr, caption="v1"), 201)["file_attachment"]
        publish(owner_client, rr)
        upload(owner_client, rr, caption="v2", attachment_history=first["attachment_history_id"])
        publish(owner_client, rr)
        response = owner_client.delete(f"{rr_path(rr)}file-attachments/{first['id']}/")
        assert response.status_code == 204
        assert response["Content-Type"] == "application/vnd.reviewboard.org.file-attachment+json"
        assert assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/"))["total_results"] == 2
        with django_capture_on_commit_callbacks(execute=True):
            publish(owner_client, rr)
        assert assert_ok(anon_client.get(f"{rr_path(rr)}file-attachments/"))["total_results"] == 0
        assert_error(anon_client.get(f"{rr_path(rr)}file-attachments/{first['id']}/"), 404, 100)
        # Kept inactive, bytes and all, for the change description that shows them (g145).
        assert list(FileAttachment.objects.values_list("inactive", flat=True)) == [True, True]
        assert len([path for path in media.rglob("*") if path.is_file()]) == 2
        assert anon_client.get(first["absolute_url"].removeprefix(BASE)).status_code == 200
        change = ReviewRequest.objects.get(pk=rr.pk).changedescs.first()
        assert len(change.fields_changed["files"]["removed"]) == 2
        # Comments cannot be made on them any more.
        review, _ = review_get_or_create_draft(review_request=rr, user=other)
        response = other_client.post(
            f"{rr_path(rr)}reviews/{review.pk}/file-attachment-comments/",
            {"file_attachment_id": str(first["id"]), "text": "x"},
        )
        assert assert_error(response, 400, 105)["fields"] == {
            "file_attachment_id": ["This is not a valid file attachment ID"]
        }

    def test_deleting_a_pending_revision_of_a_deleted_history_drops_it(
        self, rr, owner_client, media, django_capture_on_commit_callbacks
    ):
        first = assert_ok(upload(owner_client, rr, caption="v1"), 201)["file_attachment"]
        publish(owner_client, rr)
        history = first["attachment_history_id"]
        pending = assert_ok(
            upload(owner_client, rr, caption="v2", attachment_history=history), 201
        )
        assert owner_client.delete(f"{rr_path(rr)}file-attachments/{first['id']}/").status_code
        with django_capture_on_commit_callbacks(execute=True):
            publish(owner_client, rr)
        # The never-published revision goes for good; the published one is kept inactive.
        assert not FileAttachment.objects.filter(pk=pending["file_attachment"]["id"]).exists()
        assert FileAttachment.objects.get().inactive
        assert len([path for path in media.rglob("*") if path.is_file()]) == 1
        change = ReviewRequest.objects.get(pk=rr.pk).changedescs.first()
        assert change.fields_changed["files"]["added"] == []
        assert [record[2] for record in change.fields_changed["files"]["removed"]] == [first["id"]]

    def test_delete_pending_goes_at_once(
        self, rr, owner_client, media, django_capture_on_commit_callbacks
    ):
        att = assert_ok(upload(owner_client, rr), 201)["file_attachment"]
        with django_capture_on_commit_callbacks(execute=True):
            response = owner_client.delete(f"{rr_path(rr)}file-attachments/{att['id']}/")
        assert response.status_code == 204
        assert not FileAttachment.objects.exists()
        assert stored_files(media) == []

    def test_discarding_the_draft_drops_pending(
        self, rr, owner_client, media, django_capture_on_commit_callbacks
    ):
        assert_ok(upload(owner_client, rr), 201)
        with django_capture_on_commit_callbacks(execute=True):
            assert owner_client.delete(f"{rr_path(rr)}draft/").status_code == 204
        assert not FileAttachment.objects.exists()
        assert stored_files(media) == []


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


class TestStoredFilesFollowRows:
    """Whatever deletes an attachment or screenshot row (a service, or a cascade from a
    review request or user), its bytes leave the storage once the transaction commits."""

    def test_bytes_wait_for_the_commit(
        self, rr, owner_client, media, django_capture_on_commit_callbacks
    ):
        att = assert_ok(upload(owner_client, rr), 201)["file_attachment"]
        with django_capture_on_commit_callbacks() as callbacks:
            response = owner_client.delete(f"{rr_path(rr)}file-attachments/{att['id']}/")
            assert response.status_code == 204
            assert len(stored_files(media)) == 1
        assert len(callbacks) == 1
        callbacks[0]()
        assert stored_files(media) == []

    def test_deleted_review_request_takes_every_file(
        self, rr, owner_client, admin_client, media, django_capture_on_commit_callbacks
    ):
        first = assert_ok(upload(owner_client, rr, caption="v1"), 201)["file_attachment"]
        publish(owner_client, rr)
        assert owner_client.delete(f"{rr_path(rr)}file-attachments/{first['id']}/")
        publish(owner_client, rr)  # kept inactive, bytes and all
        upload(owner_client, rr, name="notes.txt", data=b"hello\n", mimetype="text/plain")
        shot = {"caption": "s", "path": SimpleUploadedFile("shot.png", PNG, "image/png")}
        assert_ok(owner_client.post(f"{rr_path(rr)}draft/screenshots/", shot), 201)
        assert len(stored_files(media)) == 3
        with django_capture_on_commit_callbacks(execute=True):
            assert admin_client.delete(rr_path(rr)).status_code == 204
        assert not FileAttachment.objects.exists()
        assert stored_files(media) == []

    def test_screenshots_pending_delete_and_discard(
        self, rr, owner_client, media, django_capture_on_commit_callbacks
    ):
        def shoot() -> dict:
            shot = {"caption": "s", "path": SimpleUploadedFile("shot.png", PNG, "image/png")}
            return assert_ok(owner_client.post(f"{rr_path(rr)}draft/screenshots/", shot), 201)

        first = shoot()["draft_screenshot"]
        shoot()
        assert len(stored_files(media)) == 2
        with django_capture_on_commit_callbacks(execute=True):
            url = f"{rr_path(rr)}draft/screenshots/{first['id']}/"
            assert owner_client.delete(url).status_code == 204
        assert len(stored_files(media)) == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert owner_client.delete(f"{rr_path(rr)}draft/").status_code == 204
        assert stored_files(media) == []

    def test_user_file_attachments_go_with_the_user_or_alone(
        self, owner, owner_client, media, django_capture_on_commit_callbacks
    ):
        path = f"/api/users/{owner.username}/user-file-attachments/"
        for name in ("a.txt", "b.txt"):
            body = {"path": SimpleUploadedFile(name, b"out\n", "text/plain")}
            assert_ok(owner_client.post(path, body), 201)
        first, second = FileAttachment.objects.order_by("pk")
        with django_capture_on_commit_callbacks(execute=True):
            assert owner_client.delete(f"{path}{first.pk}/").status_code == 204
        assert [p.name for p in stored_files(media)] == [second.file.name.rsplit("/", 1)[-1]]
        with django_capture_on_commit_callbacks(execute=True):
            owner.delete()
        assert stored_files(media) == []


class TestDownload:
    def test_owner_downloads_pending_others_do_not(self, rr, owner_client, other_client):
        att = assert_ok(upload(owner_client, rr), 201)["file_attachment"]
        path = att["absolute_url"].removeprefix(BASE)
        response = owner_client.get(path)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert_error(other_client.get(path), 404, 100)
        publish(owner_client, rr)
        assert other_client.get(path).status_code == 200

    def test_basic_auth_and_private_review_request(self, owner, other, owner_client):
        private = make_review_request(submitter=owner, publish=False, people=[other])
        att = assert_ok(upload(owner_client, private), 201)["file_attachment"]
        path = att["absolute_url"].removeprefix(BASE)
        from django.test import Client

        assert Client().get(path, HTTP_AUTHORIZATION=basic_auth("doc")).status_code == 200
        assert_error(Client().get(path), 401, 103)
        dopey = logged_in_client(make_user("dopey"))
        assert_error(dopey.get(path), 403, 101)

    def test_html_is_never_served_inline(self, rr, owner_client):
        att = assert_ok(
            upload(owner_client, rr, "x.html", b"<script>1</script>", "text/html"), 201
        )["file_attachment"]
        publish(owner_client, rr)
        response = owner_client.get(att["absolute_url"].removeprefix(BASE))
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith("attachment")

    def test_missing_bytes_404(self, rr, owner_client, media):
        att = assert_ok(upload(owner_client, rr), 201)["file_attachment"]
        for path in media.rglob("*.png"):
            path.unlink()
        assert_error(owner_client.get(att["absolute_url"].removeprefix(BASE)), 404, 100)

    def test_unknown_404(self, rr, owner_client):
        assert_error(owner_client.get(f"/r/{rr.pk}/file/999/download/"), 404, 100)


class TestFileAttachmentComments:
    @pytest.fixture
    def attachment(self, rr, owner_client):
        att = assert_ok(upload(owner_client, rr, caption="Red square"), 201)["file_attachment"]
        publish(owner_client, rr)
        return FileAttachment.objects.get(pk=att["id"])

    @pytest.fixture
    def review(self, rr, other):
        review, _ = review_get_or_create_draft(review_request=rr, user=other)
        return review

    def comments_path(self, review) -> str:
        base = f"/api/review-requests/{review.review_request_id}/reviews/{review.pk}/"
        return f"{base}file-attachment-comments/"

    def golden_comment(self, comment: FileAttachmentComment, *, public: bool) -> dict:
        rr_id = comment.review.review_request_id
        item = f"{self.comments_path(comment.review)}{comment.pk}/"
        data = {
            "extra_data": comment.extra_data,
            "id": comment.pk,
            "issue_opened": comment.issue_opened,
            "issue_status": comment.issue_status_name,
            "link_text": "Red square",
            "links": {
                "delete": link(item, "DELETE"),
                "file_attachment": link(
                    f"/api/review-requests/{rr_id}/file-attachments/{comment.file_attachment_id}/",
                    title="Red square",
                ),
                "self": link(item),
                "update": link(item, "PUT"),
                "user": link("/api/users/grumpy/", title="grumpy"),
            },
            "public": public,
            "review_url": f"/r/{rr_id}/#fcomment{comment.pk}",
            "text": comment.text,
            "text_type": "plain",
            "thumbnail_html": None,
            "timestamp": comment.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if comment.diff_against_file_attachment_id is None:
            data["diff_against_file_attachment"] = None
        return data

    def test_missing_105_golden_139(self, review, attachment, other_client):
        body = assert_error(other_client.post(self.comments_path(review), {}), 400, 105)
        assert body["fields"] == {
            "file_attachment_id": ["This field is required"],
            "text": ["This field is required"],
        }

    def test_unknown_attachment_105(self, review, attachment, other_client, owner, owner_client):
        other_rr = make_review_request(submitter=owner, publish=True, people=[owner])
        theirs = assert_ok(upload(owner_client, other_rr), 201)["file_attachment"]
        for value in ("999", str(theirs["id"]), "abc"):
            response = other_client.post(
                self.comments_path(review), {"file_attachment_id": value, "text": "x"}
            )
            body = assert_error(response, 400, 105)
            assert body["fields"] == {
                "file_attachment_id": ["This is not a valid file attachment ID"]
            }
        assert not FileAttachmentComment.objects.exists()

    def test_region_golden_140(self, review, attachment, other_client):
        body = (
            f"file_attachment_id={attachment.pk}&text=Too+red&issue_opened=1"
            "&extra_data.x=0&extra_data.y=0&extra_data.width=2&extra_data.height=2"
        )
        response = other_client.post(self.comments_path(review), body, content_type=FORM)
        data = assert_ok(response, 201, mimetype="file-attachment-comment")
        comment = FileAttachmentComment.objects.get()
        assert comment.extra_data == {"x": 0, "y": 0, "width": 2, "height": 2}
        assert data == {
            "stat": "ok",
            "file_attachment_comment": self.golden_comment(comment, public=False),
        }
        assert "Location" not in response

    def test_diff_against_golden_141(self, rr, review, attachment, owner_client, other_client):
        v2 = assert_ok(
            upload(owner_client, rr, caption="v2", attachment_history=attachment.history_id), 201
        )["file_attachment"]
        publish(owner_client, rr)
        response = other_client.post(
            self.comments_path(review),
            {
                "file_attachment_id": attachment.pk,
                "diff_against_file_attachment_id": v2["id"],
                "text": "Compared",
            },
        )
        item = assert_ok(response, 201)["file_attachment_comment"]
        assert "diff_against_file_attachment" not in item
        assert item["links"]["diff_against_file_attachment"] == link(
            f"{rr_path(rr)}file-attachments/{v2['id']}/", title="v2"
        )

    def test_not_review_owner_403(self, review, attachment, owner_client):
        response = owner_client.post(
            self.comments_path(review), {"file_attachment_id": attachment.pk, "text": "x"}
        )
        assert_error(response, 403, 101)

    def test_publish_counts_issue_and_lists_golden_142(
        self, rr, review, attachment, other_client, anon_client, owner_client
    ):
        other_client.post(
            self.comments_path(review),
            {"file_attachment_id": attachment.pk, "text": "Too red", "issue_opened": "1"},
        )
        review_path = f"{rr_path(rr)}reviews/{review.pk}/"
        assert_ok(other_client.put(review_path, "public=1", content_type=FORM))
        stored = ReviewRequest.objects.get(pk=rr.pk)
        assert stored.issue_open_count == 1
        comment = FileAttachmentComment.objects.get()
        per_attachment = f"{rr_path(rr)}file-attachments/{attachment.pk}/file-attachment-comments/"
        body = assert_ok(anon_client.get(per_attachment), mimetype="file-attachment-comments")
        assert body == {
            "stat": "ok",
            "file_attachment_comments": [self.golden_comment(comment, public=True)],
            "links": {"self": link(per_attachment)},
            "total_results": 1,
        }
        # The owner resolves the issue: the counters move.
        item = f"{self.comments_path(review)}{comment.pk}/"
        response = owner_client.put(item, "issue_status=resolved", content_type=FORM)
        assert assert_ok(response)["file_attachment_comment"]["issue_status"] == "resolved"
        stored = ReviewRequest.objects.get(pk=rr.pk)
        assert (stored.issue_open_count, stored.issue_resolved_count) == (0, 1)

    def test_comment_alone_makes_review_publishable(self, rr, review, attachment, other_client):
        review.body_top = ""
        review.save()
        other_client.post(
            self.comments_path(review), {"file_attachment_id": attachment.pk, "text": "x"}
        )
        response = other_client.put(
            f"{rr_path(rr)}reviews/{review.pk}/", "public=1", content_type=FORM
        )
        assert_ok(response)

    def test_draft_comments_hidden_from_others(
        self, review, attachment, other_client, anon_client
    ):
        other_client.post(
            self.comments_path(review), {"file_attachment_id": attachment.pk, "text": "x"}
        )
        per_attachment = (
            f"/api/review-requests/{review.review_request_id}/file-attachments/"
            f"{attachment.pk}/file-attachment-comments/"
        )
        assert assert_ok(anon_client.get(per_attachment))["total_results"] == 0
        assert_error(anon_client.get(self.comments_path(review)), 401, 103)

    def test_reply_inherits_attachment_and_303(
        self, rr, review, attachment, other_client, owner, owner_client
    ):
        other_client.post(
            self.comments_path(review), {"file_attachment_id": attachment.pk, "text": "Hm"}
        )
        assert_ok(
            other_client.put(f"{rr_path(rr)}reviews/{review.pk}/", "public=1", content_type=FORM)
        )
        comment = FileAttachmentComment.objects.get()
        replies = f"{rr_path(rr)}reviews/{review.pk}/replies/"
        reply = assert_ok(owner_client.post(replies, {}), 201)["reply"]
        path = f"{replies}{reply['id']}/file-attachment-comments/"
        created = owner_client.post(path, {"reply_to_id": comment.pk, "text": "Fixed"})
        item = assert_ok(created, 201)["file_attachment_comment"]
        assert item["links"]["reply_to"]["href"].endswith(
            f"/file-attachment-comments/{comment.pk}/"
        )
        assert item["links"]["file_attachment"]["title"] == "Red square"
        again = owner_client.post(path, {"reply_to_id": comment.pk, "text": "Really fixed"})
        assert again.status_code == 303
        assert FileAttachmentComment.objects.filter(reply_to=comment).get().text == "Really fixed"
        bad = owner_client.post(path, {"reply_to_id": 999, "text": "x"})
        assert assert_error(bad, 400, 105)["fields"] == {
            "reply_to_id": ["This is not a valid file attachment comment ID"]
        }


class TestUserFileAttachments:
    PATH = "/api/users/doc/user-file-attachments/"

    def test_create_golden_169(self, owner, owner_client):
        response = owner_client.post(
            self.PATH,
            {
                "caption": "Tool console output",
                "path": SimpleUploadedFile(
                    "tool-output", b"src/app.py:2: E501 line too long\n", "text/plain"
                ),
            },
        )
        body = assert_ok(response, 201, mimetype="user-file-attachment")
        att = FileAttachment.objects.get()
        item = f"{self.PATH}{att.pk}/"
        assert body == {
            "stat": "ok",
            "user_file_attachment": {
                "absolute_url": f"{BASE}/users/doc/file-attachments/{att.uuid}/",
                "caption": "Tool console output",
                "extra_data": {},
                "filename": "tool-output",
                "icon_url": TEXT_ICON,
                "id": att.pk,
                "links": {
                    "delete": link(item, "DELETE"),
                    "self": link(item),
                    "update": link(item, "PUT"),
                },
                "mimetype": "text/plain",
                "thumbnail": (
                    '<div class="file-thumbnail"> <div class="file-thumbnail-clipped">'
                    "<pre>src/app.py:2: E501 line too long</pre></div></div>"
                ),
            },
        }
        # Anyone with the URL reads it (Review Bot links it from status updates).
        from django.test import Client

        download = Client().get(f"/users/doc/file-attachments/{att.uuid}/")
        assert b"".join(download.streaming_content) == b"src/app.py:2: E501 line too long\n"

    def test_create_empty_golden_170(self, owner, owner_client):
        body = assert_ok(owner_client.post(self.PATH, {}), 201)["user_file_attachment"]
        assert (body["filename"], body["icon_url"], body["thumbnail"], body["mimetype"]) == (
            None,
            None,
            None,
            "",
        )

    def test_list_golden_171_and_others_403_golden_172(
        self, owner, owner_client, other_client, anon_client, admin_client
    ):
        owner_client.post(self.PATH, {"caption": "a"})
        body = assert_ok(owner_client.get(self.PATH), mimetype="user-file-attachments")
        assert body["total_results"] == 1
        assert body["links"] == {
            "create": link(self.PATH, "POST"),
            "self": link(self.PATH),
        }
        assert_error(other_client.get(self.PATH), 403, 101)
        assert_error(anon_client.get(self.PATH), 401, 103)
        assert_ok(admin_client.get(self.PATH))
        assert_error(other_client.post(self.PATH, {"caption": "x"}), 403, 101)

    def test_put_path_once_then_409(self, owner, owner_client):
        att = assert_ok(owner_client.post(self.PATH, {}), 201)["user_file_attachment"]
        item = f"{self.PATH}{att['id']}/"
        first = owner_client.put(
            item,
            data=_multipart({"caption": "out"}, ("path", "out.txt", b"hello\n")),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        body = assert_ok(first)["user_file_attachment"]
        assert (body["filename"], body["caption"]) == ("out.txt", "out")
        second = owner_client.put(
            item,
            data=_multipart({}, ("path", "again.txt", b"again\n")),
            content_type=f"multipart/form-data; boundary={BOUNDARY}",
        )
        assert_error(second, 409, 111)
        assert FileAttachment.objects.get().orig_filename == "out.txt"

    def test_delete(self, owner, owner_client, other_client):
        att = assert_ok(owner_client.post(self.PATH, {}), 201)["user_file_attachment"]
        item = f"{self.PATH}{att['id']}/"
        assert_error(other_client.delete(item), 403, 101)
        assert owner_client.delete(item).status_code == 204
        assert not FileAttachment.objects.exists()


BOUNDARY = "rbapitestboundary"


def _multipart(fields: dict[str, str], file: tuple[str, str, bytes]) -> bytes:
    parts = [
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
        for name, value in fields.items()
    ]
    name, filename, data = file
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
        f'filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


class TestHiddenAnchors:
    def test_comment_on_pending_attachment_refused_to_others(self, rr, owner_client, other):
        att = assert_ok(upload(owner_client, rr), 201)["file_attachment"]
        review, _ = review_get_or_create_draft(review_request=rr, user=other)
        path = f"{rr_path(rr)}reviews/{review.pk}/file-attachment-comments/"
        response = logged_in_client(other).post(
            path, {"file_attachment_id": att["id"], "text": "x"}
        )
        body = assert_error(response, 400, 105)
        assert body["fields"] == {"file_attachment_id": ["This is not a valid file attachment ID"]}

    def test_owner_comment_on_pending_attachment_waits_for_its_publish(
        self, rr, owner, owner_client
    ):
        # Review Board 8.1 (found by the replay): the comment names the attachment by its
        # published caption (none yet: the file name, and an untitled link), and a review
        # holding it cannot be published until the review request is.
        att = assert_ok(upload(owner_client, rr, caption="Draft caption"), 201)["file_attachment"]
        review, _ = review_get_or_create_draft(review_request=rr, user=owner)
        base = f"{rr_path(rr)}reviews/{review.pk}/"
        created = assert_ok(
            owner_client.post(
                f"{base}file-attachment-comments/", {"file_attachment_id": att["id"], "text": "x"}
            ),
            201,
        )["file_attachment_comment"]
        assert created["link_text"] == "red.png"
        assert created["links"]["file_attachment"]["title"] == ""
        refused = assert_error(owner_client.put(base, "public=1", content_type=FORM), 500, 225)
        assert refused["err"]["msg"].endswith(
            "because it includes a comment on a file attachment which has not yet been published."
        )
        assert not Review.objects.get(pk=review.pk).public
        publish(owner_client, rr)
        assert_ok(owner_client.put(base, "public=1", content_type=FORM))
        listed = assert_ok(owner_client.get(f"{base}file-attachment-comments/"))
        assert listed["file_attachment_comments"][0]["link_text"] == "Draft caption"

    def test_comment_on_an_attachment_without_review_ui_has_an_empty_thumbnail(
        self, rr, owner, owner_client
    ):
        # Review Board 8.1 (found by the replay): "" for a file without a review UI
        # (octet-stream), null for images and text (rbapi crops no regions).
        review, _ = review_get_or_create_draft(review_request=rr, user=owner)
        path = f"{rr_path(rr)}reviews/{review.pk}/file-attachment-comments/"
        shown = {}
        for name, data, mimetype in (
            ("blob.bin", bytes(range(0, 256, 7)), "application/octet-stream"),
            ("red.png", PNG, "image/png"),
        ):
            att = assert_ok(upload(owner_client, rr, name, data, mimetype), 201)
            created = assert_ok(
                owner_client.post(
                    path, {"file_attachment_id": att["file_attachment"]["id"], "text": "x"}
                ),
                201,
            )
            shown[name] = created["file_attachment_comment"]["thumbnail_html"]
        assert shown == {"blob.bin": "", "red.png": None}

    def test_download_honours_token_policy(self, rr, owner, owner_client):
        from django.test import Client

        from webapi.services import api_token_create

        att = assert_ok(upload(owner_client, rr), 201)["file_attachment"]
        publish(owner_client, rr)
        path = att["absolute_url"].removeprefix(BASE)
        blocked = api_token_create(
            user=owner,
            note="no files",
            policy={"resources": {"file_attachment": {"*": {"block": ["GET"]}}}},
        )
        allowed = api_token_create(user=owner, note="all", policy={})
        assert_error(Client(HTTP_AUTHORIZATION=f"token {blocked.token}").get(path), 403, 101)
        assert Client(HTTP_AUTHORIZATION=f"token {allowed.token}").get(path).status_code == 200


class TestTranscripts:
    """Whole error answers compared with Review Board's transcripts (golden-files/)."""

    def check(self, response, number: int) -> None:
        expected = golden(number)
        assert response.status_code == expected.status
        assert response["Content-Type"] == expected.headers["content-type"]
        assert rsp(response) == expected.body()

    def test_upload_errors_123_124_131(self, rr, owner_client, other_client):
        path = f"{rr_path(rr)}file-attachments/"
        self.check(owner_client.post(path, {"caption": "no file"}), 123)
        self.check(upload(other_client, rr), 124)
        self.check(upload(owner_client, rr, draft=True, attachment_history="99"), 131)

    def test_comment_missing_139(self, rr, other, other_client):
        review, _ = review_get_or_create_draft(review_request=rr, user=other)
        path = f"{rr_path(rr)}reviews/{review.pk}/file-attachment-comments/"
        self.check(other_client.post(path, {}), 139)

    def test_user_file_attachments_other_172(self, owner, other_client):
        self.check(other_client.get("/api/users/doc/user-file-attachments/"), 172)


class TestChangeDescriptionsGolden:
    """Golden 130, 138, 145 replayed: the attachments in ``fields_changed``, each in full as
    its own resource shows it (the diff file attachment as one), removed ones included."""

    NOTES = b"hello notes\nsecond line\n"
    BLOB = b"\x00\x01\x02"
    PNG_V2 = PNG + b"v2"

    @pytest.fixture
    def world(self, owner, other, owner_client):
        from diffs.models import FileDiff
        from reviews.models import Repository

        from ..factories import make_diffset

        repository = Repository.objects.create(name="localgit", path="/srv/git", tool="None")
        rr = make_review_request(
            submitter=owner, repository=repository, people=[other], publish=True
        )
        make_diffset(review_request=rr, revision=1)
        filediff = FileDiff.objects.create(
            diffset=make_diffset(review_request=rr, revision=2),
            index=9,
            source_file="logo.png",
            dest_file="logo.png",
            source_revision="f4ed4802f5c80cecfab9a3c7013b3e67175234e9",
            dest_detail="78d53249624808e8ecf73924438ab3971391ff29",
            binary=True,
            diff=b"",
        )
        response = owner_client.post(
            f"/api/repositories/{repository.pk}/diff-file-attachments/",
            {
                "filediff": str(filediff.pk),
                "path": SimpleUploadedFile("logo.png", PNG, "application/octet-stream"),
            },
        )
        assert_ok(response, 201)
        return {"rr": rr, "repository": repository, "filediff": filediff, "ids": {}}

    def replace(self, world) -> dict[str, str]:
        rr, ids = world["rr"], world["ids"]
        values = {
            "review-requests/5/diffs/2/files/9/": (
                f"review-requests/{rr.pk}/diffs/2/files/{world['filediff'].pk}/"
            ),
            "/api/repositories/1/": f"/api/repositories/{world['repository'].pk}/",
            "review-requests/5/": f"review-requests/{rr.pk}/",
            "97a3a410c9bca540512251c37ce63982edccbed54c6f2e1d06ec717b9f753e29": hashlib.sha256(
                PNG
            ).hexdigest(),
            "de2f192d4ba18e81c4fa7ab9588816995d231bafb2bcbca05d43b172830cf36e": hashlib.sha256(
                self.PNG_V2
            ).hexdigest(),
        }
        for golden_id, att in ids.items():
            values[f"/r/5/file/{golden_id}/"] = f"/r/{rr.pk}/file/{att.pk}/"
            values[f"file-attachments/{golden_id}/"] = f"file-attachments/{att.pk}/"
            values[f'"id": {golden_id},'] = f'"id": {att.pk},'
        for golden_history, golden_id in ((1, 2), (2, 4), (3, 5)):
            if golden_id in ids:
                history = ids[golden_id].history_id
                values[f'"attachment_history_id": {golden_history},'] = (
                    f'"attachment_history_id": {history},'
                )
        return values

    def latest_fields_changed(self, client, rr) -> dict:
        body = assert_ok(client.get(f"{rr_path(rr)}changes/?max-results=1"))
        return body["changes"][0]["fields_changed"]

    def expected(self, world, number: int) -> dict:
        return golden(number).body(self.replace(world))["changes"][0]["fields_changed"]

    def test_golden_130_138_145(self, world, owner_client, anon_client):
        rr, ids = world["rr"], world["ids"]
        ids[1] = FileAttachment.objects.get()
        red = assert_ok(upload(owner_client, rr, caption="Red square"), 201)["file_attachment"]
        ids[2] = FileAttachment.objects.get(pk=red["id"])
        publish(owner_client, rr)
        assert self.latest_fields_changed(anon_client, rr) == self.expected(world, 130)

        v2 = upload(
            owner_client,
            rr,
            data=self.PNG_V2,
            caption="Red square v2",
            attachment_history=red["attachment_history_id"],
        )
        ids[3] = FileAttachment.objects.get(pk=assert_ok(v2, 201)["file_attachment"]["id"])
        notes = upload(owner_client, rr, "notes.txt", self.NOTES, "text/plain", caption="Notes")
        ids[4] = FileAttachment.objects.get(pk=assert_ok(notes, 201)["file_attachment"]["id"])
        blob = upload(
            owner_client, rr, "data.bin", self.BLOB, "application/octet-stream", caption="Blob"
        )
        ids[5] = FileAttachment.objects.get(pk=assert_ok(blob, 201)["file_attachment"]["id"])
        publish(owner_client, rr)
        item = f"{rr_path(rr)}file-attachments/"
        response = owner_client.put(
            f"{item}{ids[4].pk}/", urlencode({"caption": "Notes, renamed"}), content_type=FORM
        )
        assert_ok(response)
        assert owner_client.delete(f"{item}{ids[5].pk}/").status_code == 204
        publish(owner_client, rr)
        assert self.latest_fields_changed(anon_client, rr) == self.expected(world, 138)

        # 144: deleting revision 1 of a history removes both revisions at the publish (145).
        assert owner_client.delete(f"{item}{ids[2].pk}/").status_code == 204
        publish(owner_client, rr)
        assert self.latest_fields_changed(anon_client, rr) == self.expected(world, 145)
        listed = assert_ok(anon_client.get(item))["file_attachments"]
        assert [att["id"] for att in listed] == [ids[4].pk]

    def test_page_of_changes_costs_constant_queries(
        self, world, owner_client, anon_client, settings
    ):
        settings.RBAPI_RESPONSE_CACHE = False
        rr = world["rr"]
        url = f"{rr_path(rr)}changes/?max-results=50"

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(url))
            return len(queries)

        assert_ok(upload(owner_client, rr, caption="first"), 201)
        publish(owner_client, rr)
        one = count()
        for n in range(5):
            att = assert_ok(upload(owner_client, rr, caption=f"c{n}"), 201)["file_attachment"]
            publish(owner_client, rr)
            item = f"{rr_path(rr)}file-attachments/{att['id']}/"
            assert_ok(owner_client.put(item, f"caption=r{n}", content_type=FORM))
            publish(owner_client, rr)
        changes = assert_ok(anon_client.get(url))["changes"]
        assert len(changes) == 11
        assert count() == one

    def test_hidden_review_request_changes_are_not_readable(self, world, owner_client):
        rr = world["rr"]
        assert_ok(upload(owner_client, rr, caption="first"), 201)
        publish(owner_client, rr)
        dopey = logged_in_client(make_user("dopey"))
        world["repository"].public = False
        world["repository"].save()
        assert_error(dopey.get(f"{rr_path(rr)}changes/"), 403, 101)
