"""Diffs with history (multi-commit), as RBTools 7 posts them by default: review requests
created with history, empty draft diffs, draft commits, ``finalize_commit_series``, commit
validation, reading commits and their files, and publishing (spec: code-and-files.md §2, §3,
§4.4, §4.5; golden files 028-030, 056, 081-101)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.client import encode_multipart
from django.test.utils import CaptureQueriesContext

from diffs.models import DiffCommit, DiffSet, FileDiff
from reviews.models import Group, Repository, ReviewRequest

from ..conftest import assert_error, assert_ok
from ..golden_files import GOLDEN_DIR, golden

pytestmark = pytest.mark.django_db
BOUNDARY = "rbapi-history-boundary"
SHA_A = "988a2d8dbe0d14818cbfd9dbbef39e380e7d133b"
SHA_B = "ea72172f4e4fdc1495971203840a912d30f10e97"
BASE = "4c85f00eef4dce3fdcfed74fdf0d00b53666565f"


def golden_request(number: int) -> dict[str, SimpleUploadedFile | str]:
    """The multipart fields of a transcript's request: files as uploads, the rest as text."""
    (path,) = GOLDEN_DIR.glob(f"{number:03d}-*.txt")
    request = path.read_bytes().split(b"### RESPONSE", 1)[0]
    fields: dict[str, SimpleUploadedFile | str] = {}
    for part in request.split(b"--===============rbapi0golden0boundary==")[1:]:
        pieces = re.split(rb"\r?\n\r?\n", part, maxsplit=1)
        match = re.search(rb'name="([^"]+)"(?:; filename="([^"]*)")?', pieces[0])
        if len(pieces) != 2 or match is None:
            continue
        # The line break before the next boundary is not part of the value.
        value = re.sub(rb"\r?\n\Z", b"", pieces[1], count=1)
        name = match.group(1).decode()
        if match.group(2) is not None:
            fields[name] = SimpleUploadedFile(
                match.group(2).decode(), value, "application/octet-stream"
            )
        else:
            fields[name] = value.decode()
    return fields


