"""File diff data (``Accept: …diff.data+json``), the files list with ``interdiff-revision``
and ``…/diff-context/``, against Review Board's transcripts of review request #5 (spec:
code-and-files.md §5, §5.1, §6; golden 059, 062, 063, 069, 070, 071, 072).

The fixture rebuilds review request #5 as captured: a Git repository holding the blobs the
captured diffs start from (the same bytes give the same blob ids), the captured revision 1
upload (038) and revision 2 diff (053) uploaded and published in turn.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diffs import chunks
from diffs.chunks import changed_regions, compute_chunks, diff_data
from diffs.models import DiffComment, DiffSet, FileDiff
from reviews.models import Repository, Review

from ..conftest import assert_error, assert_ok
from ..factories import make_review_request
from ..golden_files import golden
from .test_diff_files import golden_bytes
from .test_diffs import _git, golden_upload

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
DIFF_DATA = "application/vnd.reviewboard.org.diff.data+json"

# logo.png before revision 1: the reverse half of 038's binary patch, as a file creation.
LOGO_PATCH = b"""diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000000000000000000000000000000000000..f4ed4802f5c80cecfab9a3c7013b3e67175234e9
GIT binary patch
literal 264
%s

literal 0
HcmV?d00001

"""


def _logo_patch() -> bytes:
    upload = golden_upload(38)
    reverse = upload.split(b"GIT binary patch\n", 1)[1].split(b"\n\n", 1)[1]
    literal = reverse.split(b"\n\n", 1)[0].split(b"\n", 1)[1]
    return LOGO_PATCH % literal + b"\n"


def _upload(client, review_request, diff: bytes):
    return client.post(
        f"/api/review-requests/{review_request.pk}/diffs/",
        {"path": SimpleUploadedFile("diff", diff, "application/octet-stream")},
    )


def _publish(client, review_request) -> None:
    assert_ok(
        client.put(
            f"/api/review-requests/{review_request.pk}/draft/",
            "public=1",
            content_type="application/x-www-form-urlencoded",
        )
    )


@pytest.fixture
def checkout(tmp_path) -> Path:
    work = tmp_path / "gitrepo"
    (work / "src").mkdir(parents=True)
    (work / "old").mkdir()
    _git(work, "init", "-q")
    (work / "src" / "app.py").write_bytes(golden_bytes(64))
    (work / "del.txt").write_text("to be deleted\n")
    (work / "old" / "name.txt").write_text("alpha\nbeta\ngamma\n")
    (work / "logo.patch").write_bytes(_logo_patch())
    _git(work, "apply", "logo.patch")
    (work / "logo.patch").unlink()
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "base")
    return work


@pytest.fixture
def rr5(checkout, owner, other, owner_client):
    """Review request #5: two public revisions; returns it and {(revision, dest): file}."""
    repository = Repository.objects.create(name="localgit", path=str(checkout))
    review_request = make_review_request(submitter=owner, repository=repository, people=[other])
    assert_ok(_upload(owner_client, review_request, golden_upload(38)), 201)
    _publish(owner_client, review_request)
    assert_ok(_upload(owner_client, review_request, golden_bytes(53)), 201)
    _publish(owner_client, review_request)
    files = {
        (f.diffset.revision, f.dest_file): f
        for f in FileDiff.objects.filter(diffset__review_request=review_request)
    }
    return review_request, files


def _file_url(review_request, filediff, *, revision: int | None = None) -> str:
    revision = revision or filediff.diffset.revision
    return f"/api/review-requests/{review_request.pk}/diffs/{revision}/files/{filediff.pk}/"


def _diff_data(client, url: str, accept: str = DIFF_DATA):
    return client.get(url, HTTP_ACCEPT=accept)


