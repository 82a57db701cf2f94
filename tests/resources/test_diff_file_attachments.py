"""Diff file attachments: ``/api/repositories/{id}/diff-file-attachments/`` and the file diff's
``dest_attachment`` / ``source_attachment`` links (spec: code-and-files.md §8; golden 102-107,
128, 130).

The transcripts' setting: doc (``owner``) owns review request 5 on repository 1, public diff
revision 2 of which has the binary file diff 9 (``logo.png``); grumpy (``other``) is a
reviewer. Bytes go to a temporary ``MEDIA_ROOT``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from attachments.models import FileAttachment
from diffs.models import DiffSet, FileDiff
from reviews.models import Repository

from ..conftest import assert_error, assert_ok, logged_in_client, make_user
from ..factories import make_diffset, make_review_request
from ..golden_files import golden

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de"
    "0000000c4944415408d763f8cfc000000301010018dd8db00000000049454e44ae426082"
)
CHECKSUM = hashlib.sha256(PNG).hexdigest()
GOLDEN_CHECKSUM = "97a3a410c9bca540512251c37ce63982edccbed54c6f2e1d06ec717b9f753e29"
SOURCE_REVISION = "f4ed4802f5c80cecfab9a3c7013b3e67175234e9"
DEST_DETAIL = "78d53249624808e8ecf73924438ab3971391ff29"


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)
    settings.RBAPI_RESPONSE_CACHE = False
    return tmp_path


def add_filediff(diffset: DiffSet, *, index: int = 9, name: str = "logo.png") -> FileDiff:
    return FileDiff.objects.create(
        diffset=diffset,
        index=index,
        source_file=name,
        dest_file=name,
        source_revision=SOURCE_REVISION,
        dest_detail=DEST_DETAIL,
        binary=True,
        diff=b"Binary files differ\n",
    )


@pytest.fixture
def world(owner, other):
    repository = Repository.objects.create(name="localgit", path="/srv/git", tool="None")
    review_request = make_review_request(
        submitter=owner, repository=repository, people=[other], publish=True
    )
    make_diffset(review_request=review_request, revision=1)
    diffset = make_diffset(review_request=review_request, revision=2)
    filediff = add_filediff(diffset)
    return {
        "repository": repository,
        "review_request": review_request,
        "diffset": diffset,
        "filediff": filediff,
    }


def list_url(world) -> str:
    return f"/api/repositories/{world['repository'].pk}/diff-file-attachments/"


def upload(client, world, *, filediff=None, data: bytes = PNG, name="logo.png", **fields):
    body = {"path": SimpleUploadedFile(name, data, "application/octet-stream"), **fields}
    if filediff is not False:
        body["filediff"] = str((filediff or world["filediff"]).pk)
    return client.post(list_url(world), body)


def swap(world, attachment: FileAttachment | None = None) -> dict[str, str]:
    """The capture's ids and checksum, turned into this test's."""
    rr, filediff = world["review_request"], world["filediff"]
    values = {
        "/api/repositories/1/": f"/api/repositories/{world['repository'].pk}/",
        "review-requests/5/diffs/2/files/9/": (
            f"review-requests/{rr.pk}/diffs/2/files/{filediff.pk}/"
        ),
        GOLDEN_CHECKSUM: CHECKSUM,
    }
    if attachment is not None:
        values.update(
            {
                "/r/5/file/1/": f"/r/{rr.pk}/file/{attachment.pk}/",
                "diff-file-attachments/1/": f"diff-file-attachments/{attachment.pk}/",
                '"id": 1,': f'"id": {attachment.pk},',
            }
        )
    return values


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()]


class TestList:
    def test_empty_golden_102(self, world, owner_client):
        response = owner_client.get(f"{list_url(world)}?max-results=0")
        body = assert_ok(response, mimetype="diff-file-attachments")
        assert response["Item-Content-Type"] == (
            "application/vnd.reviewboard.org.diff-file-attachment+json"
        )
        assert body == golden(102).body(swap(world))

    def test_repository_links_to_it_golden_003(self, world, anon_client):
        body = assert_ok(anon_client.get(f"/api/repositories/{world['repository'].pk}/"))
        assert body["repository"]["links"]["diff_file_attachments"] == {
            "href": f"{BASE}{list_url(world)}",
            "method": "GET",
        }

    def test_filters(self, world, owner_client, anon_client):
        assert_ok(upload(owner_client, world), 201)
        assert_ok(upload(owner_client, world, source_file="1"), 201)
        text = add_filediff(world["diffset"], index=10, name="notes.txt")
        assert_ok(upload(owner_client, world, filediff=text, data=b"hello\n", name="n.txt"), 201)

        def ids(query: str) -> list[tuple[str, str | None]]:
            body = assert_ok(anon_client.get(f"{list_url(world)}{query}"))
            return [
                (item["repository_file_path"], item["repository_revision"])
                for item in body["diff_file_attachments"]
            ]

        assert ids("") == [
            ("logo.png", None),
            ("logo.png", SOURCE_REVISION),
            ("notes.txt", None),
        ]
        assert ids("?repository-file-path=notes.txt") == [("notes.txt", None)]
        assert ids(f"?repository-revision={SOURCE_REVISION}") == [("logo.png", SOURCE_REVISION)]
        assert ids("?mimetype=image/png") == [("logo.png", None), ("logo.png", SOURCE_REVISION)]
        assert ids("?mimetype=text/plain") == [("notes.txt", None)]

    def test_draft_diff_files_show_to_who_may_edit(self, world, owner_client, other_client):
        draft = make_diffset(review_request=world["review_request"], revision=3, public=False)
        filediff = add_filediff(draft, index=0)
        assert_ok(upload(owner_client, world, filediff=filediff), 201)
        attachment = FileAttachment.objects.get()
        assert len(assert_ok(owner_client.get(list_url(world)))["diff_file_attachments"]) == 1
        assert assert_ok(other_client.get(list_url(world)))["diff_file_attachments"] == []
        assert_error(other_client.get(f"{list_url(world)}{attachment.pk}/"), 403, 101)
        download = f"/r/{world['review_request'].pk}/file/{attachment.pk}/download/"
        assert_error(other_client.get(download), 404, 100)
        assert owner_client.get(download).status_code == 200
        # Once the diff is public, everyone who sees the review request sees its files.
        DiffSet.objects.filter(pk=draft.pk).update(public=True)
        assert len(assert_ok(other_client.get(list_url(world)))["diff_file_attachments"]) == 1

    def test_private_review_request_hides_its_files(self, world, owner, owner_client):
        private = make_review_request(
            submitter=owner, repository=world["repository"], publish=False
        )
        filediff = add_filediff(make_diffset(review_request=private, revision=1), index=0)
        assert_ok(upload(owner_client, world, filediff=filediff), 201)
        attachment = FileAttachment.objects.get()
        dopey = logged_in_client(make_user("dopey"))
        assert assert_ok(dopey.get(list_url(world)))["diff_file_attachments"] == []
        assert_error(dopey.get(f"{list_url(world)}{attachment.pk}/"), 403, 101)

    def test_page_costs_constant_queries(self, world, owner_client, anon_client):
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(f"{list_url(world)}?max-results=50"))
            return len(queries)

        assert_ok(upload(owner_client, world), 201)
        one = count()
        for n in range(12):
            filediff = add_filediff(world["diffset"], index=20 + n, name=f"f{n}.png")
            assert_ok(upload(owner_client, world, filediff=filediff), 201)
        body = assert_ok(anon_client.get(f"{list_url(world)}?max-results=50"))
        assert len(body["diff_file_attachments"]) == 13
        assert count() == one


class TestCreate:
    def test_refusals_golden_103_104(self, world, owner_client, other_client, media):
        response = upload(owner_client, world, filediff=False)
        assert (response.status_code, json.loads(response.content)) == (400, golden(103).body())
        response = upload(other_client, world)
        assert (response.status_code, json.loads(response.content)) == (403, golden(104).body())
        assert not FileAttachment.objects.exists()
        assert stored_files(media) == []

    def test_missing_file_and_bad_filediffs(self, world, owner, other, owner_client, anon_client):
        body = assert_error(
            owner_client.post(list_url(world), {"filediff": str(world["filediff"].pk)}), 400, 105
        )
        assert body["fields"] == {"path": ["This field is required"]}
        body = assert_error(owner_client.post(list_url(world), {}), 400, 105)
        assert body["fields"] == {
            "filediff": ["This field is required"],
            "path": ["This field is required"],
        }
        missing = {"filediff": ["FileDiff matching query does not exist."]}
        body = assert_error(upload(owner_client, world, filediff=False, filediff_x="1"), 400, 105)
        assert body["fields"] == {"filediff": ["This field is required"]}
        response = owner_client.post(
            list_url(world),
            {"filediff": "99999", "path": SimpleUploadedFile("a.png", PNG)},
        )
        assert assert_error(response, 400, 105)["fields"] == missing
        response = owner_client.post(
            list_url(world), {"filediff": "abc", "path": SimpleUploadedFile("a.png", PNG)}
        )
        assert assert_error(response, 400, 105)["fields"] == {
            "filediff": ['"abc" is not an integer']
        }
        # A file diff of another repository's review request is not one of this list's.
        elsewhere = Repository.objects.create(name="other", path="/srv/other", tool="None")
        rr = make_review_request(
            submitter=owner, repository=elsewhere, publish=True, people=[other]
        )
        foreign = add_filediff(make_diffset(review_request=rr, revision=1), index=0)
        assert (
            assert_error(upload(owner_client, world, filediff=foreign), 400, 105)["fields"]
            == missing
        )
        # One the caller cannot see does not exist for them: no 403 that would confirm it.
        private = make_review_request(
            submitter=owner, repository=world["repository"], publish=False
        )
        hidden = add_filediff(make_diffset(review_request=private, revision=1), index=0)
        dopey = logged_in_client(make_user("dopey"))
        assert assert_error(upload(dopey, world, filediff=hidden), 400, 105)["fields"] == missing
        assert_error(upload(anon_client, world), 401, 103)
        assert not FileAttachment.objects.exists()

    def test_upload_golden_105(self, world, owner_client, anon_client, media):
        response = upload(owner_client, world)
        body = assert_ok(response, 201, mimetype="diff-file-attachment")
        attachment = FileAttachment.objects.get()
        assert body == golden(105).body(swap(world, attachment))
        assert "Location" not in response
        assert (attachment.repo_path, attachment.repo_revision) == ("logo.png", None)
        assert attachment.added_in_filediff_id == world["filediff"].pk
        assert attachment.review_request_id == world["review_request"].pk
        assert not attachment.added_in_draft and attachment.caption == ""
        download = anon_client.get(body["diff_file_attachment"]["absolute_url"])
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PNG
        # The item answers as the upload did, with the caption it keeps (empty).
        item = assert_ok(anon_client.get(f"{list_url(world)}{attachment.pk}/"))
        want = golden(105).body(swap(world, attachment))["diff_file_attachment"]
        assert item["diff_file_attachment"] == {**want, "caption": ""}
        assert_error(owner_client.put(f"{list_url(world)}{attachment.pk}/", "x=1"), 405, 900)

    def test_duplicate_golden_106_stores_nothing(self, world, owner_client, media):
        assert_ok(upload(owner_client, world), 201)
        before = stored_files(media)
        response = upload(owner_client, world, data=PNG + b"other")
        assert (response.status_code, json.loads(response.content)) == (409, golden(106).body())
        assert FileAttachment.objects.count() == 1
        assert FileAttachment.objects.get().sha256_checksum == CHECKSUM
        assert stored_files(media) == before

    def test_source_side(self, world, owner_client, anon_client):
        body = assert_ok(upload(owner_client, world, source_file="1"), 201)
        item = body["diff_file_attachment"]
        assert item["repository_file_path"] == "logo.png"
        assert item["repository_revision"] == SOURCE_REVISION
        assert item["added_in_filediff"] is None
        response = upload(owner_client, world, source_file="true")
        assert (response.status_code, json.loads(response.content)) == (409, golden(106).body())
        # The dest side is still free.
        assert_ok(upload(owner_client, world, source_file="0"), 201)
        rr = world["review_request"]
        file_item = assert_ok(
            anon_client.get(f"/api/review-requests/{rr.pk}/diffs/2/files/{world['filediff'].pk}/")
        )["file"]
        source, dest = FileAttachment.objects.order_by("pk")
        assert file_item["links"]["source_attachment"]["href"] == (
            f"{BASE}{list_url(world)}{source.pk}/"
        )
        assert (
            file_item["links"]["dest_attachment"]["href"] == f"{BASE}{list_url(world)}{dest.pk}/"
        )


class TestFileDiffLinks:
    def test_file_item_golden_107(self, world, owner_client, anon_client):
        rr, filediff = world["review_request"], world["filediff"]
        url = f"/api/review-requests/{rr.pk}/diffs/2/files/{filediff.pk}/"
        before = assert_ok(anon_client.get(url))["file"]
        assert before["dest_attachment"] is None and before["source_attachment"] is None
        assert "dest_attachment" not in before["links"]
        assert_ok(upload(owner_client, world), 201)
        attachment = FileAttachment.objects.get()
        body = assert_ok(anon_client.get(url), mimetype="file")["file"]
        want = golden(107).body(swap(world, attachment))["file"]
        assert "dest_attachment" not in body
        assert body["links"]["dest_attachment"] == want["links"]["dest_attachment"]
        assert body["source_attachment"] is None
        assert body["patched_sha256"] == want["patched_sha256"] == CHECKSUM

    def test_files_list_costs_constant_queries(self, world, owner_client, anon_client):
        rr = world["review_request"]
        url = f"/api/review-requests/{rr.pk}/diffs/2/files/?max-results=50"

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(anon_client.get(url))
            return len(queries)

        assert_ok(upload(owner_client, world), 201)
        one = count()
        for n in range(8):
            filediff = add_filediff(world["diffset"], index=20 + n, name=f"f{n}.png")
            assert_ok(upload(owner_client, world, filediff=filediff), 201)
            assert_ok(upload(owner_client, world, filediff=filediff, source_file="1"), 201)
        files = assert_ok(anon_client.get(url))["files"]
        assert sum("dest_attachment" in item["links"] for item in files) == 9
        assert count() == one


class TestReviewRequestLists:
    def test_draft_list_shows_it_public_list_does_not_golden_128(
        self, world, owner_client, anon_client
    ):
        assert_ok(upload(owner_client, world), 201)
        attachment = FileAttachment.objects.get()
        rr = world["review_request"]
        # The draft list is empty while no draft exists (the original's too).
        url = f"/api/review-requests/{rr.pk}/draft/file-attachments/"
        assert assert_ok(owner_client.get(url))["draft_file_attachments"] == []
        assert_ok(owner_client.post(f"/api/review-requests/{rr.pk}/draft/"), 201)
        draft = assert_ok(
            owner_client.get(f"/api/review-requests/{rr.pk}/draft/file-attachments/")
        )
        want = golden(128).body(
            {
                "review-requests/5/": f"review-requests/{rr.pk}/",
                "/r/5/file/1/": f"/r/{rr.pk}/file/{attachment.pk}/",
                "file-attachments/1/": f"file-attachments/{attachment.pk}/",
                '"id": 1,': f'"id": {attachment.pk},',
                GOLDEN_CHECKSUM: CHECKSUM,
            }
        )
        assert draft["draft_file_attachments"] == want["draft_file_attachments"][:1]
        for client in (owner_client, anon_client):
            listed = assert_ok(client.get(f"/api/review-requests/{rr.pk}/file-attachments/"))
            assert listed["file_attachments"] == []
        assert_error(
            anon_client.get(f"/api/review-requests/{rr.pk}/file-attachments/{attachment.pk}/"),
            404,
            100,
        )


# --- stored bytes follow their rows; a removed file frees its side; comments link home ---------
BINARY_DIFF = (
    b"diff --git a/logo.png b/logo.png\n"
    b"index " + SOURCE_REVISION.encode() + b".." + DEST_DETAIL.encode() + b" 100644\n"
    b"Binary files a/logo.png and b/logo.png differ\n"
)


def post_diff(client, review_request, data: bytes = BINARY_DIFF):
    """Upload a diff as ``rbt post`` does (it becomes the draft diff, replacing any)."""
    return client.post(
        f"/api/review-requests/{review_request.pk}/diffs/",
        {"path": SimpleUploadedFile("diff", data, "application/octet-stream")},
    )


def publish(client, review_request) -> None:
    assert_ok(
        client.put(
            f"/api/review-requests/{review_request.pk}/draft/", "public=1", content_type=FORM
        )
    )


class TestStoredFilesFollowRows:
    def draft_filediff(self, world, owner_client) -> FileDiff:
        assert_ok(post_diff(owner_client, world["review_request"]), 201)
        return FileDiff.objects.get(diffset__public=False)

    def test_replacing_the_draft_diff_removes_its_files_after_commit(
        self, world, owner_client, media, django_capture_on_commit_callbacks
    ):
        filediff = self.draft_filediff(world, owner_client)
        assert_ok(upload(owner_client, world, filediff=filediff), 201)
        (stored,) = stored_files(media)
        with django_capture_on_commit_callbacks() as callbacks:
            assert_ok(post_diff(owner_client, world["review_request"]), 201)
            # The row went with the old draft diff; the bytes wait for the commit.
            assert not FileAttachment.objects.exists()
            assert stored.is_file()
        for callback in callbacks:
            callback()
        assert stored_files(media) == []
        # The new draft diff's file diff takes a new upload.
        replaced = FileDiff.objects.get(diffset__public=False)
        assert replaced.pk != filediff.pk
        assert_ok(upload(owner_client, world, filediff=replaced), 201)

    def test_discarding_the_draft_removes_its_diff_files(
        self, world, owner_client, media, django_capture_on_commit_callbacks
    ):
        filediff = self.draft_filediff(world, owner_client)
        assert_ok(upload(owner_client, world, filediff=filediff), 201)
        rr = world["review_request"]
        with django_capture_on_commit_callbacks(execute=True):
            assert owner_client.delete(f"/api/review-requests/{rr.pk}/draft/").status_code == 204
        assert not FileAttachment.objects.exists()
        assert stored_files(media) == []

    def test_deleting_the_review_request_removes_its_files(
        self, world, owner_client, admin_client, media, django_capture_on_commit_callbacks
    ):
        assert_ok(upload(owner_client, world), 201)
        assert_ok(upload(owner_client, world, source_file="1"), 201)
        assert len(stored_files(media)) == 2
        rr = world["review_request"]
        with django_capture_on_commit_callbacks(execute=True):
            assert admin_client.delete(f"/api/review-requests/{rr.pk}/").status_code == 204
        assert not FileAttachment.objects.exists()
        assert stored_files(media) == []

    def test_a_rolled_back_delete_keeps_the_bytes(
        self, world, owner_client, media, django_capture_on_commit_callbacks
    ):
        from django.db import transaction

        assert_ok(upload(owner_client, world), 201)
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            world["diffset"].delete()
            raise RuntimeError("the transaction fails after the cascade")
        assert callbacks == []
        assert FileAttachment.objects.count() == 1
        assert len(stored_files(media)) == 1

    def test_a_published_removal_keeps_the_bytes(
        self, world, owner_client, media, django_capture_on_commit_callbacks
    ):
        """A diff file removed by a publish stays (inactive) for the change description."""
        assert_ok(upload(owner_client, world), 201)
        attachment = FileAttachment.objects.get()
        rr = world["review_request"]
        url = f"/api/review-requests/{rr.pk}/draft/file-attachments/{attachment.pk}/"
        assert owner_client.delete(url).status_code == 204
        with django_capture_on_commit_callbacks(execute=True):
            publish(owner_client, rr)
        assert FileAttachment.objects.get().inactive
        assert len(stored_files(media)) == 1


class TestRemovedFileFreesItsSide:
    def remove(self, world, owner_client, attachment_id: int) -> None:
        rr = world["review_request"]
        url = f"/api/review-requests/{rr.pk}/draft/file-attachments/{attachment_id}/"
        assert owner_client.delete(url).status_code == 204
        publish(owner_client, rr)
        assert FileAttachment.objects.get(pk=attachment_id).inactive

    @pytest.mark.parametrize("source_file", ["0", "1"])
    def test_upload_after_removal(self, world, owner_client, anon_client, source_file):
        first = assert_ok(upload(owner_client, world, source_file=source_file), 201)
        self.remove(world, owner_client, first["diff_file_attachment"]["id"])
        body = assert_ok(
            upload(owner_client, world, data=PNG + b"v2", source_file=source_file), 201
        )
        second = body["diff_file_attachment"]
        assert second["id"] != first["diff_file_attachment"]["id"]
        assert second["sha256_checksum"] == hashlib.sha256(PNG + b"v2").hexdigest()
        # The new one is the side's file now; the removed one is listed nowhere.
        rr, filediff = world["review_request"], world["filediff"]
        item = assert_ok(
            anon_client.get(f"/api/review-requests/{rr.pk}/diffs/2/files/{filediff.pk}/")
        )["file"]
        key = "source_attachment" if source_file == "1" else "dest_attachment"
        assert item["links"][key]["href"] == f"{BASE}{list_url(world)}{second['id']}/"
        listed = assert_ok(anon_client.get(list_url(world)))["diff_file_attachments"]
        assert [entry["id"] for entry in listed] == [second["id"]]
        # And it holds the side as the first did.
        response = upload(owner_client, world, data=PNG + b"v3", source_file=source_file)
        assert (response.status_code, json.loads(response.content)) == (409, golden(106).body())
        assert FileAttachment.objects.filter(inactive=False).count() == 1

    def test_the_database_still_refuses_two_active_files_per_side(self, world, owner_client):
        from django.db import IntegrityError, transaction

        assert_ok(upload(owner_client, world), 201)
        assert_ok(upload(owner_client, world, source_file="1"), 201)
        dest, source = FileAttachment.objects.order_by("pk")
        for original in (dest, source):
            copy = FileAttachment(
                review_request=original.review_request,
                repository=original.repository,
                repo_path=original.repo_path,
                repo_revision=original.repo_revision,
                added_in_filediff=original.added_in_filediff,
            )
            with pytest.raises(IntegrityError), transaction.atomic():
                copy.save()
            # Beside an inactive one, the same row is allowed.
            FileAttachment.objects.filter(pk=original.pk).update(inactive=True)
            copy.save()


class TestCommentsOnDiffFiles:
    """Comments on a diff file attachment link it under its repository, as Review Board 8.1
    does (observed: ``file_attachment`` and ``diff_against_file_attachment`` point to
    ``/api/repositories/1/diff-file-attachments/1/``); the review request's own attachment
    list never shows it, so a link there would 404."""

    @pytest.fixture
    def commented(self, world, other, owner_client, other_client):
        from reviews.services import review_get_or_create_draft

        assert_ok(upload(owner_client, world), 201)
        attachment = FileAttachment.objects.get()
        rr = world["review_request"]
        review, _ = review_get_or_create_draft(review_request=rr, user=other)
        reviews = f"/api/review-requests/{rr.pk}/reviews/"
        comment = assert_ok(
            other_client.post(
                f"{reviews}{review.pk}/file-attachment-comments/",
                {
                    "file_attachment_id": str(attachment.pk),
                    "diff_against_file_attachment_id": str(attachment.pk),
                    "text": "The logo is blurry",
                    "issue_opened": "1",
                },
            ),
            201,
        )["file_attachment_comment"]
        assert_ok(other_client.put(f"{reviews}{review.pk}/", "public=1", content_type=FORM))
        reply = assert_ok(owner_client.post(f"{reviews}{review.pk}/replies/", {}), 201)["reply"]
        replies = f"{reviews}{review.pk}/replies/{reply['id']}/file-attachment-comments/"
        reply_comment = assert_ok(
            owner_client.post(replies, {"reply_to_id": str(comment["id"]), "text": "Fixed"}),
            201,
        )["file_attachment_comment"]
        assert_ok(
            owner_client.put(
                f"{reviews}{review.pk}/replies/{reply['id']}/", "public=1", content_type=FORM
            )
        )
        return {
            "attachment": attachment,
            "review": review,
            "comment": comment,
            "reply_comment": reply_comment,
            "answers": [
                f"{reviews}{review.pk}/file-attachment-comments/",
                f"{reviews}{review.pk}/file-attachment-comments/{comment['id']}/",
                f"{reviews}{review.pk}/replies/{reply['id']}/file-attachment-comments/",
                f"{replies}{reply_comment['id']}/",
                f"/api/review-requests/{rr.pk}/file-attachments/{attachment.pk}/"
                "file-attachment-comments/",
                f"/api/file-attachment-comments/?review-request-id={rr.pk}",
            ],
        }

    def test_links_point_under_the_repository(self, world, commented):
        attachment = commented["attachment"]
        want = {
            "href": f"{BASE}{list_url(world)}{attachment.pk}/",
            "method": "GET",
            "title": "",  # its caption, as a file diff's dest_attachment link (golden 107)
        }
        for comment in (commented["comment"], commented["reply_comment"]):
            assert comment["links"]["file_attachment"] == want
            assert comment["links"]["diff_against_file_attachment"] == want
            assert comment["link_text"] == "logo.png"
            assert "diff_against_file_attachment" not in comment

    @pytest.mark.parametrize("viewer", ["owner_client", "other_client", "anon_client"])
    def test_every_link_resolves(self, world, commented, viewer, request):
        client = request.getfixturevalue(viewer)
        followed = set()
        for answer in commented["answers"]:
            body = assert_ok(client.get(answer))
            hrefs = list(_hrefs(body))
            assert f"{BASE}{list_url(world)}{commented['attachment'].pk}/" in hrefs
            for href in hrefs:
                if href in followed:
                    continue
                followed.add(href)
                response = client.get(href.removeprefix(BASE))
                assert response.status_code == 200, (answer, href, response.content[:200])
        assert len(followed) >= 9

    def test_per_attachment_list_answers_for_diff_files_only_when_visible(
        self, world, owner, other, commented, anon_client
    ):
        rr, attachment = world["review_request"], commented["attachment"]
        url = f"/api/review-requests/{rr.pk}/file-attachments/{attachment.pk}/"
        listed = assert_ok(anon_client.get(f"{url}file-attachment-comments/"))
        assert [item["text"] for item in listed["file_attachment_comments"]] == [
            "The logo is blurry",
            "Fixed",
        ]
        # The attachment itself stays out of the review request's own list and item.
        assert_error(anon_client.get(url), 404, 100)
        # Under another review request, or once removed, it is not there.
        elsewhere = make_review_request(submitter=owner, people=[other], publish=True)
        assert_error(
            anon_client.get(
                f"/api/review-requests/{elsewhere.pk}/file-attachments/{attachment.pk}/"
                "file-attachment-comments/"
            ),
            404,
            100,
        )
        FileAttachment.objects.filter(pk=attachment.pk).update(inactive=True)
        assert_error(anon_client.get(f"{url}file-attachment-comments/"), 404, 100)


def _hrefs(value):
    """Every ``href`` anywhere in an answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "href" and isinstance(item, str):
                yield item
            else:
                yield from _hrefs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _hrefs(item)
