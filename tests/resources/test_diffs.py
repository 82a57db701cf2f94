"""Diff validation, upload and reading: ``/api/validation/diffs/``,
``…/review-requests/{id}/diffs/`` and ``…/draft/diffs/`` with their ``files/``, compared with
Review Board's transcripts (spec: code-and-files.md §2, §4, §5; golden files 021-057)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.http import http_date

from diffs.models import DiffSet, FileDiff
from diffs.parser import parse_diff
from reviews.models import Repository

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request
from ..golden_files import GOLDEN_DIR, drop_links, golden

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
# Not served yet (each is a later step of the code-and-files issue): links to them would 404.
UNSERVED: tuple[str, ...] = ()


def golden_upload(number: int, field: str = "path") -> bytes:
    """The bytes of a file part of a transcript's multipart request."""
    (path,) = GOLDEN_DIR.glob(f"{number:03d}-*.txt")
    request = path.read_bytes().split(b"### RESPONSE", 1)[0]
    marker = f'name="{field}"; filename='.encode()
    part = request.split(marker, 1)[1]
    body = re.split(rb"\r?\n\r?\n", part, maxsplit=1)[1]
    return re.split(rb"\r?\n--=+rbapi0golden0boundary==", body, maxsplit=1)[0]


GOLDEN_DIFF = golden_upload(38)


def expected(number: int, replace: dict[str, str]):
    return drop_links(golden(number).body(replace), *UNSERVED)


@pytest.fixture
def review_request(owner, other):
    # Tool "None": the transcripts' blobs are not in any repository here, so nothing is
    # checked against one (the Git checks have their own tests below).
    repository = Repository.objects.create(
        name="localgit", path="/srv/refserver/gitrepo", tool="None"
    )
    return make_review_request(
        submitter=owner, repository=repository, people=[other], commit_id="c1"
    )


def upload(
    client, review_request, data: bytes, *, url: str = "diffs/", name: str = "diff", **extra
):
    fields = {"path": SimpleUploadedFile(name, data, "application/octet-stream"), **extra}
    return client.post(f"/api/review-requests/{review_request.pk}/{url}", fields)


def ids(review_request, diffset: DiffSet | None = None, first_filediff: int | None = None):
    """Map the capture's ids to this test's: review request 5, diff set 3, file diffs 2-6."""
    replace = {
        "/review-requests/5/": f"/review-requests/{review_request.pk}/",
        "/api/repositories/1/": f"/api/repositories/{review_request.repository_id}/",
    }
    if diffset is not None:
        replace['"id": 3, "links"'] = f'"id": {diffset.pk}, "links"'
    if first_filediff is not None:
        for offset in range(5):
            capture, ours = 2 + offset, first_filediff + offset
            replace[f'"id": {capture}, "links"'] = f'"id": {ours}, "links"'
            replace[f"/files/{capture}/"] = f"/files/{ours}/"
    return replace


def test_parser_reads_git_headers_binary_and_renames():
    files = parse_diff(GOLDEN_DIFF)
    assert [(f.source_file, f.dest_file, f.status, f.binary) for f in files] == [
        ("added.txt", "added.txt", "modified", False),
        ("del.txt", "del.txt", "deleted", False),
        ("logo.png", "logo.png", "modified", True),
        ("old/name.txt", "new_name.txt", "moved", False),
        ("src/app.py", "src/app.py", "modified", False),
    ]
    assert files[0].source_revision == "PRE-CREATION"
    # Each file keeps its own bytes, which join back into the upload.
    assert b"".join(f.diff for f in files) == GOLDEN_DIFF


