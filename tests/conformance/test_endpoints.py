"""Conformance tables over every endpoint in the registry.

Each route (a resource's list or item URL) is checked for what every Review Board resource
shares: the envelope, the vendor mimetype, ETag -> 304, 405 with Allow for what it does not
allow, paging caps and 105 on bad paging values, and never a 500 on hostile input. A new
resource joins these tables by adding its sample URL values to ``SAMPLE_KWARGS``.
"""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import WatchedGroup, WatchedReviewRequest
from attachments.models import FileAttachment, FileAttachmentComment, ScreenshotComment
from diffs.models import DiffComment, DiffCommit
from oauth.models import Application
from rbapi.registry import build_tree
from reviews.models import GeneralComment, Group, Repository
from reviews.services import (
    draft_get_or_create,
    reply_get_or_create_draft,
    review_get_or_create_draft,
    review_publish,
    review_request_create,
    review_request_publish,
)
from status_updates.models import StatusUpdate
from webapi.services import api_token_create

from ..conftest import assert_error, assert_ok, make_user
from ..factories import make_diffset, make_file_attachment, make_screenshot

SAMPLE_KWARGS = {
    "username": "doc",
    "group_name": "devs",
    "repository_id": "{repository_id}",
    "review_request_id": "{review_request_id}",
    "change_id": "{change_id}",
    "review_id": "{review_id}",
    "reply_id": "{reply_id}",
    "comment_id": "{comment_id}",
    "status_update_id": "{status_update_id}",
    "api_token_id": "{api_token_id}",
    "app_id": "{app_id}",
    "oauth_token_id": "{oauth_token_id}",
    "file_attachment_id": "{file_attachment_id}",
    "screenshot_id": "{screenshot_id}",
    "watched_obj_id": "{review_request_id}",
    "diff_revision": "1",
    "filediff_id": "{filediff_id}",
    "commit_id": "{commit_id}",
    "extension_name": "reviewbotext.extension.ReviewBotExtension",
}
# Where one placeholder names different objects on different routes.
ROUTE_KWARGS = {
    "draft_diff-item": {"diff_revision": "2"},
    "review_diff_comment-item": {"comment_id": "{dc_comment_id}"},
    "file_diff_comment-item": {"comment_id": "{dc_comment_id}"},
    "review_reply_diff_comment-item": {"comment_id": "{dc_reply_comment_id}"},
    "draft_file_diff-list": {"diff_revision": "2"},
    "draft_commit-list": {"diff_revision": "2"},
    "draft_commit-item": {"diff_revision": "2"},
    "draft_file_diff-item": {"diff_revision": "2", "filediff_id": "{draft_filediff_id}"},
    "draft_original_file-item": {"diff_revision": "2", "filediff_id": "{draft_filediff_id}"},
    "draft_patched_file-item": {"diff_revision": "2", "filediff_id": "{draft_filediff_id}"},
    "review_reply_general_comment-item": {"comment_id": "{reply_comment_id}"},
    "review_file_attachment_comment-item": {"comment_id": "{fa_comment_id}"},
    "review_reply_file_attachment_comment-item": {"comment_id": "{fa_reply_comment_id}"},
    "review_request_file_attachment_comment-item": {"comment_id": "{fa_comment_id}"},
    "user_file_attachment-item": {"file_attachment_id": "{user_file_attachment_id}"},
    "diff_file_attachment-item": {"file_attachment_id": "{diff_file_attachment_id}"},
    "review_screenshot_comment-item": {"comment_id": "{ss_comment_id}"},
    "review_reply_screenshot_comment-item": {"comment_id": "{ss_reply_comment_id}"},
    "screenshot_comment-item": {"comment_id": "{ss_comment_id}"},
    "watched_review_group-item": {"watched_obj_id": "{group_id}"},
}
# Lists Review Board sends without links, total or paging (code-and-files.md §11).
UNPAGED_LISTS = {"watched_review_request-list", "watched_review_group-list"}
# Routes whose GET answers an error by design: route id -> (HTTP status, error code).
GET_ERRORS = {
    "repository_info-item": (501, 209),
    "repository_branches-item": (501, 209),
    "repository_commits-item": (501, 209),
    # /api/diff-comments/ has no item URL (code-and-files §7.3).
    "all_diff_comment-item": (404, 100),
    "all_file_attachment_comment-item": (404, 100),
    "all_general_comment-item": (404, 100),
    "all_review-item": (404, 100),
    # A watched object's item redirects to the object; archived and muted lists are write-only.
    "watched_review_request-item": (302, None),
    "watched_review_group-item": (302, None),
    **{
        f"{name}-{mode}": (405, 900)
        for name in ("archived_review_request", "muted_review_request")
        for mode in ("list", "item")
    },
    # /reviews/draft/ and /replies/draft/ redirect to the caller's draft.
    "review_draft-item": (302, None),
    "review_reply_draft-item": (302, None),
    # The world's file diff adds its file: it has no original side (code-and-files §5.2).
    "original_file-item": (404, 100),
    "draft_original_file-item": (404, 100),
    # Review Bot's resource shows the caller's own published reviews; admin has none here.
    "review_bot_review-item": (404, 100),
}
# Routes whose GET answers a file, as text/plain, not an envelope (code-and-files §5.2).
FILE_ROUTES = {"patched_file-item", "draft_patched_file-item"}
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH")
ROUTES = build_tree()


