"""``…/files/{id}/original-file/`` and ``…/patched-file/``, public and draft: the two sides of
a file as Review Board serves them (spec: code-and-files.md §5.2, §4.3; golden 064-068, 079)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from diffs.contents import PatchError, apply_diff
from diffs.models import FileDiff
from diffs.parser import parse_diff
from reviews.models import Repository

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request
from ..golden_files import GOLDEN_DIR, golden
from .test_diffs import _git

pytestmark = pytest.mark.django_db
BASE = "http://testserver"


def golden_bytes(number: int) -> bytes:
    """A transcript's response body, byte for byte (its Content-Length says where it ends)."""
    (path,) = GOLDEN_DIR.glob(f"{number:03d}-*.txt")
    response = path.read_bytes().split(b"### RESPONSE\n", 1)[1]
    body = response.split(b"\n\n", 1)[1]
    return body[: int(golden(number).headers["content-length"])]


def test_apply_diff_reproduces_golden_064_to_065():
    # 053 is revision 2's uploaded diff, whose src/app.py 064/065 show.
    revision_2 = golden_bytes(53)
    (app,) = [part for part in parse_diff(revision_2) if part.source_file == "src/app.py"]
    original, patched = golden_bytes(64), golden_bytes(65)
    assert hashlib.sha256(original).hexdigest() == golden(64).headers["etag"]
    assert apply_diff(original, app.diff) == patched
    assert hashlib.sha256(patched).hexdigest() == golden(65).headers["etag"]
    # A context line that is not in the original: the diff does not apply.
    with pytest.raises(PatchError):
        apply_diff(original.replace(b"return 15", b"return 0"), app.diff)


def test_apply_diff_handles_missing_final_newline_and_pure_insertions():
    diff = b"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
    assert apply_diff(b"a\nb", diff) == b"a\nc\n"
    diff = b"--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+z\n\\ No newline at end of file\n"
    assert apply_diff(b"a\n", diff) == b"z"
    diff = b"--- a/f\n+++ b/f\n@@ -1,0 +2,1 @@\n+new\n"
    assert apply_diff(b"one\ntwo\n", diff) == b"one\nnew\ntwo\n"
    assert apply_diff(b"", b"--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n") == b"x\n"


@pytest.fixture
def checkout(tmp_path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "init", "-q")
    (work / "app.py").write_bytes(b"one\r\ntwo\r\nthree\r\n")
    (work / "gone.txt").write_text("bye\n")
    (work / "old.txt").write_text("a\nb\nc\n")
    (work / "logo.png").write_bytes(b"\x89PNG\r\n\x00\x01")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "base")
    return work


def _post(client, review_request, diff: bytes, parent: bytes | None = None):
    fields = {"path": SimpleUploadedFile("diff", diff)}
    if parent is not None:
        fields["parent_diff_path"] = SimpleUploadedFile("parent", parent)
    return client.post(f"/api/review-requests/{review_request.pk}/diffs/", fields)


@pytest.fixture
def posted(checkout, owner, other, owner_client):
    """A draft diff of a Git repository: a modified CRLF file, an added, a deleted, a renamed
    and a binary file; returns (review request, {dest path: file diff})."""
    repository = Repository.objects.create(name="work", path=str(checkout))
    (checkout / "app.py").write_bytes(b"one\r\n2\r\nthree\r\n")
    (checkout / "new.txt").write_text("new\n")
    (checkout / "logo.png").write_bytes(b"\x89PNG\r\n\x00\x02")
    (checkout / "old.txt").write_text("a\nb\nc\nd\n")
    _git(checkout, "rm", "-q", "gone.txt")
    _git(checkout, "mv", "old.txt", "renamed.txt")
    _git(checkout, "add", "-A")
    diff = _git(checkout, "diff", "--cached", "--full-index", "--binary", "-M").encode()
    review_request = make_review_request(submitter=owner, repository=repository, people=[other])
    assert_ok(_post(owner_client, review_request, diff), 201)
    return review_request, {f.dest_file: f for f in FileDiff.objects.all()}


def _url(review_request, filediff, side: str, *, draft: bool = False) -> str:
    prefix = "draft/" if draft else ""
    return (
        f"/api/review-requests/{review_request.pk}/{prefix}diffs/1/files/{filediff.pk}/"
        f"{side}-file/"
    )