def test_upload_golden_038_and_draft_lists(
    review_request, owner_client, other_client, anon_client
):
    url = f"/api/review-requests/{review_request.pk}/"
    # 037: nothing yet.
    body = assert_ok(owner_client.get(f"{url}diffs/?only-fields="), mimetype="diffs")
    assert body == golden(37).body(ids(review_request))
    response = upload(
        owner_client,
        review_request,
        GOLDEN_DIFF,
        base_commit_id="4c85f00eef4dce3fdcfed74fdf0d00b53666565f",
    )
    body = assert_ok(response, 201, mimetype="diff")
    diffset = DiffSet.objects.get()
    want = expected(38, ids(review_request, diffset))
    want["diff"]["timestamp"] = body["diff"]["timestamp"]
    assert body == want
    assert not response.has_header("Location")
    assert (bytes(diffset.diff), diffset.public, diffset.revision) == (GOLDEN_DIFF, False, 1)
    # 040: the draft diff is never in the public list, not even for the owner.
    assert assert_ok(owner_client.get(f"{url}diffs/")) == golden(40).body(ids(review_request))
    # 039: the draft list has it, for the owner only (041: others 403, anonymous 401).
    listed = assert_ok(owner_client.get(f"{url}draft/diffs/"), mimetype="diffs")
    assert listed["diffs"] == [body["diff"]]
    assert_error(other_client.get(f"{url}draft/diffs/1/"), 403, 101)
    assert_error(other_client.get(f"{url}draft/diffs/"), 403, 101)
    assert_error(anon_client.get(f"{url}draft/diffs/"), 401, 103)


def test_draft_files_golden_042_043(review_request, owner_client):
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    diffset = DiffSet.objects.get()
    first = FileDiff.objects.filter(diffset=diffset).order_by("pk").first().pk
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/1/files/"
    body = assert_ok(owner_client.get(url), mimetype="files")
    assert body == expected(42, ids(review_request, first_filediff=first))
    binary = assert_ok(owner_client.get(f"{url}?binary=1"))
    assert binary == expected(43, ids(review_request, first_filediff=first))
    assert [f["dest_file"] for f in assert_ok(owner_client.get(f"{url}?binary=0"))["files"]] == [
        "added.txt",
        "del.txt",
        "new_name.txt",
        "src/app.py",
    ]
    # 044: Review Board's HTML 500 on a non-integer; rbapi says 105.
    body = assert_error(owner_client.get(f"{url}?binary=true"), 400, 105)
    assert body["fields"] == {"binary": ['"true" is not an integer']}


def test_upload_refusals(review_request, owner_client, other_client, anon_client, settings):
    url = f"/api/review-requests/{review_request.pk}/diffs/"
    # 032-034: not a diff, empty, missing.
    for data, message in (
        (b"hello\n", "This does not appear to be a git diff"),
        (b"", "The submitted file is empty."),
    ):
        body = assert_error(upload(owner_client, review_request, data), 400, 105)
        assert body == {**golden(32 if data else 33).body(), "fields": {"path": [message]}}
    body = assert_error(owner_client.post(url, {"path": "not a file"}), 400, 105)
    assert body["fields"] == {"path": ["This field is required."]}
    assert json.loads(owner_client.post(url, {}).content) == golden(34).body()
    # 035: someone else's review request.
    response = upload(other_client, review_request, GOLDEN_DIFF)
    assert (response.status_code, json.loads(response.content)) == (403, golden(35).body())
    assert_error(upload(anon_client, review_request, GOLDEN_DIFF), 401, 103)
    # Too large: 220 with the limit.
    settings.RBAPI_MAX_DIFF_BYTES = 100
    body = assert_error(upload(owner_client, review_request, GOLDEN_DIFF), 400, 220)
    assert body["max_size"] == 100
    assert not DiffSet.objects.exists()


def test_upload_without_repository_102(owner, owner_client):
    review_request = make_review_request(submitter=owner)
    response = upload(owner_client, review_request, GOLDEN_DIFF)
    assert (response.status_code, json.loads(response.content)) == (400, golden(36).body())


