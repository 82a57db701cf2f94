"""Diff comments on reviews and replies (``.../reviews/{id}/diff-comments/`` and
``.../replies/{id}/diff-comments/``), compared with Review Board's transcripts, and counted in
the review request's issue counters (spec: code-and-files.md §7; golden files 108-122)."""

from __future__ import annotations

import json

import pytest

from diffs.models import DiffComment, FileDiff
from reviews.models import Repository, ReviewRequest
from reviews.services import reply_get_or_create_draft, review_get_or_create_draft

from ..conftest import assert_error, assert_ok
from ..factories import make_diffset, make_review_request
from ..golden_files import golden

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def world(owner, other):
    """The transcripts' setting: doc's review request 5 with public diff revision 2 whose
    file 11 is src/app.py; grumpy's draft review 3 of it."""
    repository = Repository.objects.create(name="localgit", path="/srv/git", tool="None")
    review_request = make_review_request(
        submitter=owner, repository=repository, people=[other], publish=True
    )
    make_diffset(review_request=review_request, revision=1)
    diffset = make_diffset(review_request=review_request, revision=2)
    filediff = FileDiff.objects.create(
        diffset=diffset,
        index=1,
        source_file="src/app.py",
        dest_file="src/app.py",
        source_revision="2cf6de42e1edef611790e2955250f2c0b45ea451",
        dest_detail="0ad0304b6c451067a9cd73d28147bc1da36e13e2",
        diff=b"",
    )
    review, _ = review_get_or_create_draft(review_request=review_request, user=other)
    return {"review_request": review_request, "filediff": filediff, "review": review}


def replace(world, **extra) -> dict[str, str]:
    review_request, review = world["review_request"], world["review"]
    values = {
        "review-requests/5/": f"review-requests/{review_request.pk}/",
        "reviews/3/": f"reviews/{review.pk}/",
        "files/11/": f"files/{world['filediff'].pk}/",
    }
    values.update(extra)
    return values


def comments_url(world) -> str:
    review_request, review = world["review_request"], world["review"]
    return f"/api/review-requests/{review_request.pk}/reviews/{review.pk}/diff-comments/"


def post(client, url, body: str):
    return client.post(url, body, content_type=FORM)


def test_create_golden_112_and_refusals(world, owner_client, other_client):
    url = comments_url(world)
    fid = world["filediff"].pk
    # 108-110: missing fields, an unknown file diff, a bad integer.
    assert json.loads(post(other_client, url, "").content) == golden(108).body()
    body = post(other_client, url, "filediff_id=99999&first_line=1&num_lines=1&text=x")
    assert json.loads(body.content) == golden(109).body()
    body = post(other_client, url, f"filediff_id={fid}&first_line=two&num_lines=1&text=x")
    assert json.loads(body.content) == golden(110).body()
    # 114: a negative line is an HTML 500 in Review Board; rbapi says 105.
    body = assert_error(
        post(other_client, url, f"filediff_id={fid}&first_line=-1&num_lines=1&text=x"), 400, 105
    )
    assert body["fields"] == {"first_line": ['"-1" is not an integer']}
    # 111: only the review's author writes in it.
    response = post(owner_client, url, f"filediff_id={fid}&first_line=1&num_lines=1&text=x")
    assert (response.status_code, json.loads(response.content)) == (403, golden(111).body())
    assert not DiffComment.objects.exists()
    response = post(
        other_client,
        url,
        f"filediff_id={fid}&first_line=2&num_lines=1&text=Why+100%3F&issue_opened=1"
        "&text_type=markdown",
    )
    body = assert_ok(response, 201, mimetype="review-diff-comment")
    comment = DiffComment.objects.get()
    want = golden(112).body(
        replace(
            world,
            **{
                '"id": 1': f'"id": {comment.pk}',
                "diff-comments/1/": f"diff-comments/{comment.pk}/",
            },
        )
    )
    want["diff_comment"]["timestamp"] = body["diff_comment"]["timestamp"]
    assert body == want
    assert not response.has_header("Location")
    assert (comment.first_line, comment.num_lines, comment.issue_status) == (2, 1, "O")