@pytest.fixture
def world(db):
    admin = make_user("admin", superuser=True)
    doc = make_user("doc")
    group = Group.objects.create(name="devs", display_name="Developers")
    group.users.add(doc)
    repo = Repository.objects.create(name="localgit", path="/srv/git")
    repo.users.add(doc)
    repo.review_groups.add(group)
    review_request = review_request_create(submitter=admin, repository=repo)
    draft = review_request.draft
    draft.summary, draft.description = "Conformance", "Every endpoint."
    draft.save()
    draft.target_people.set([doc])
    review_request_publish(review_request=review_request, user=admin)
    draft = draft_get_or_create(review_request=review_request)
    draft.summary = "Conformance (v2)"
    draft.save()
    review_request_publish(review_request=review_request, user=admin)
    change = review_request.changedescs.get()
    draft_get_or_create(review_request=review_request)
    review, _ = review_get_or_create_draft(review_request=review_request, user=doc)
    comment = GeneralComment.objects.create(
        review=review, text="Nit", issue_opened=True, issue_status="O"
    )
    attachment = make_file_attachment(review_request=review_request)
    fa_comment = FileAttachmentComment.objects.create(
        review=review, file_attachment=attachment, text="Blurry"
    )
    review_publish(review=review)
    reply, _ = reply_get_or_create_draft(review=review, user=admin)
    reply_comment = GeneralComment.objects.create(review=reply, text="Fixed", reply_to=comment)
    fa_reply_comment = FileAttachmentComment.objects.create(
        review=reply, file_attachment=attachment, text="Sharper now", reply_to=fa_comment
    )
    review_publish(review=reply)
    screenshot = make_screenshot(review_request=review_request)
    ss_comment = ScreenshotComment.objects.create(
        review=review, screenshot=screenshot, text="Misaligned", x=1, y=2, w=3, h=4
    )
    ss_reply_comment = ScreenshotComment.objects.create(
        review=reply, screenshot=screenshot, text="Aligned", reply_to=ss_comment
    )
    user_attachment = FileAttachment.objects.create(user=doc, caption="Tool output")
    WatchedReviewRequest.objects.create(user=doc, review_request=review_request)
    WatchedGroup.objects.create(user=doc, group=group)
    review_get_or_create_draft(review_request=review_request, user=admin)
    reply_get_or_create_draft(review=review, user=admin)
    status_update = StatusUpdate.objects.create(
        review_request=review_request, user=admin, service_id="ci", summary="CI"
    )
    filediff = make_diffset(review_request=review_request).files.get()
    diff_attachment = FileAttachment.objects.create(
        review_request=review_request,
        repository=repo,
        repo_path=filediff.dest_file,
        added_in_filediff=filediff,
        orig_filename="a.txt",
        mimetype="text/plain",
    )
    draft_diffset = make_diffset(review_request=review_request, revision=2, public=False)
    draft_filediff = draft_diffset.files.get()
    commit_id = "4c85f00eef4dce3fdcfed74fdf0d00b53666565f"
    for diffset in (filediff.diffset, draft_diffset):
        DiffCommit.objects.create(
            diffset=diffset,
            filename="diff",
            diff=bytes(diffset.diff),
            commit_id=commit_id,
            commit_message="Conformance",
            author_name="Admin",
            author_email="admin@example.com",
            author_date=timezone.now(),
        )
    lines = {"filediff": filediff, "first_line": 1, "num_lines": 1}
    dc_comment = DiffComment.objects.create(review=review, text="Typo", **lines)
    dc_reply_comment = DiffComment.objects.create(
        review=reply, text="Fixed", reply_to=dc_comment, **lines
    )
    api_token = api_token_create(user=doc, note="CI", policy={})
    app = Application.objects.create(
        user=admin,
        name="frontend",
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    oauth_token = AccessToken.objects.create(
        user=admin,
        application=app,
        token="conformance-token",
        scope="root:read",
        expires=timezone.now() + datetime.timedelta(hours=1),
    )
    client = Client()
    client.force_login(admin)
    return {
        "file_attachment_id": attachment.pk,
        "diff_file_attachment_id": diff_attachment.pk,
        "fa_comment_id": fa_comment.pk,
        "screenshot_id": screenshot.pk,
        "ss_comment_id": ss_comment.pk,
        "ss_reply_comment_id": ss_reply_comment.pk,
        "fa_reply_comment_id": fa_reply_comment.pk,
        "user_file_attachment_id": user_attachment.pk,
        "group_id": group.pk,
        "api_token_id": api_token.pk,
        "app_id": app.pk,
        "oauth_token_id": oauth_token.pk,
        "client": client,
        "repository_id": repo.pk,
        "review_request_id": review_request.pk,
        "change_id": change.pk,
        "review_id": review.pk,
        "reply_id": reply.pk,
        "comment_id": comment.pk,
        "reply_comment_id": reply_comment.pk,
        "status_update_id": status_update.pk,
        "filediff_id": filediff.pk,
        "draft_filediff_id": draft_filediff.pk,
        "commit_id": commit_id,
        "dc_comment_id": dc_comment.pk,
        "dc_reply_comment_id": dc_reply_comment.pk,
    }


def url_of(route, world) -> str:
    sample = {**SAMPLE_KWARGS, **ROUTE_KWARGS.get(route_id(route), {})}
    kwargs = {key: str(value).format(**world) for key, value in sample.items()}
    return route.template.format(**kwargs)


def route_id(route) -> str:
    return f"{route.resource.name}-{route.mode}"


def mimetype_of(route) -> str:
    resource = route.resource
    name = (
        resource.mimetype_list_resource_name
        if route.mode == "list"
        else resource.mimetype_item_resource_name
    )
    return f"application/vnd.reviewboard.org.{name}+json"


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_get_envelope_mimetype_and_etag(route, world):
    client = world["client"]
    url = url_of(route, world)
    response = client.get(url)
    if route_id(route) in FILE_ROUTES:
        assert (response.status_code, response["Content-Type"]) == (200, "text/plain")
        return
    if route_id(route) in GET_ERRORS:
        status, code = GET_ERRORS[route_id(route)]
        if code is None:
            assert response.status_code == status and response["Location"]
        else:
            assert_error(response, status, code)
        return
    body = assert_ok(response)
    assert response["Content-Type"] == mimetype_of(route)
    assert "charset" not in response["Content-Type"]
    assert response["X-Content-Type-Options"] == "nosniff"
    if route_id(route) in UNPAGED_LISTS:
        assert set(body) == {"stat", route.resource.list_result_key}
    elif route.mode == "list":
        assert response["Item-Content-Type"].startswith("application/vnd.reviewboard.org.")
        assert route.resource.list_result_key in body and "total_results" in body
        assert body["links"]["self"]["href"] == f"http://testserver{url}"
    keys = set(body) - {"stat", "links", "total_results", "count"}
    # RBTools needs exactly one payload key (the root and a user's watched/ alone have none and
    # are typed by mimetype: golden 151).
    assert len(keys) == 1 or route.resource.name in (
        "root",
        "watched",
        "validation",
        "diff_validation",
        "commit_validation",
    )
    etag = response["ETag"]
    assert len(etag) == 64 and '"' not in etag
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


@pytest.mark.parametrize(
    ("route", "method"),
    [
        (route, method)
        for route in ROUTES
        for method in ALL_METHODS
        if method
        not in (
            route.resource.list_methods if route.mode == "list" else route.resource.item_methods
        )
    ],
    ids=lambda value: route_id(value) if hasattr(value, "mode") else value,
)
def test_disallowed_methods_are_405_with_allow(route, method, world):
    response = world["client"].generic(method, url_of(route, world))
    # Review Board announces every method of the resource (list and items), less the refused
    # one, in the resource's declared order (golden 052, 053; golden-files 075, 161).
    resource = route.resource
    every = set(resource.list_methods) | set(resource.item_methods)
    allowed = [m for m in resource.methods_order if m in every and m != method]
    assert response.status_code == 405
    assert response["Allow"] == ", ".join(allowed)
    if method != "HEAD":
        assert_error(response, 405, 900)


@pytest.mark.parametrize(
    "route",
    [
        r
        for r in ROUTES
        if r.mode == "list" and route_id(r) not in GET_ERRORS and route_id(r) not in UNPAGED_LISTS
    ],
    ids=route_id,
)
def test_lists_page_and_reject_bad_paging(route, world):
    client = world["client"]
    url = url_of(route, world)
    body = assert_ok(client.get(url + "?max-results=100000"))
    assert len(body[route.resource.list_result_key]) <= 200
    fields = assert_error(client.get(url + "?max-results=abc"), 400, 105)["fields"]
    assert fields == {"max-results": ['"abc" is not an integer']}
    count = assert_ok(client.get(url + "?counts-only=1"))
    assert set(count) == {"count", "stat"} and count["count"] == body["total_results"]


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
@pytest.mark.parametrize(
    "query",
    [
        "expand=%00%ff&only-fields=%c3%28",
        "start=-1&max-results=-5",
        "force-text-type=%e2%82",
        "include-text-types=raw,html,plain,markdown",
        "callback=%3Cscript%3E",
        "q=%00",
    ],
)
def test_hostile_queries_never_500(route, query, world):
    response = world["client"].get(f"{url_of(route, world)}?{query}")
    expected = GET_ERRORS.get(route_id(route), (200,))[0]
    assert response.status_code in (expected, 400)
    if route_id(route) in FILE_ROUTES and response.status_code == 200:
        assert response["Content-Type"] == "text/plain"
        return
    assert response["Content-Type"].startswith("application/vnd.reviewboard.org.")


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", "{bad json"),
        ("application/json", "[1, 2]"),
        ("multipart/form-data; boundary=x", "--x\r\nbroken"),
        ("application/x-www-form-urlencoded", "a=%zz&extra_data:json=nope"),
        ("text/plain", "hello"),
    ],
)
def test_hostile_bodies_never_500(route, content_type, body, world):
    for method in ("POST", "PUT"):
        response = world["client"].generic(
            method, url_of(route, world), body, content_type=content_type
        )
        assert response.status_code < 500, response.content
        assert response["Content-Type"].startswith("application/vnd.reviewboard.org.")


@pytest.mark.parametrize(
    "url",
    [
        "/api/nosuch",
        "/api/nosuch/",
        "/api/users/doc/bogus/",
        "/api/review-requests/x/",
        "/api/groups/devs/users/doc/x/",
        "/api",
        "/nothing-here/",
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_unknown_urls_are_error_100(url, method, world):
    response = world["client"].generic(method, url)
    assert_error(response, 404, 100)