def test_upload_replaces_the_draft_diff_then_publish(review_request, owner_client, anon_client):
    url = f"/api/review-requests/{review_request.pk}/"
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    again = assert_ok(upload(owner_client, review_request, GOLDEN_DIFF, name="second.diff"), 201)
    # 080: same revision, one draft diff.
    assert (again["diff"]["revision"], again["diff"]["name"]) == (1, "second.diff")
    assert DiffSet.objects.count() == 1
    # No latest_diff link before a public diff exists.
    assert "latest_diff" not in assert_ok(owner_client.get(url))["review_request"]["links"]
    response = owner_client.put(
        f"{url}draft/", "public=1", content_type="application/x-www-form-urlencoded"
    )
    assert_ok(response)
    diffset = DiffSet.objects.get()
    assert diffset.public
    links = assert_ok(anon_client.get(url))["review_request"]["links"]
    assert links["latest_diff"] == {"href": f"{BASE}{url}diffs/1/", "method": "GET"}
    listed = assert_ok(anon_client.get(f"{url}diffs/"))
    assert [d["revision"] for d in listed["diffs"]] == [1]
    assert listed["diffs"][0]["links"]["self"]["href"] == f"{BASE}{url}diffs/1/"
    # A second revision: publish records ``diff`` in the change description.
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    assert DiffSet.objects.get(public=False).revision == 2
    assert_ok(
        owner_client.put(
            f"{url}draft/", "public=1", content_type="application/x-www-form-urlencoded"
        )
    )
    change = review_request.changedescs.get()
    latest = DiffSet.objects.get(revision=2)
    assert change.fields_changed["diff"] == {
        "added": [["Diff r2", f"/r/{review_request.pk}/diff/2/", latest.pk]]
    }
    assert assert_ok(anon_client.get(url))["review_request"]["links"]["latest_diff"][
        "href"
    ].endswith("/diffs/2/")