def test_issue_counters_and_owner_resolves_golden_119(
    world, owner_client, other_client, anon_client
):
    url = comments_url(world)
    fid = world["filediff"].pk
    body = assert_ok(
        post(
            other_client,
            url,
            f"filediff_id={fid}&first_line=2&num_lines=1&text=Why+100%3F&issue_opened=1&text_type=markdown",
        ),
        201,
    )
    comment_id = body["diff_comment"]["id"]
    review_url = url.removesuffix("diff-comments/")
    assert_ok(other_client.put(review_url, "public=1", content_type=FORM))
    review_request = ReviewRequest.objects.get(pk=world["review_request"].pk)
    assert review_request.issue_open_count == 1
    # 115: anyone may list a published review's comments; the line filter.
    listed = assert_ok(anon_client.get(url), mimetype="review-diff-comments")
    assert [c["id"] for c in listed["diff_comments"]] == [comment_id]
    assert assert_ok(anon_client.get(f"{url}?line=3"))["diff_comments"] == []
    response = owner_client.put(f"{url}{comment_id}/", "issue_status=resolved", content_type=FORM)
    body = assert_ok(response)
    want = golden(119).body(
        replace(
            world,
            **{
                '"id": 1': f'"id": {comment_id}',
                "diff-comments/1/": f"diff-comments/{comment_id}/",
            },
        )
    )
    for key in ("timestamp",):
        want["diff_comment"][key] = body["diff_comment"][key]
    want["last_activity_time"] = body["last_activity_time"]
    assert body == want
    review_request.refresh_from_db()
    assert (review_request.issue_open_count, review_request.issue_resolved_count) == (0, 1)


def test_reply_golden_120_122(world, owner, owner_client, other_client):
    url = comments_url(world)
    fid = world["filediff"].pk
    comment_id = assert_ok(
        post(
            other_client,
            url,
            f"filediff_id={fid}&first_line=2&num_lines=1&text=Why+100%3F&issue_opened=1",
        ),
        201,
    )["diff_comment"]["id"]
    assert_ok(other_client.put(url.removesuffix("diff-comments/"), "public=1", content_type=FORM))
    reply, _ = reply_get_or_create_draft(review=world["review"], user=owner)
    reply_url = url.removesuffix("diff-comments/") + f"replies/{reply.pk}/diff-comments/"
    response = post(
        owner_client, reply_url, f"reply_to_id={comment_id}&text=Because+the+spec+says+so."
    )
    body = assert_ok(response, 201, mimetype="review-reply-diff-comment")
    answer = DiffComment.objects.get(review=reply)
    swap = replace(
        world,
        **{
            '"id": 3': f'"id": {answer.pk}',
            "replies/4/": f"replies/{reply.pk}/",
            "diff-comments/3/": f"diff-comments/{answer.pk}/",
            "diff-comments/1/": f"diff-comments/{comment_id}/",
        },
    )
    want = golden(120).body(swap)
    want["diff_comment"]["timestamp"] = body["diff_comment"]["timestamp"]
    assert body == want
    assert (answer.filediff_id, answer.first_line, answer.issue_opened) == (fid, 2, False)
    # 121: the same comment answered again: 303 to the existing answer, text replaced.
    response = post(owner_client, reply_url, f"reply_to_id={comment_id}&text=Updated.")
    assert response.status_code == 303
    assert response["Location"].endswith(f"diff-comments/{answer.pk}/")
    assert json.loads(response.content)["diff_comment"]["text"] == "Updated."
    assert DiffComment.objects.filter(review=reply).count() == 1
    # 122: not a comment of the review.
    response = post(owner_client, reply_url, "reply_to_id=99999&text=x")
    assert json.loads(response.content) == golden(122).body()


def test_page_of_25_costs_as_one(
    world, other_client, anon_client, django_assert_max_num_queries, settings
):
    settings.RBAPI_RESPONSE_CACHE = False
    fid = world["filediff"].pk
    url = comments_url(world)
    assert_ok(post(other_client, url, f"filediff_id={fid}&first_line=1&num_lines=1&text=one"), 201)
    assert_ok(other_client.put(url.removesuffix("diff-comments/"), "public=1", content_type=FORM))
    with django_assert_max_num_queries(50) as one:
        assert len(assert_ok(anon_client.get(url))["diff_comments"]) == 1
    count = len(one.captured_queries)
    DiffComment.objects.bulk_create(
        [
            DiffComment(
                review=world["review"], filediff_id=fid, first_line=n, num_lines=1, text="x"
            )
            for n in range(24)
        ]
    )
    with django_assert_max_num_queries(count):
        assert len(assert_ok(anon_client.get(url))["diff_comments"]) == 25