# --- diff data: the transcripts ---------------------------------------------------------------
class TestDiffDataGolden:
    @pytest.mark.parametrize(
        ("number", "dest"), [(59, "src/app.py"), (62, "added.txt"), (63, "logo.png")]
    )
    def test_matches_transcript(self, rr5, anon_client, number, dest):
        review_request, files = rr5
        cache.clear()
        response = _diff_data(anon_client, _file_url(review_request, files[(2, dest)]))
        expected = golden(number)
        assert response.status_code == expected.status == 200
        # Served as plain application/json, not a vendor type (quirk 4).
        assert response["Content-Type"] == expected.headers["content-type"] == "application/json"
        assert response.json() == expected.body()
        assert response["ETag"] == hashlib.sha256(response.content).hexdigest()
        assert response.has_header("Last-Modified")
        # Golden 063's exact bytes (no id in them): same key order, same separators.
        if number == 63:
            assert response.content.decode() == expected.text

    def test_render_from_the_two_sides_matches_059(self):
        # The same chunks from the domain function, on 064/065 (revision 2's src/app.py).
        data = diff_data(
            original=golden_bytes(64),
            patched=golden_bytes(65),
            filename="src/app.py",
            use_cache=False,
        )
        assert data == golden(59).body()["diff_data"]

    def test_xml_and_accept_order(self, rr5, anon_client):
        review_request, files = rr5
        url = _file_url(review_request, files[(2, "src/app.py")])
        xml = _diff_data(anon_client, url, DIFF_DATA.replace("+json", "+xml"))
        assert (xml.status_code, xml["Content-Type"]) == (200, "application/xml")
        assert b"<diff_data>" in xml.content
        # The first type rbapi can answer wins: plain JSON first gives the file payload.
        plain = _diff_data(anon_client, url, f"application/json, {DIFF_DATA}")
        assert plain["Content-Type"] == "application/vnd.reviewboard.org.file+json"
        assert "file" in plain.json()
        both = _diff_data(anon_client, url, f"{DIFF_DATA}, application/json")
        assert "diff_data" in both.json()
        # Nor is one answer served from the cache for the other.
        assert "file" in anon_client.get(url).json()
        assert "diff_data" in _diff_data(anon_client, url).json()
        # A 304 for the same body.
        etag = _diff_data(anon_client, url)["ETag"]
        assert anon_client.get(
            url, HTTP_ACCEPT=DIFF_DATA, HTTP_IF_NONE_MATCH=etag
        ).status_code == (304)

    def test_deleted_and_renamed(self, rr5, anon_client):
        review_request, files = rr5
        data = assert_ok(
            _diff_data(anon_client, _file_url(review_request, files[(1, "del.txt")]))
        )["diff_data"]
        assert data == {
            "binary": False,
            "changed_chunk_indexes": [0],
            "chunks": [
                {
                    "change": "delete",
                    "collapsable": False,
                    "index": 0,
                    "lines": [[1, 1, "to be deleted", [], "", "", [], False]],
                    "meta": {
                        "left_headers": [],
                        "right_headers": [],
                        "whitespace_chunk": False,
                        "whitespace_lines": [],
                    },
                    "numlines": 1,
                }
            ],
            "new_file": False,
            "num_changes": 1,
        }
        renamed = _diff_data(anon_client, _file_url(review_request, files[(1, "new_name.txt")]))
        lines = [
            line for chunk in renamed.json()["diff_data"]["chunks"] for line in chunk["lines"]
        ]
        # Nothing alike between "beta" and "BETA": no regions.
        assert lines[1] == [2, 2, "beta", None, 2, "BETA", None, False]

    def test_access_and_errors(self, rr5, anon_client, other_client, owner_client):
        review_request, files = rr5
        app = files[(2, "src/app.py")]
        # 069: a file diff of another revision is 404, whatever the Accept.
        for accept in ("*/*", DIFF_DATA):
            response = anon_client.get(
                _file_url(review_request, app, revision=1), HTTP_ACCEPT=accept
            )
            assert_error(response, 404, 100)
            assert response.json() == golden(69).body()
        # A private review request hides its diff data (103 anonymous, 101 others).
        review_request.repository.public = False
        review_request.repository.save()
        assert_error(_diff_data(anon_client, _file_url(review_request, app)), 401, 103)
        assert_error(_diff_data(other_client, _file_url(review_request, app)), 403, 101)
        assert _diff_data(owner_client, _file_url(review_request, app)).status_code == 200
        # A file whose original cannot be read: 221, as the patched file answers.
        FileDiff.objects.filter(pk=app.pk).update(source_revision="0" * 40)
        cache.clear()
        assert_error(_diff_data(owner_client, _file_url(review_request, app)), 500, 221)

    def test_draft_file_diff(self, rr5, checkout, owner_client, other_client):
        review_request, _ = rr5
        (checkout / "del.txt").write_text("kept after all\n")
        diff = _git(checkout, "diff", "--full-index").encode()
        assert_ok(_upload(owner_client, review_request, diff), 201)
        draft_file = FileDiff.objects.get(diffset__revision=3)
        url = f"/api/review-requests/{review_request.pk}/draft/diffs/3/files/{draft_file.pk}/"
        response = _diff_data(owner_client, url)
        assert response["Content-Type"] == "application/json"
        data = assert_ok(response)["diff_data"]
        assert [chunk["change"] for chunk in data["chunks"]] == ["replace"]
        assert data["chunks"][0]["lines"][0][3] is None  # too different to mark regions
        assert_error(_diff_data(other_client, url), 403, 101)