def test_diff_item_json_and_patch_golden_052_055(review_request, owner_client, anon_client):
    url = f"/api/review-requests/{review_request.pk}/"
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF, name="ab.diff"), 201)
    assert_ok(
        owner_client.put(
            f"{url}draft/", "public=1", content_type="application/x-www-form-urlencoded"
        )
    )
    diffset = DiffSet.objects.get()
    json_answer = anon_client.get(f"{url}diffs/1/")
    body = assert_ok(json_answer, mimetype="diff")
    # The JSON item carries the diff's time as Last-Modified too (golden-files 052), and so
    # does the same answer served again by the response cache.
    assert json_answer["Last-Modified"] == http_date(diffset.timestamp.timestamp())
    cached = anon_client.get(f"{url}diffs/1/")
    assert (cached.content, cached["Last-Modified"]) == (
        json_answer.content,
        json_answer["Last-Modified"],
    )
    file_answer = anon_client.get(f"{url}diffs/1/files/{diffset.files.first().pk}/")
    assert file_answer["Last-Modified"] == json_answer["Last-Modified"]
    assert not anon_client.get(f"{url}diffs/1/files/").has_header("Last-Modified")
    assert body["diff"]["links"]["files"] == {
        "href": f"{BASE}{url}diffs/1/files/",
        "method": "GET",
    }
    assert body["diff"]["links"]["repository"]["title"] == "localgit"
    assert set(body["diff"]) == set(golden(52).body()["diff"])
    response = anon_client.get(f"{url}diffs/1/", HTTP_ACCEPT="text/x-patch")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/x-patch"
    assert response["Content-Disposition"] == "inline; filename=ab.diff"
    assert response.content == GOLDEN_DIFF == bytes(diffset.diff)
    etag = response["ETag"]
    assert len(etag) == 64
    again = anon_client.get(f"{url}diffs/1/", HTTP_ACCEPT="text/x-patch", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    # A 304 names neither the type nor the time (golden-files 054).
    assert not again.has_header("Content-Type") and not again.has_header("Last-Modified")
    # An If-Modified-Since not older than the diff is a 304 too; an older one is not.
    since = response["Last-Modified"]
    headers = {"HTTP_ACCEPT": "text/x-patch", "HTTP_IF_MODIFIED_SINCE": since}
    assert anon_client.get(f"{url}diffs/1/", **headers).status_code == 304
    headers["HTTP_IF_MODIFIED_SINCE"] = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert anon_client.get(f"{url}diffs/1/", **headers).status_code == 200
    # JSON is still JSON after a patch was served (the response cache keeps them apart).
    assert_ok(anon_client.get(f"{url}diffs/1/"), mimetype="diff")
    # A file's own part, named after its source file.
    filediff = FileDiff.objects.get(dest_file="new_name.txt")
    response = anon_client.get(f"{url}diffs/1/files/{filediff.pk}/", HTTP_ACCEPT="text/x-patch")
    assert response["Content-Disposition"] == "inline; filename=old/name.txt.patch"
    assert response.content == bytes(filediff.diff)
    # 055 and a file of another revision: 404.
    response = anon_client.get(f"{url}diffs/9/")
    assert (response.status_code, json.loads(response.content)) == (404, golden(55).body())
    assert_error(anon_client.get(f"{url}diffs/1/files/999999/"), 404, 100)


def test_update_extra_data_only_and_no_delete(review_request, owner_client, other_client):
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/1/"
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    body = assert_ok(
        owner_client.put(
            url, "extra_data.ci=ok&name=renamed", content_type="application/x-www-form-urlencoded"
        )
    )
    assert (body["diff"]["extra_data"], body["diff"]["name"]) == ({"ci": "ok"}, "diff")
    assert_error(
        other_client.put(url, "extra_data.ci=x", content_type="application/x-www-form-urlencoded"),
        403,
        101,
    )
    response = owner_client.delete(url)
    assert_error(response, 405, 900)
    # Every method of the resource, its list's POST too (golden 075).
    assert response["Allow"] == "GET, POST, PUT"
    filediff = FileDiff.objects.first()
    body = assert_ok(
        owner_client.put(
            f"{url}files/{filediff.pk}/",
            "extra_data.x=1",
            content_type="application/x-www-form-urlencoded",
        )
    )
    assert (
        body["file"]["extra_data"]["x"] == 1 and body["file"]["extra_data"]["is_symlink"] is False
    )


def test_private_repository_hides_diffs(review_request, owner_client, other_client):
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    assert_ok(
        owner_client.put(
            f"/api/review-requests/{review_request.pk}/draft/",
            "public=1",
            content_type="application/x-www-form-urlencoded",
        )
    )
    assert_ok(other_client.get(f"/api/review-requests/{review_request.pk}/diffs/1/"))
    repository = review_request.repository
    repository.public = False
    repository.save()
    assert_error(other_client.get(f"/api/review-requests/{review_request.pk}/diffs/1/"), 403, 101)
    assert_error(other_client.get(f"/api/review-requests/{review_request.pk}/diffs/"), 403, 101)


def _added_files(count: int) -> bytes:
    return b"".join(
        (
            f"diff --git a/f{n}.txt b/f{n}.txt\nnew file mode 100644\n"
            f"index 0000000..e69de29\n--- /dev/null\n+++ b/f{n}.txt\n@@ -0,0 +1 @@\n+x\n"
        ).encode()
        for n in range(count)
    )


def test_file_list_page_cost_is_constant(
    review_request, owner_client, django_assert_max_num_queries, settings
):
    # Measures building the page, not the response cache.
    settings.RBAPI_RESPONSE_CACHE = False
    one, many = _added_files(1), _added_files(25)
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/1/files/"
    assert_ok(upload(owner_client, review_request, one), 201)
    with django_assert_max_num_queries(50) as small:
        assert len(assert_ok(owner_client.get(url))["files"]) == 1
    # Counted now: the next request resets the connection's query log.
    count = len(small.captured_queries)
    assert_ok(upload(owner_client, review_request, many), 201)
    with django_assert_max_num_queries(count):
        assert len(assert_ok(owner_client.get(url))["files"]) == 25


# --- against a real Git repository -------------------------------------------------------------
def _git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@x",
        "PATH": "/usr/bin:/bin",
        "HOME": str(cwd),
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def git_checkout(tmp_path) -> Path:
    checkout = tmp_path / "work"
    checkout.mkdir()
    _git(checkout, "init", "-q")
    (checkout / "app.py").write_text("print('one')\n")
    (checkout / "old.txt").write_text("a\nb\nc\n")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-q", "-m", "base")
    return checkout


def _changes(checkout: Path) -> bytes:
    (checkout / "app.py").write_text("print('two')\n")
    (checkout / "new.txt").write_text("new\n")
    _git(checkout, "mv", "old.txt", "renamed.txt")
    _git(checkout, "add", "-A")
    return _git(checkout, "diff", "--cached", "--full-index", "--binary", "-M").encode()


def test_git_repository_upload_and_validation(
    git_checkout, owner, other, owner_client, admin_client
):
    repository = Repository.objects.create(name="work", path=str(git_checkout))
    diff = _changes(git_checkout)
    validation = "/api/validation/diffs/"
    # 021/022: the links.
    root = assert_ok(owner_client.get("/api/validation/"), mimetype="validation")
    assert root == golden(21).body()
    assert assert_ok(owner_client.get(validation), mimetype="diff-validation") == golden(22).body()
    ok = owner_client.post(
        validation, {"repository": "work", "path": SimpleUploadedFile("d", diff)}
    )
    assert json.loads(ok.content) == golden(23).body()
    body = assert_error(
        owner_client.post(validation, {"repository": "99", "path": SimpleUploadedFile("d", diff)}),
        400,
        206,
    )
    assert body == golden(27).body()
    body = assert_error(
        owner_client.post(
            validation,
            {"repository": str(repository.pk), "path": SimpleUploadedFile("d", b"nope\n")},
        ),
        400,
        224,
    )
    assert body == golden(24).body()
    assert_error(
        owner_client.post(
            validation, {"repository": "work", "path": SimpleUploadedFile("d", b"")}
        ),
        400,
        219,
    )
    body = assert_error(owner_client.post(validation, {}), 400, 105)
    assert body["fields"] == {
        "repository": ["This field is required"],
        "path": ["This field is required"],
    }
    # A blob the repository does not have: 207 naming it (validation), 105 on path (upload).
    broken = diff.replace(diff.split(b"index ", 1)[1][:40], b"1" * 40, 1)
    body = assert_error(
        owner_client.post(
            validation, {"repository": "work", "path": SimpleUploadedFile("d", broken)}
        ),
        400,
        207,
    )
    assert body["file"] == "app.py" and body["revision"] == "1" * 40
    review_request = make_review_request(submitter=owner, repository=repository, people=[other])
    body = assert_error(upload(owner_client, review_request, broken), 400, 105)
    assert body["fields"] == {"path": ["fatal: git cat-file: could not get object info\n"]}
    # The real diff uploads, with Git's view of each file.
    body = assert_ok(upload(owner_client, review_request, diff, basedir="/ignored"), 201)
    assert body["diff"]["basedir"] == ""
    files = assert_ok(
        owner_client.get(f"/api/review-requests/{review_request.pk}/draft/diffs/1/files/")
    )["files"]
    assert [
        (f["source_file"], f["dest_file"], f["status"], f["source_revision"] == "PRE-CREATION")
        for f in files
    ] == [
        ("app.py", "app.py", "modified", False),
        ("new.txt", "new.txt", "modified", True),
        ("old.txt", "renamed.txt", "moved", False),
    ]
    # A private repository is unknown (206) to those who may not see it.
    repository.public = False
    repository.save()
    assert_error(
        owner_client.post(
            validation, {"repository": "work", "path": SimpleUploadedFile("d", diff)}
        ),
        400,
        206,
    )
    assert_ok(
        admin_client.post(
            validation, {"repository": "work", "path": SimpleUploadedFile("d", diff)}
        )
    )


def test_parent_diff_records_parent_source(git_checkout, owner, other, owner_client):
    repository = Repository.objects.create(name="work", path=str(git_checkout))
    (git_checkout / "app.py").write_text("print('parent')\n")
    _git(git_checkout, "commit", "-q", "-am", "parent (not pushed)")
    parent = _git(git_checkout, "diff", "--full-index", "HEAD~1", "HEAD").encode()
    (git_checkout / "app.py").write_text("print('child')\n")
    main = _git(git_checkout, "diff", "--full-index").encode()
    # The parent's blob must not count: check against a repository without the parent commit.
    _git(git_checkout, "reset", "-q", "--hard", "HEAD~1")
    _git(git_checkout, "reflog", "expire", "--expire=now", "--all")
    _git(git_checkout, "gc", "-q", "--prune=now")
    review_request = make_review_request(submitter=owner, repository=repository, people=[other])
    assert_error(upload(owner_client, review_request, main), 400, 105)
    response = owner_client.post(
        f"/api/review-requests/{review_request.pk}/diffs/",
        {
            "path": SimpleUploadedFile("diff", main),
            "parent_diff_path": SimpleUploadedFile("parent", parent),
        },
    )
    assert_ok(response, 201)
    filediff = FileDiff.objects.get()
    assert filediff.extra_data["parent_source_filename"] == "app.py"
    assert (
        filediff.extra_data["parent_source_revision"] == parent.split(b"index ")[1][:40].decode()
    )


def test_change_record_golden_050(review_request, owner_client, anon_client):
    url = f"/api/review-requests/{review_request.pk}/"
    form = "application/x-www-form-urlencoded"
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    assert_ok(owner_client.put(f"{url}draft/", "public=1", content_type=form))
    base = "4c85f00eef4dce3fdcfed74fdf0d00b53666565f"
    response = upload(
        owner_client, review_request, GOLDEN_DIFF, name="ab.diff", base_commit_id=base
    )
    assert_ok(response, 201)
    assert_ok(
        owner_client.put(
            f"{url}draft/", "public=1&changedescription=Second+revision.", content_type=form
        )
    )
    change = review_request.changedescs.get()
    diffset = DiffSet.objects.get(revision=2)
    body = assert_ok(anon_client.get(f"{url}changes/"))
    replace = {
        **ids(review_request),
        '"id": 4, "links": {"commits"': f'"id": {diffset.pk}, "links": {{"commits"',
        "changes/4/": f"changes/{change.pk}/",
        '"id": 4, "links": {"self"': f'"id": {change.pk}, "links": {{"self"',
    }
    want = expected(50, replace)
    stamp = diffset.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    want["changes"][0]["fields_changed"]["diff"]["added"]["timestamp"] = stamp
    want["changes"][0]["timestamp"] = body["changes"][0]["timestamp"]
    assert body == want


def test_discarding_the_draft_discards_its_diff(review_request, owner_client):
    url = f"/api/review-requests/{review_request.pk}/"
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF), 201)
    assert owner_client.delete(f"{url}draft/").status_code == 204
    assert not DiffSet.objects.exists()
    # Without a draft the draft diff list does not exist (Review Board 8.1, found by the
    # replay); a new upload creates the draft again.
    assert_error(owner_client.get(f"{url}draft/diffs/"), 404, 100)
    assert_ok(upload(owner_client, review_request, GOLDEN_DIFF, url="draft/diffs/"), 201)
    assert [d["revision"] for d in assert_ok(owner_client.get(f"{url}draft/diffs/"))["diffs"]] == [
        1
    ]