def put(client, url: str, data: dict):
    return client.generic(
        "PUT",
        url,
        encode_multipart(BOUNDARY, data),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def post(client, url: str, data: dict):
    return client.post(url, data)


@pytest.fixture
def repository():
    # Tool "None": the transcripts' blobs are in no repository here, so nothing is looked up
    # (the Git checks have their own test below).
    return Repository.objects.create(name="localgit", path="/srv/refserver/gitrepo", tool="None")


@pytest.fixture
def devs(other):
    group = Group.objects.create(name="devs", display_name="Developers")
    group.users.add(other)
    return group


def create_history_request(client, repository) -> tuple[dict, ReviewRequest]:
    fields = golden_request(81)
    fields["repository"] = str(repository.pk)
    body = assert_ok(client.post("/api/review-requests/", fields), 201, "review-request")
    return body, ReviewRequest.objects.get(pk=body["review_request"]["id"])


def base_ids(review_request: ReviewRequest, repository: Repository) -> dict[str, str]:
    return {
        "/review-requests/7/": f"/review-requests/{review_request.pk}/",
        "/r/7/": f"/r/{review_request.pk}/",
        "/api/repositories/1/": f"/api/repositories/{repository.pk}/",
    }


def commit_ids(replace: dict[str, str]) -> dict[str, str]:
    """The capture's commit pks (1, 2) -> ours."""
    for capture, sha in ((1, SHA_A), (2, SHA_B)):
        ours = DiffCommit.objects.get(commit_id=sha, diffset__revision=1).pk
        replace[f'"id": {capture}, "links"'] = f'"id": {ours}, "links"'
    return replace


def filediff_id(sha: str, dest_file: str) -> int:
    return FileDiff.objects.get(
        commit__commit_id=sha, commit__diffset__revision=1, dest_file=dest_file
    ).pk


def upload_golden_commits(client, url: str) -> None:
    for number in (89, 90):
        assert_ok(post(client, f"{url}draft-commits/", golden_request(number)), 201)


def test_history_flow_golden(owner_client, anon_client, owner, repository, devs):
    # 081: created with history, extra_data as sent.
    body, review_request = create_history_request(owner_client, repository)
    ids = base_ids(review_request, repository)
    want = golden(81).body(ids)
    for name in ("id", "last_updated", "time_added"):
        want["review_request"][name] = body["review_request"][name]
    assert body == want
    assert review_request.extra_data["local_branch"] == "main"
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/"

    # 083: a whole diff is refused (105 with a reason, no fields); nothing stored.
    response = post(owner_client, url, golden_request(83))
    assert (response.status_code, json.loads(response.content)) == (400, golden(83).body())
    assert not DiffSet.objects.exists()

    # 084: an empty draft diff; the query string of the POST URL shapes the answer.
    response = post(
        owner_client, f"{url}?only-fields=&only-links=self%2Cdraft_commits", golden_request(84)
    )
    assert assert_ok(response, 201, "diff") == golden(84).body(ids)
    diffset = DiffSet.objects.get()
    assert (diffset.public, diffset.name, diffset.base_commit_id) == (False, "diff", BASE)
    assert (diffset.commit_count, bytes(diffset.diff)) == (0, b"")
    # 085: no commits yet.
    response = owner_client.get(f"{url}1/draft-commits/")
    assert assert_ok(response, mimetype="draft-commits") == golden(85).body(ids)
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.draft-commit+json"
    # 086: nothing to finalize.
    body = assert_error(put(owner_client, f"{url}1/", golden_request(86)), 400, 102)
    assert body == golden(86).body()
    # 087, 088: the resource's required fields first, then the form's (Git: committer).
    response = post(owner_client, f"{url}1/draft-commits/", {})
    assert json.loads(response.content) == golden(87).body()
    response = post(owner_client, f"{url}1/draft-commits/", golden_request(88))
    assert json.loads(response.content) == golden(88).body()
    assert not DiffCommit.objects.exists()

    # 089, 090: the two commits.
    first = assert_ok(
        post(owner_client, f"{url}1/draft-commits/", golden_request(89)), 201, "draft-commit"
    )
    second = assert_ok(post(owner_client, f"{url}1/draft-commits/", golden_request(90)), 201)
    commit_ids(ids)
    assert first == golden(89).body(ids)
    assert second == golden(90).body(ids)
    stored = DiffCommit.objects.get(commit_id=SHA_B)
    assert bytes(stored.diff) == golden_request(90)["diff"].open().read()
    assert stored.files.count() == 1

    # 091: finalize needs the cumulative diff and the validation info.
    body = assert_error(put(owner_client, f"{url}1/", {"finalize_commit_series": "1"}), 400, 105)
    assert body == golden(91).body()
    # 092: finalized: commit_count and the cumulative file diffs.
    body = assert_ok(put(owner_client, f"{url}1/", golden_request(92)), mimetype="diff")
    want = golden(92).body({**ids, '"id": 8,': f'"id": {diffset.pk},'})
    want["diff"]["timestamp"] = body["diff"]["timestamp"]
    assert body == want
    diffset.refresh_from_db()
    cumulative = golden_request(92)["cumulative_diff"].open().read()
    assert (diffset.commit_count, bytes(diffset.diff)) == (2, cumulative)
    assert FileDiff.objects.filter(diffset=diffset, commit__isnull=True).count() == 5
    # 093: once only.
    body = assert_error(put(owner_client, f"{url}1/", golden_request(92)), 400, 102)
    assert body == golden(93).body()

    # 094: one commit's binary files, as RBTools asks before uploading them.
    logo = filediff_id(SHA_A, "logo.png")
    response = owner_client.get(f"{url}1/files/?binary=1&commit-id={SHA_A}")
    assert assert_ok(response, mimetype="files") == golden(94).body(
        {**ids, "/files/16/": f"/files/{logo}/", '"id": 16,': f'"id": {logo},'}
    )
    # Without commit-id: the cumulative file diffs.
    files = assert_ok(owner_client.get(f"{url}1/files/"))["files"]
    assert [f["dest_file"] for f in files] == [
        "added.txt",
        "del.txt",
        "logo.png",
        "new_name.txt",
        "src/app.py",
    ]
    assert {f["id"] for f in files} == set(
        FileDiff.objects.filter(diffset=diffset, commit__isnull=True).values_list("pk", flat=True)
    )

    # 095: publish, as RBTools does it.
    response = put(
        owner_client, f"/api/review-requests/{review_request.pk}/draft/", golden_request(95)
    )
    body = assert_ok(response, mimetype="review-request-draft")
    want = golden(95).body(ids)
    for name in ("id", "last_updated"):
        want["draft"][name] = body["draft"][name]
    # The consumed draft as Review Board answers a publish: the draft made at creation had an
    # empty extra_data (the creation's went to the review request only).
    assert body == want
    review_request.refresh_from_db()
    assert review_request.extra_data["local_branch"] == "main"
    diffset.refresh_from_db()
    assert diffset.public

    # 096-098: the public commits, by SHA.
    commits_url = f"/api/review-requests/{review_request.pk}/diffs/1/commits/"
    response = anon_client.get(commits_url)
    assert assert_ok(response, mimetype="commits") == golden(96).body(ids)
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.commit+json"
    response = anon_client.get(f"{commits_url}{SHA_B}/", HTTP_ACCEPT="text/x-patch")
    assert response.status_code == 200
    assert response.content == golden_request(90)["diff"].open().read()
    assert response["Content-Type"] == "text/x-patch"
    assert response["Content-Disposition"] == f"inline; filename={SHA_B}.patch"
    assert response["ETag"] == golden(97).headers["etag"]
    item = assert_ok(anon_client.get(f"{commits_url}{SHA_B}/"), mimetype="commit")
    assert item["commit"] == golden(96).body(ids)["commits"][1]
    response = anon_client.get(f"{commits_url}{stored.pk}/")
    assert (response.status_code, json.loads(response.content)) == (404, golden(98).body())
    # 099: one commit's file diffs on the public diff.
    app = filediff_id(SHA_B, "src/app.py")
    response = anon_client.get(
        f"/api/review-requests/{review_request.pk}/diffs/1/files/?commit-id={SHA_B}"
    )
    assert assert_ok(response) == golden(99).body(
        {**ids, "/files/19/": f"/files/{app}/", '"id": 19,': f'"id": {app},'}
    )
    # 100: what `rbt post -r` reads.
    fields = "absolute_url%2Cbugs_closed%2Cid%2Cstatus%2Cpublic%2Ccreated_with_history"
    response = owner_client.get(
        f"/api/review-requests/{review_request.pk}/?only-fields={fields}&only-links=diffs%2Cdraft"
    )
    assert assert_ok(response) == golden(100).body(
        {**ids, '"id": 7,': f'"id": {review_request.pk},'}
    )
    # 056: what `rbt patch` asks for.
    body = assert_ok(
        anon_client.get(f"/api/review-requests/{review_request.pk}/diffs/1/?expand=commits")
    )["diff"]
    assert [c["commit_id"] for c in body["commits"]] == [SHA_A, SHA_B]
    assert body["_expanded"] == {
        "commits": {
            "item_mimetype": "application/vnd.reviewboard.org.commit+json",
            "list_mimetype": "application/vnd.reviewboard.org.commits+json",
            "list_url": f"http://testserver{commits_url}",
        }
    }
    assert "commits" not in body["links"]


def test_second_revision_records_commit_list_golden_101(
    owner_client, anon_client, repository, devs
):
    _, review_request = create_history_request(owner_client, repository)
    ids = base_ids(review_request, repository)
    rr_url = f"/api/review-requests/{review_request.pk}/"
    url = f"{rr_url}draft/diffs/"
    assert_ok(post(owner_client, url, golden_request(84)), 201)
    upload_golden_commits(owner_client, f"{url}1/")
    assert_ok(put(owner_client, f"{url}1/", golden_request(92)))
    assert_ok(put(owner_client, f"{rr_url}draft/", golden_request(95)))
    # Revision 2: the first commit alone, reworded.
    assert_ok(post(owner_client, url, golden_request(84)), 201)
    squashed = golden_request(89)
    squashed["commit_message"] = "change A (squashed)\n"
    assert_ok(post(owner_client, f"{url}2/draft-commits/", squashed), 201)
    finalize = golden_request(92)
    finalize["cumulative_diff"] = golden_request(89)["diff"]
    assert_ok(put(owner_client, f"{url}2/", finalize))
    response = put(
        owner_client,
        f"{rr_url}draft/",
        {"changedescription": "Dropped change B.", "public": "True"},
    )
    assert_ok(response)
    body = assert_ok(anon_client.get(f"{rr_url}changes/"), mimetype="review-request-changes")
    second = DiffSet.objects.get(revision=2)
    (change,) = review_request.changedescs.all()
    want = golden(101).body(
        {
            **ids,
            '"id": 9, "links"': f'"id": {second.pk}, "links"',
            '"id": 5,': f'"id": {change.pk},',
        }
    )
    entry = want["changes"][0]
    entry["timestamp"] = body["changes"][0]["timestamp"]
    entry["fields_changed"]["diff"]["added"]["timestamp"] = body["changes"][0]["fields_changed"][
        "diff"
    ]["added"]["timestamp"]
    entry["links"]["self"]["href"] = body["changes"][0]["links"]["self"]["href"]
    assert body == want


def test_refusals_leave_data_untouched(
    owner, owner_client, other_client, anon_client, repository, devs
):
    _, review_request = create_history_request(owner_client, repository)
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/"
    assert_ok(post(owner_client, url, golden_request(84)), 201)
    commits = f"{url}1/draft-commits/"
    # Others may not add commits or read the draft ones.
    assert_error(post(other_client, commits, golden_request(89)), 403, 101)
    assert_error(post(anon_client, commits, golden_request(89)), 401, 103)
    assert_error(other_client.get(commits), 403, 101)
    assert_error(anon_client.get(commits), 401, 103)
    # Bad dates, bad validation info, a diff that is not one.
    bad = golden_request(89)
    bad["author_date"] = "yesterday"
    body = assert_error(post(owner_client, commits, bad), 400, 105)
    assert body["fields"] == {"author_date": ["This timestamp is not a valid ISO 8601 date/time"]}
    bad = golden_request(89)
    bad["validation_info"] = "x"
    body = assert_error(post(owner_client, commits, bad), 400, 105)
    assert body["fields"]["validation_info"][0].startswith('Could not parse validation info "x"')
    bad = golden_request(89)
    bad["diff"] = SimpleUploadedFile("diff", b"hello\n")
    body = assert_error(post(owner_client, commits, bad), 400, 224)
    assert body["reason"] == "This does not appear to be a git diff"
    bad["diff"] = SimpleUploadedFile("diff", b"")
    assert_error(post(owner_client, commits, bad), 400, 219)
    assert not DiffCommit.objects.exists() and not FileDiff.objects.exists()
    # A duplicate commit is refused whole (Review Board keeps a half-made one).
    assert_ok(post(owner_client, commits, golden_request(89)), 201)
    body = assert_error(post(owner_client, commits, golden_request(89)), 400, 105)
    assert list(body["fields"]) == ["commit_id"]
    assert DiffCommit.objects.count() == 1 and FileDiff.objects.count() == 5
    # Not finalized: the draft cannot be published.
    rr_url = f"/api/review-requests/{review_request.pk}/"
    response = put(owner_client, f"{rr_url}draft/", golden_request(95))
    assert_error(response, 500, 225)
    assert not DiffSet.objects.get().public
    # Finalizing: a bad cumulative diff changes nothing; after it, no more commits.
    finalize = golden_request(92)
    finalize["cumulative_diff"] = SimpleUploadedFile("cumulative_diff", b"nope\n")
    body = assert_error(put(owner_client, f"{url}1/", finalize), 400, 105)
    assert list(body["fields"]) == ["cumulative_diff"]
    assert not DiffSet.objects.get().commit_series_finalized
    assert_ok(put(owner_client, f"{url}1/", golden_request(92)))
    body = assert_error(post(owner_client, commits, golden_request(90)), 400, 102)
    assert body["reason"] == "This diff is already finalized."
    assert DiffCommit.objects.count() == 1
    # Others may not finalize or edit a commit.
    assert_error(put(other_client, f"{url}1/", golden_request(92)), 403, 101)
    assert_error(put(other_client, f"{commits}{SHA_A}/", {"extra_data.k": "v"}), 403, 101)
    # DELETE is not a method of commits.
    response = owner_client.delete(f"{commits}{SHA_A}/")
    assert response.status_code == 405


def test_commit_extra_data_put(owner_client, repository):
    _, review_request = create_history_request(owner_client, repository)
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/"
    assert_ok(post(owner_client, url, golden_request(84)), 201)
    assert_ok(post(owner_client, f"{url}1/draft-commits/", golden_request(89)), 201)
    response = put(
        owner_client, f"{url}1/draft-commits/{SHA_A}/", {"extra_data.k": "v", "commit_id": "x"}
    )
    body = assert_ok(response, mimetype="draft-commit")
    assert body["draft_commit"]["extra_data"] == {"k": "v"}
    assert body["draft_commit"]["commit_id"] == SHA_A
    assert DiffCommit.objects.get().extra_data == {"k": "v"}


def test_squashed_request_refuses_history_steps(owner, owner_client, repository):
    from ..factories import make_review_request

    review_request = make_review_request(submitter=owner, repository=repository)
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/"
    # Not created with history: a diff needs a file.
    body = assert_error(post(owner_client, url, {}), 400, 105)
    assert body["fields"] == {"path": ["This field is required."]}
    assert_ok(post(owner_client, url, {"path": golden_request(92)["cumulative_diff"]}), 201)
    assert_error(post(owner_client, f"{url}1/draft-commits/", golden_request(89)), 400, 102)
    assert_error(put(owner_client, f"{url}1/", golden_request(92)), 400, 102)
    assert (
        assert_ok(owner_client.get(f"/api/review-requests/{review_request.pk}/"))[
            "review_request"
        ]["created_with_history"]
        is False
    )
    # History needs a repository.
    body = assert_error(
        owner_client.post("/api/review-requests/", {"create_with_history": "1"}), 400, 105
    )
    assert list(body["fields"]) == ["create_with_history"]


def test_commit_list_query_count_is_constant(owner_client, anon_client, repository):
    _, review_request = create_history_request(owner_client, repository)
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/"
    assert_ok(post(owner_client, url, golden_request(84)), 201)
    diffset = DiffSet.objects.get()
    public_url = f"/api/review-requests/{review_request.pk}/diffs/1/commits/"

    def add_commits(start: int, count: int) -> None:
        for index in range(start, start + count):
            DiffCommit.objects.create(
                diffset=diffset,
                filename="diff",
                diff=b"",
                commit_id=f"{index:040x}",
                parent_id=f"{index - 1:040x}" if index else BASE,
                commit_message=f"commit {index}",
                author_name="a",
                author_email="a@example.com",
                author_date="2024-01-02T00:00:00Z",
            )

    def costs(count: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as draft_queries:
            body = assert_ok(owner_client.get(f"{url}1/draft-commits/"))
        assert body["total_results"] == count
        DiffSet.objects.filter(pk=diffset.pk).update(public=True)
        ReviewRequest.objects.filter(pk=review_request.pk).update(public=True)
        with CaptureQueriesContext(connection) as public_queries:
            body = assert_ok(anon_client.get(public_url))
        assert len(body["commits"]) == count
        DiffSet.objects.filter(pk=diffset.pk).update(public=False)
        ReviewRequest.objects.filter(pk=review_request.pk).update(public=False)
        return len(draft_queries), len(public_queries)

    add_commits(0, 1)
    one = costs(1)
    add_commits(1, 19)
    # The same number of queries at 1 and at 20 commits.
    assert costs(20) == one


# --- validation and Git ----------------------------------------------------------------------
def test_commit_validation_golden_028(owner_client, anon_client):
    assert assert_ok(anon_client.get("/api/validation/commits/"), mimetype="commit-validation")[
        "links"
    ] == {
        "create": {"href": "http://testserver/api/validation/commits/", "method": "POST"},
        "self": {"href": "http://testserver/api/validation/commits/", "method": "GET"},
    }
    response = owner_client.post("/api/validation/commits/", {})
    assert (response.status_code, json.loads(response.content)) == (400, golden(28).body())
    assert_error(anon_client.post("/api/validation/commits/", golden_request(29)), 401, 103)


def test_commit_validation_golden_029_030(owner_client, repository):
    first = golden_request(29)
    first["repository"] = str(repository.pk)
    body = assert_ok(
        owner_client.post("/api/validation/commits/", first), mimetype="commit-validation"
    )
    assert body == golden(29).body()
    second = golden_request(30)
    second["repository"] = repository.name
    body = assert_ok(owner_client.post("/api/validation/commits/", second))
    assert body == golden(30).body()
    second["validation_info"] = "not base64!"
    body = assert_error(owner_client.post("/api/validation/commits/", second), 400, 105)
    assert list(body["fields"]) == ["validation_info"]
    second["repository"] = "nope"
    second["validation_info"] = ""
    assert_error(owner_client.post("/api/validation/commits/", second), 400, 206)


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def git_series(tmp_path) -> dict:
    """A repository with one pushed commit and two local commits on top of it."""
    checkout = tmp_path / "work"
    checkout.mkdir()
    _git(checkout, "init", "-q", "-b", "main")
    (checkout / "app.py").write_text("print('hello')\n")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-q", "-m", "base")
    base = _git(checkout, "rev-parse", "HEAD").strip()
    (checkout / "app.py").write_text("print('one')\n")
    (checkout / "new.txt").write_text("new\n")
    _git(checkout, "add", "-A")
    _git(checkout, "commit", "-q", "-m", "first")
    (checkout / "app.py").write_text("print('two')\n")
    (checkout / "new.txt").write_text("newer\n")
    _git(checkout, "commit", "-q", "-am", "second\n\nbody")
    first, second = _git(checkout, "rev-list", "--reverse", f"{base}..HEAD").split()

    def diff(old: str, new: str) -> bytes:
        return _git(checkout, "diff", "--full-index", "--binary", old, new).encode()

    # Only the base commit is in the server's repository.
    server = tmp_path / "server.git"
    _git(tmp_path, "init", "-q", "--bare", str(server))
    _git(checkout, "push", "-q", str(server), f"{base}:refs/heads/main")
    return {
        "path": str(server),
        "base": base,
        "commits": [(first, base, diff(base, first)), (second, first, diff(first, second))],
        "cumulative": diff(base, second),
    }


def test_git_series_validates_uploads_and_finalizes(git_series, owner_client, devs):
    repository = Repository.objects.create(name="git", path=git_series["path"], tool="Git")
    (first, base, first_diff), (second, _, second_diff) = git_series["commits"]
    validate = "/api/validation/commits/"

    def fields(commit_id, parent_id, diff, info=""):
        return {
            "repository": str(repository.pk),
            "commit_id": commit_id,
            "parent_id": parent_id,
            "base_commit_id": base,
            "validation_info": info,
            "diff": SimpleUploadedFile("diff", diff),
        }

    # The second commit alone: its parent is not in the repository (224, git's words).
    body = assert_error(owner_client.post(validate, fields(second, first, second_diff)), 400, 224)
    assert body["err"]["msg"]
    info = assert_ok(owner_client.post(validate, fields(first, base, first_diff)))
    info = info["commit_validation"]["validation_info"]
    decoded = json.loads(base64.b64decode(info))
    assert decoded[first]["parent_id"] == base
    assert [e["filename"] for e in decoded[first]["tree"]["added"]] == ["new.txt"]
    assert [e["filename"] for e in decoded[first]["tree"]["modified"]] == ["app.py"]
    # With the first commit's validation info, the second one checks out.
    info = assert_ok(owner_client.post(validate, fields(second, first, second_diff, info)))
    info = info["commit_validation"]["validation_info"]
    assert set(json.loads(base64.b64decode(info))) == {first, second}

    # Upload the series the way RBTools does.
    created = owner_client.post(
        "/api/review-requests/", {"repository": "git", "create_with_history": "True"}
    )
    review_request = ReviewRequest.objects.get(pk=assert_ok(created, 201)["review_request"]["id"])
    url = f"/api/review-requests/{review_request.pk}/draft/diffs/"
    assert_ok(owner_client.post(url, {"base_commit_id": base}), 201)
    meta = {
        "commit_message": "m",
        "author_name": "T",
        "author_email": "t@example.com",
        "author_date": "2024-01-02T00:00:00+01:00",
        "committer_name": "T",
        "committer_email": "t@example.com",
        "committer_date": "2024-01-02T00:00:00+01:00",
    }
    # A commit whose blob is nowhere: 207 naming it.
    broken = first_diff.replace(first_diff.split(b"index ", 1)[1][:40], b"1" * 40, 1)
    body = assert_error(
        owner_client.post(
            f"{url}1/draft-commits/",
            {
                **meta,
                "commit_id": first,
                "parent_id": base,
                "diff": SimpleUploadedFile("d", broken),
            },
        ),
        400,
        207,
    )
    assert body["revision"] == "1" * 40
    body = assert_ok(
        owner_client.post(
            f"{url}1/draft-commits/",
            {
                **meta,
                "commit_id": first,
                "parent_id": base,
                "diff": SimpleUploadedFile("diff", first_diff),
            },
        ),
        201,
    )
    assert body["draft_commit"]["author_date"] == "2024-01-01T23:00:00Z"
    # The second commit builds on the first: found through the stored series even without
    # validation_info.
    assert_ok(
        owner_client.post(
            f"{url}1/draft-commits/",
            {
                **meta,
                "commit_id": second,
                "parent_id": first,
                "diff": SimpleUploadedFile("diff", second_diff),
            },
        ),
        201,
    )
    body = assert_ok(
        put(
            owner_client,
            f"{url}1/",
            {
                "finalize_commit_series": "1",
                "validation_info": info,
                "cumulative_diff": SimpleUploadedFile("cumulative_diff", git_series["cumulative"]),
            },
        )
    )
    assert body["diff"]["commit_count"] == 2