class TestInterdiffData:
    def test_between_revisions(self, rr5, anon_client):
        review_request, files = rr5
        url = _file_url(review_request, files[(1, "src/app.py")])
        data = assert_ok(_diff_data(anon_client, url + "?interdiff-revision=2"))["diff_data"]
        # Revision 1 -> 2 of src/app.py changes only line 6.
        assert data["changed_chunk_indexes"] == [1]
        changed = data["chunks"][1]["lines"]
        assert changed == [
            [6, 6, "    return 3", None, 6, "    return 300  # changed in B", None, False]
        ]
        assert data["new_file"] is False
        # The same revision: nothing changed.
        same = assert_ok(_diff_data(anon_client, url + "?interdiff-revision=1"))["diff_data"]
        assert same["num_changes"] == 0
        assert [chunk["change"] for chunk in same["chunks"]] == ["equal", "equal"]
        # An interdiff of a binary file has no chunks.
        logo = _file_url(review_request, files[(1, "logo.png")]) + "?interdiff-revision=2"
        assert assert_ok(_diff_data(anon_client, logo))["diff_data"]["binary"] is True

    def test_bad_revisions(self, rr5, anon_client, owner_client):
        review_request, files = rr5
        url = _file_url(review_request, files[(1, "src/app.py")])
        response = _diff_data(anon_client, url + "?interdiff-revision=abc")
        assert_error(response, 400, 105)
        assert response.json()["fields"] == {"interdiff-revision": ['"abc" is not an integer']}
        assert_error(_diff_data(anon_client, url + "?interdiff-revision=9"), 404, 100)
        # A draft revision: its owner's only.
        assert_ok(_upload(owner_client, review_request, golden_upload(38)), 201)
        assert_error(_diff_data(anon_client, url + "?interdiff-revision=3"), 404, 100)
        assert _diff_data(owner_client, url + "?interdiff-revision=3").status_code == 200