def test_draft_sides_headers_and_access(posted, owner_client, other_client, anon_client):
    review_request, files = posted
    app = files["app.py"]
    url = _url(review_request, app, "original", draft=True)
    response = owner_client.get(url)
    assert response.status_code == 200
    # Newline-normalised, text/plain, named as in the diff, hashed as Review Board does.
    assert response.content == b"one\ntwo\nthree\n"
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == "inline; filename=app.py"
    assert response["ETag"] == hashlib.sha256(b"one\ntwo\nthree\n").hexdigest()
    assert response.has_header("Last-Modified")
    assert owner_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    patched = owner_client.get(_url(review_request, app, "patched", draft=True))
    assert (patched.status_code, patched.content) == (200, b"one\n2\nthree\n")
    # The draft's files are the owner's (and admins') only; the public route has no draft.
    assert_error(other_client.get(url), 403, 101)
    assert_error(anon_client.get(url), 401, 103)
    assert_error(owner_client.get(_url(review_request, app, "original")), 404, 100)
    # The draft file diff links to its sides.
    item = assert_ok(owner_client.get(url.rsplit("original-file/", 1)[0]))["file"]["links"]
    assert item["original_file"] == {"href": f"{BASE}{url}", "method": "GET"}
    assert item["patched_file"]["href"] == f"{BASE}{url.replace('original', 'patched')}"


def test_public_sides_added_deleted_renamed_binary(posted, owner_client, anon_client):
    review_request, files = posted
    assert_ok(
        owner_client.put(
            f"/api/review-requests/{review_request.pk}/draft/",
            "public=1",
            content_type="application/x-www-form-urlencoded",
        )
    )

    def get(name: str, side: str):
        return anon_client.get(_url(review_request, files[name], side))

    # 066/067: the missing side of an added or a deleted file.
    assert get("new.txt", "original").json() == golden(66).body()
    assert_error(get("new.txt", "original"), 404, 100)
    assert get("new.txt", "patched").content == b"new\n"
    assert get("gone.txt", "original").content == b"bye\n"
    assert_error(get("gone.txt", "patched"), 404, 100)
    # A rename: each side named by its own path.
    renamed = get("renamed.txt", "patched")
    assert (renamed.content, renamed["Content-Disposition"]) == (
        b"a\nb\nc\nd\n",
        "inline; filename=renamed.txt",
    )
    assert get("renamed.txt", "original")["Content-Disposition"] == "inline; filename=old.txt"
    # A binary original is served (normalised, as text/plain); 068: its patched side is 221.
    logo = get("logo.png", "original")
    assert (logo.status_code, logo["Content-Type"]) == (200, "text/plain")
    assert logo.content == b"\x89PNG\n\x00\x01"
    response = get("logo.png", "patched")
    assert_error(response, 500, 221)
    assert response.json() == golden(68).body()
    # The public file diff links to both sides (as 057 shows).
    links = assert_ok(anon_client.get(_url(review_request, files["app.py"], "x")[:-7]))["file"][
        "links"
    ]
    assert set(links) >= {"original_file", "patched_file", "diff_comments"}


def test_missing_blob_and_no_repository_are_221(posted, owner_client):
    review_request, files = posted
    app = files["app.py"]
    FileDiff.objects.filter(pk=app.pk).update(source_revision="0" * 40)
    assert_error(owner_client.get(_url(review_request, app, "original", draft=True)), 500, 221)
    Repository.objects.filter(pk=review_request.repository_id).update(tool="None")
    new = files["new.txt"]
    # An added file needs no repository; a modified one does.
    assert owner_client.get(_url(review_request, new, "patched", draft=True)).content == b"new\n"
    assert_error(owner_client.get(_url(review_request, app, "patched", draft=True)), 500, 221)


def test_patched_file_is_cached_by_content(posted, owner_client, monkeypatch):
    review_request, files = posted
    url = _url(review_request, files["app.py"], "patched", draft=True)
    cache.clear()
    first = owner_client.get(url).content
    calls = []
    monkeypatch.setattr("diffs.contents.apply_diff", lambda *args: calls.append(args))
    assert owner_client.get(url).content == first == b"one\n2\nthree\n"
    assert calls == []


def test_original_with_parent_diff_golden_079(checkout, owner, other, owner_client):
    repository = Repository.objects.create(name="work", path=str(checkout))
    (checkout / "parent.txt").write_text("parent line\n")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-q", "-m", "parent (not pushed)")
    parent = _git(checkout, "diff", "--full-index", "HEAD~1", "HEAD").encode()
    (checkout / "parent.txt").write_text("parent line\nchild line\n")
    main = _git(checkout, "diff", "--full-index").encode()
    _git(checkout, "reset", "-q", "--hard", "HEAD~1")
    review_request = make_review_request(submitter=owner, repository=repository, people=[other])
    assert_ok(_post(owner_client, review_request, main, parent), 201)
    filediff = FileDiff.objects.get()
    response = owner_client.get(_url(review_request, filediff, "original", draft=True))
    assert response.content == golden_bytes(79) == b"parent line\n"
    assert response["ETag"] == golden(79).headers["etag"]
    assert response["Content-Disposition"] == golden(79).headers["content-disposition"]
    patched = owner_client.get(_url(review_request, filediff, "patched", draft=True))
    assert patched.content == b"parent line\nchild line\n"