def test_per_file_and_all_lists_golden_117_118(
    world, other, other_client, anon_client, owner_client
):
    url = comments_url(world)
    fid = world["filediff"].pk
    body = f"filediff_id={fid}&first_line=2&num_lines=1&text=Why+100%3F&issue_opened=1"
    response = post(other_client, url, body + "&text_type=markdown")
    comment_id = assert_ok(response, 201)["diff_comment"]["id"]
    review_request = world["review_request"]
    file_url = f"/api/review-requests/{review_request.pk}/diffs/2/files/{fid}/diff-comments/"
    # A draft review's comment is in no list but its author's.
    assert assert_ok(anon_client.get(file_url))["diff_comments"] == []
    assert assert_ok(anon_client.get("/api/diff-comments/"))["diff_comments"] == []
    mine = assert_ok(other_client.get("/api/diff-comments/"))["diff_comments"]
    assert [c["id"] for c in mine] == [comment_id]
    assert_ok(other_client.put(url.removesuffix("diff-comments/"), "public=1", content_type=FORM))
    swap = replace(
        world,
        **{'"id": 1': f'"id": {comment_id}', "diff-comments/1/": f"diff-comments/{comment_id}/"},
    )
    response = anon_client.get(f"{file_url}?line=2")
    listed = assert_ok(response, mimetype="file-diff-comments")
    want = golden(117).body({**swap, f"files/{fid}/diff-comments/": f"files/{fid}/diff-comments/"})
    want["diff_comments"][0]["timestamp"] = listed["diff_comments"][0]["timestamp"]
    want["links"]["self"]["href"] = listed["links"]["self"]["href"]
    assert listed == want
    assert assert_ok(anon_client.get(f"{file_url}?line=3"))["diff_comments"] == []
    response = anon_client.get(f"/api/diff-comments/?file-diff-id={fid}")
    everything = assert_ok(response, mimetype="review-diff-comments")
    assert response["Item-Content-Type"] == "application/vnd.reviewboard.org.diff-comment+json"
    want = golden(118).body(swap)
    want["diff_comments"][0]["timestamp"] = everything["diff_comments"][0]["timestamp"]
    want["links"]["self"]["href"] = everything["links"]["self"]["href"]
    assert everything == want
    assert assert_ok(anon_client.get("/api/diff-comments/?is-reply=0"))["diff_comments"] == []
    assert_error(anon_client.get(f"/api/diff-comments/{comment_id}/"), 404, 100)
    # A private repository hides its comments everywhere.
    repository = review_request.repository
    repository.public = False
    repository.save()
    assert assert_ok(anon_client.get("/api/diff-comments/"))["diff_comments"] == []
    assert_error(anon_client.get(file_url), 401, 103)


def test_draft_file_diff_only_for_those_who_may_edit_the_review_request(
    world, owner, owner_client, other_client
):
    # Review Board 8.1 accepts a comment on the review request's draft diff (found by the
    # replay); rbapi takes it from those who may edit the review request, and to anyone else
    # the draft file diff is as unknown as a missing one (the original accepts it from all).
    review_request = world["review_request"]
    draft = make_diffset(review_request=review_request, revision=3, public=False)
    pending = FileDiff.objects.create(
        diffset=draft, index=1, source_file="a", dest_file="a", source_revision="1", diff=b""
    )
    body = f"filediff_id={pending.pk}&first_line=1&num_lines=1&text=x"
    refused = assert_error(post(other_client, comments_url(world), body), 400, 105)
    assert refused["fields"] == {"filediff_id": ["This is not a valid filediff ID."]}
    assert not DiffComment.objects.exists()
    own, _ = review_get_or_create_draft(review_request=review_request, user=owner)
    url = f"/api/review-requests/{review_request.pk}/reviews/{own.pk}/diff-comments/"
    created = assert_ok(post(owner_client, url, body), 201)["diff_comment"]
    href = f"/api/review-requests/{review_request.pk}/draft/diffs/3/files/{pending.pk}/"
    assert created["links"]["filediff"]["href"] == f"http://testserver{href}"
    assert DiffComment.objects.get().filediff_id == pending.pk
    # Such a review waits for the diff's publish (225, as in Review Board 8.1).
    refused = assert_error(
        owner_client.put(url.removesuffix("diff-comments/"), "public=1", content_type=FORM),
        500,
        225,
    )
    assert refused["err"]["msg"] == (
        "Error publishing: This review cannot be published, because it includes a comment on a "
        "diff which has not yet been published."
    )