# --- the chunk generator ----------------------------------------------------------------------
class TestChunks:
    def test_collapsing_at_the_top_and_bottom(self):
        old = [f"line {n}" for n in range(1, 41)]
        new = list(old)
        new[19] = "line twenty"
        result = compute_chunks(old, new)
        shape = [(c["change"], c["collapsable"], c["numlines"]) for c in result]
        assert shape == [
            ("equal", True, 14),
            ("equal", False, 5),
            ("replace", False, 1),
            ("equal", False, 5),
            ("equal", True, 15),
        ]
        # The cut-out chunks carry headers only; rows number on across chunks.
        assert result[0]["meta"] == {"left_headers": [], "right_headers": []}
        assert [c["lines"][0][0] for c in result] == [1, 15, 20, 21, 26]
        # Thirteen unchanged lines or fewer stay in one chunk.
        short = compute_chunks(old[:14], ["x", *old[1:14]])
        assert [(c["change"], c["numlines"]) for c in short] == [("replace", 1), ("equal", 13)]

    def test_unequal_replace_whitespace_and_escaping(self):
        old = ["a = 1", "if x < y:", "    go()"]
        new = ["a = 2", "if x<y:", "    go() ", "    more()", "done"]
        result = compute_chunks(old, new)
        assert [(c["change"], c["numlines"]) for c in result] == [
            ("replace", 3),
            ("insert", 2),
        ]
        replace = result[0]
        assert replace["meta"]["whitespace_lines"] == [[2, 2], [3, 3]]
        assert replace["meta"]["whitespace_chunk"] is False
        rows = replace["lines"]
        assert [row[7] for row in rows] == [False, True, True]
        assert rows[1][2] == "if x &lt; y:"
        # Trailing whitespace of a changed line is marked.
        assert rows[2][5] == '    go()<span class="ws"> </span>'
        insert = result[1]["lines"]
        assert insert[0][1:4] == ["", "", []]

    def test_whitespace_only_chunk(self):
        result = compute_chunks(["a", "b"], [" a", "b "])
        assert result[0]["meta"]["whitespace_chunk"] is True
        assert result[0]["meta"]["whitespace_lines"] == [[1, 1], [2, 2]]

    def test_moved_block(self):
        block = ["def moved():", "    return 'moved here'", "    # end"]
        old = ["top", *block, "a", "b", "c", "d"]
        new = ["top", "a", "b", "c", "d", *block]
        result = compute_chunks(old, new)
        delete = next(c for c in result if c["change"] == "delete")
        insert = next(c for c in result if c["change"] == "insert")
        assert delete["meta"]["moved-to"] == {"2": 6, "3": 7, "4": 8}
        assert insert["meta"]["moved-from"] == {"6": 2, "7": 3, "8": 4}
        assert [row[8] for row in delete["lines"]] == [
            {"to": [6, True]},
            {"to": [7, False]},
            {"to": [8, False]},
        ]
        assert insert["lines"][0][8] == {"from": [2, True]}
        # One line alone is not a move.
        single = compute_chunks(["x", "lonely line", "y"], ["x", "y", "lonely line"])
        assert all("moved-to" not in c["meta"] and "moved-from" not in c["meta"] for c in single)

    def test_regions(self):
        assert changed_regions("    return 1", "    return 100  # changed") == (
            [[12, 12]],
            [[12, 25]],
        )
        assert changed_regions("    return 3", "    return 300  # changed in B") == (None, None)
        # A short unchanged run between two changes joins them.
        assert changed_regions("value = foo(a)", "value = bar(b)") == ([[8, 13]], [[8, 13]])

    def test_non_utf8_and_line_endings(self):
        data = diff_data(
            original=b"caf\xe9\r\nx\r\n",
            patched=b"caf\xe9\ny\n",
            filename="f.txt",
            use_cache=False,
        )
        rows = [row for chunk in data["chunks"] for row in chunk["lines"]]
        assert rows[0][2] == rows[0][5] == "café"
        assert data["changed_chunk_indexes"] == [1]


class TestCache:
    def test_cached_answer_equals_fresh(self, monkeypatch):
        cache.clear()
        original, patched = golden_bytes(64), golden_bytes(65)
        first = diff_data(original=original, patched=patched, filename="src/app.py")
        key = chunks.cache_key(original, patched, chunks.DiffOptions.for_filename("src/app.py"))
        assert cache.get(key) == first["chunks"]

        def fail(*args, **kwargs):
            raise AssertionError("computed again")

        monkeypatch.setattr(chunks, "compute_chunks", fail)
        cached = diff_data(original=original, patched=patched, filename="src/app.py")
        monkeypatch.undo()
        fresh = diff_data(
            original=original, patched=patched, filename="src/app.py", use_cache=False
        )
        assert cached == fresh == first == golden(59).body()["diff_data"]
        # The key is the content and the options: another header family is another entry.
        assert key != chunks.cache_key(original, patched, chunks.DiffOptions())
        assert key != chunks.cache_key(
            original, patched + b"\n", chunks.DiffOptions.for_filename("src/app.py")
        )

    def test_second_request_uses_the_cache(self, rr5, anon_client, monkeypatch):
        review_request, files = rr5
        url = _file_url(review_request, files[(2, "src/app.py")])
        cache.clear()
        first = _diff_data(anon_client, url).content
        monkeypatch.setattr(chunks, "compute_chunks", lambda *a, **k: [])
        assert _diff_data(anon_client, url).content == first


# --- the files list ---------------------------------------------------------------------------
def _ids(review_request, files, *pairs: tuple[int, int, str]) -> dict[str, str]:
    """Capture ids -> ours: review request 5 and the named file diffs."""
    replace = {"/review-requests/5/": f"/review-requests/{review_request.pk}/"}
    for capture, revision, dest in pairs:
        ours = files[(revision, dest)].pk
        replace[f'"id": {capture},'] = f'"id": {ours},'
        replace[f"/files/{capture}/"] = f"/files/{ours}/"
    return replace


REVISION_1 = [
    (2, 1, "added.txt"),
    (3, 1, "del.txt"),
    (4, 1, "logo.png"),
    (5, 1, "new_name.txt"),
    (6, 1, "src/app.py"),
]


class TestFilesList:
    def test_interdiff_revision_has_no_effect_golden_070(self, rr5, anon_client):
        review_request, files = rr5
        url = f"/api/review-requests/{review_request.pk}/diffs/1/files/"
        response = anon_client.get(url + "?interdiff-revision=2")
        body = assert_ok(response, mimetype="files")
        assert body == golden(70).body(_ids(review_request, files, *REVISION_1))
        plain = assert_ok(anon_client.get(url))
        assert plain["files"] == body["files"]

    def test_query_count_is_constant(self, checkout, owner, other, owner_client, anon_client):
        def measure(count: int) -> int:
            for n in range(count):
                (checkout / f"c{count}-{n:02d}.txt").write_text(f"file {n}\n")
            _git(checkout, "add", "-A")
            diff = _git(checkout, "diff", "--cached", "--full-index").encode()
            _git(checkout, "reset", "-q", "--hard")
            repository = Repository.objects.create(name=f"many{count}", path=str(checkout))
            review_request = make_review_request(
                submitter=owner, repository=repository, people=[other]
            )
            assert_ok(_upload(owner_client, review_request, diff), 201)
            _publish(owner_client, review_request)
            url = f"/api/review-requests/{review_request.pk}/diffs/1/files/?interdiff-revision="
            # Warm per-process caches with another URL: the measured one must not be
            # answered from the response cache.
            anon_client.get(url + "2")
            with CaptureQueriesContext(connection) as queries:
                body = assert_ok(anon_client.get(url + "1"))
            assert body["total_results"] == count
            return len(queries)

        one, many = measure(1), measure(25)
        assert one == many <= 10


# --- diff context -----------------------------------------------------------------------------
class TestDiffContext:
    def url(self, review_request, query: str = "") -> str:
        return f"/api/review-requests/{review_request.pk}/diff-context/{query}"

    def test_interdiff_golden_071(self, rr5, anon_client):
        review_request, files = rr5
        response = anon_client.get(self.url(review_request, "?revision=1&interdiff-revision=2"))
        body = assert_ok(response, mimetype="diff-context")
        replace = {
            '"id": 6,': f'"id": {files[(1, "src/app.py")].pk},',
            '"id": 11,': f'"id": {files[(2, "src/app.py")].pk},',
        }
        assert body == golden(71).body(replace)
        assert response["ETag"] == hashlib.sha256(response.content).hexdigest()

    def test_bad_revision_golden_072(self, rr5, anon_client):
        review_request, _ = rr5
        response = anon_client.get(self.url(review_request, "?revision=abc"))
        assert_error(response, 400, 105)
        assert response.json() == golden(72).body()
        for query in ("?interdiff-revision=x", "?base-commit-id=x", "?tip-commit-id=x"):
            assert_error(anon_client.get(self.url(review_request, query)), 400, 105)

    def test_single_revision_default_and_filters(self, rr5, anon_client):
        review_request, files = rr5
        body = assert_ok(anon_client.get(self.url(review_request)))["diff_context"]
        assert body["revision"] == {
            "base_commit_id": None,
            "interdiff_revision": None,
            "is_draft_diff": False,
            "is_draft_interdiff": False,
            "is_interdiff": False,
            "latest_revision": 2,
            "revision": 2,
            "tip_commit_id": None,
        }
        assert [f["modified_filename"] for f in body["files"]] == [
            "added.txt",
            "del.txt",
            "logo.png",
            "new_name.txt",
            "src/app.py",
        ]
        added, deleted = body["files"][0], body["files"][1]
        assert added == {
            "base_filediff_id": None,
            "binary": False,
            "deleted": False,
            "extra": {"tab_size": 8},
            "filediff": {"id": files[(2, "added.txt")].pk, "revision": 2},
            "id": files[(2, "added.txt")].pk,
            "index": 0,
            "modified_filename": "added.txt",
            "modified_revision": "New File",
            "newfile": True,
            "orig_filename": "added.txt",
            "orig_revision": "",
            "public": True,
            "serialized_comment_blocks": {},
        }
        assert (deleted["deleted"], deleted["modified_revision"]) == (True, "New Change")
        assert deleted["orig_revision"] == "Revision 420201136f42027c6f971934cc73615082d65160"
        assert body["num_diffs"] == 2 and body["commits"] is None
        assert body["pagination"]["pages"] == 1
        only = assert_ok(anon_client.get(self.url(review_request, "?filenames=src/*,*.png")))
        names = [f["modified_filename"] for f in only["diff_context"]["files"]]
        assert names == ["logo.png", "src/app.py"]
        assert only["diff_context"]["filename_patterns"] == ["src/*", "*.png"]
        assert [f["index"] for f in only["diff_context"]["files"]] == [0, 1]

    def test_draft_owner_only_and_missing(
        self, rr5, owner_client, anon_client, admin_client, owner
    ):
        review_request, _ = rr5
        assert_ok(_upload(owner_client, review_request, golden_upload(38)), 201)
        mine = assert_ok(owner_client.get(self.url(review_request)))["diff_context"]
        assert (mine["revision"]["revision"], mine["revision"]["is_draft_diff"]) == (3, True)
        # The draft diff counts for its submitter, whatever revision is shown; an administrator
        # may open it but it is not counted (both as the original).
        older = assert_ok(owner_client.get(self.url(review_request, "?revision=1")))
        assert (older["diff_context"]["num_diffs"], mine["num_diffs"]) == (3, 3)
        assert older["diff_context"]["revision"]["latest_revision"] == 3
        admin = assert_ok(admin_client.get(self.url(review_request)))["diff_context"]
        assert (admin["revision"]["revision"], admin["revision"]["is_draft_diff"]) == (3, True)
        assert (admin["num_diffs"], admin["revision"]["latest_revision"]) == (2, 2)
        theirs = assert_ok(anon_client.get(self.url(review_request)))["diff_context"]
        assert theirs["revision"]["revision"] == 2
        assert (theirs["num_diffs"], theirs["revision"]["latest_revision"]) == (2, 2)
        assert_error(anon_client.get(self.url(review_request, "?revision=3")), 404, 100)
        assert_error(anon_client.get(self.url(review_request, "?revision=7")), 404, 100)
        assert_error(anon_client.get(self.url(review_request, "?page=2")), 404, 100)
        assert_error(anon_client.get(self.url(review_request, "?tip-commit-id=4")), 404, 100)
        # Interdiff against the draft: revision 3 reverts app.py's second change of revision 2.
        interdiff = assert_ok(
            owner_client.get(self.url(review_request, "?revision=2&interdiff-revision=3"))
        )["diff_context"]
        assert interdiff["revision"]["is_draft_interdiff"] is True
        assert [f["modified_filename"] for f in interdiff["files"]] == ["src/app.py"]
        # No diff at all: 404.
        empty = make_review_request(submitter=owner, repository=review_request.repository)
        assert_error(owner_client.get(self.url(empty)), 404, 100)

    def test_reverted_and_new_files(self, rr5, checkout, owner_client):
        review_request, _ = rr5
        (checkout / "extra.txt").write_text("extra\n")
        _git(checkout, "add", "extra.txt")
        diff = _git(checkout, "diff", "--cached", "--full-index").encode()
        assert_ok(_upload(owner_client, review_request, diff), 201)
        body = assert_ok(
            owner_client.get(self.url(review_request, "?revision=2&interdiff-revision=3"))
        )["diff_context"]
        by_name = {f["modified_filename"]: f for f in body["files"]}
        assert set(by_name) == {
            "added.txt",
            "del.txt",
            "extra.txt",
            "logo.png",
            "new_name.txt",
            "src/app.py",
        }
        assert by_name["src/app.py"]["modified_revision"] == "Diff Revision 3 - File Reverted"
        assert by_name["src/app.py"]["interfilediff"] is None
        assert by_name["extra.txt"]["modified_revision"] == "Diff Revision 3"
        assert by_name["extra.txt"]["filediff"]["revision"] == 3

    def test_comments_hint_and_blocks(self, rr5, anon_client, other):
        review_request, files = rr5
        review = Review.objects.create(review_request=review_request, user=other, public=True)
        app1, app2 = files[(1, "src/app.py")], files[(2, "src/app.py")]
        DiffComment.objects.create(
            review=review, filediff=app1, first_line=2, num_lines=1, text="one"
        )
        DiffComment.objects.create(
            review=review, filediff=app1, interfilediff=app2, first_line=6, num_lines=2, text="two"
        )
        draft = Review.objects.create(review_request=review_request, user=other, public=False)
        DiffComment.objects.create(
            review=draft, filediff=app2, first_line=1, num_lines=1, text="x"
        )
        body = assert_ok(
            anon_client.get(self.url(review_request, "?revision=1&interdiff-revision=2"))
        )
        context = body["diff_context"]
        assert context["comments_hint"] == {
            "commits_with_comments": [],
            "diffsets_with_comments": [{"is_current": False, "revision": 1}],
            "has_other_comments": True,
            "interdiffs_with_comments": [
                {"is_current": True, "new_revision": 2, "old_revision": 1}
            ],
        }
        (block,) = context["files"][0]["serialized_comment_blocks"]["6-2"]
        assert (block["text"], block["line"], block["localdraft"]) == ("two", 6, False)
        assert block["user"]["username"] == other.username
        # The review request links to its diff context.
        links = assert_ok(anon_client.get(f"/api/review-requests/{review_request.pk}/"))[
            "review_request"
        ]["links"]
        assert links["diff_context"] == {
            "href": f"{BASE}{self.url(review_request)}",
            "method": "GET",
        }
        assert json.dumps(context)  # serialisable as is
        assert DiffSet.objects.filter(review_request=review_request).count() == 2
