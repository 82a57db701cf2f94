"""A list page costs the same queries whatever its size, for every list in the registry.

The conformance world (``test_endpoints.world``) gets more of everything under the same
parents, then each list route is read as a page of one item and as a page of every item; the
two must cost the same number of queries. A list that still holds a single item here is
skipped, saying so (its own resource tests measure it)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import WatchedGroup, WatchedReviewRequest
from attachments.models import FileAttachment, FileAttachmentComment, ScreenshotComment
from diffs.models import DiffComment, FileDiff
from oauth.models import Application
from reviews.models import GeneralComment, Group, Repository, Review, ReviewRequest
from reviews.services import (
    reply_get_or_create_draft,
    review_get_or_create_draft,
    review_publish,
)
from status_updates.models import StatusUpdate
from webapi.services import api_token_create

from ..conftest import make_user
from ..factories import make_file_attachment, make_review_request, make_screenshot
from .test_endpoints import ROUTES, route_id, url_of, world  # noqa: F401

LIST_ROUTES = [route for route in ROUTES if route.mode == "list"]
MORE = 6


@pytest.fixture
def crowded(world):  # noqa: F811
    """``world`` with MORE more objects in every list the fixture fills."""
    admin = make_user("admin2", superuser=True)
    review_request = ReviewRequest.objects.get(pk=world["review_request_id"])
    review = Review.objects.get(pk=world["review_id"])
    filediff = FileDiff.objects.get(pk=world["filediff_id"])
    attachment = FileAttachment.objects.get(pk=world["file_attachment_id"])
    screenshot_id = world["screenshot_id"]
    doc_user = review.user
    world_reply = Review.objects.get(pk=world["reply_id"])
    devs = Group.objects.get(name="devs")
    world_repo = Repository.objects.get(pk=world["repository_id"])
    draft_filediff = FileDiff.objects.get(pk=world["draft_filediff_id"])
    for n in range(MORE):
        user = make_user(f"reviewer{n}")
        team = Group.objects.create(name=f"team{n}", display_name=f"Team {n}")
        team.users.add(user)
        devs.users.add(user)
        world_repo.users.add(user)
        world_repo.review_groups.add(team)
        WatchedGroup.objects.create(user=doc_user, group=team)
        repo = Repository.objects.create(name=f"repo{n}", path=f"/srv/git{n}")
        repo.users.add(doc_user)
        # Replies of the world's reply: one per comment they answer (unique), so new ones.
        lines = {"filediff": filediff, "first_line": 1, "num_lines": 1}
        answered = (
            GeneralComment.objects.create(review=review, text=f"Q{n}"),
            DiffComment.objects.create(review=review, text=f"Q{n}", **lines),
            FileAttachmentComment.objects.create(
                review=review, file_attachment=attachment, text=f"Q{n}"
            ),
            ScreenshotComment.objects.create(
                review=review, screenshot_id=screenshot_id, text=f"Q{n}", x=1, y=2, w=3, h=4
            ),
        )
        for parent in answered:
            extra = {
                "filediff": lines,
                "file_attachment_id": {"file_attachment": attachment},
                "screenshot_id": {"screenshot_id": screenshot_id},
            }
            anchors = next((value for key, value in extra.items() if hasattr(parent, key)), {})
            type(parent).objects.create(
                review=world_reply, text=f"A{n}", reply_to=parent, **anchors
            )
        other = make_review_request(submitter=admin, publish=True, people=[doc_user])
        WatchedReviewRequest.objects.create(user=doc_user, review_request=other)
        extra, _ = review_get_or_create_draft(review_request=review_request, user=user)
        GeneralComment.objects.create(review=extra, text=f"Nit {n}")
        review_publish(review=extra)
        reply, _ = reply_get_or_create_draft(review=review, user=user)
        GeneralComment.objects.create(
            review=reply, text=f"Reply {n}", reply_to_id=world["comment_id"]
        )
        DiffComment.objects.create(
            review=reply,
            text=f"Done {n}",
            filediff=filediff,
            first_line=1,
            num_lines=1,
            reply_to_id=world["dc_comment_id"],
        )
        FileAttachmentComment.objects.create(
            review=reply,
            file_attachment=attachment,
            text=f"Sharp {n}",
            reply_to_id=world["fa_comment_id"],
        )
        ScreenshotComment.objects.create(
            review=reply,
            screenshot_id=screenshot_id,
            text=f"Aligned {n}",
            reply_to_id=world["ss_comment_id"],
        )
        review_publish(review=reply)
        GeneralComment.objects.create(review=review, text=f"More {n}")
        FileAttachmentComment.objects.create(
            review=review, file_attachment=attachment, text=f"Blur {n}"
        )
        ScreenshotComment.objects.create(
            review=review, screenshot_id=screenshot_id, text=f"Off {n}", x=1, y=2, w=3, h=4
        )
        DiffComment.objects.create(
            review=review, text=f"Typo {n}", filediff=filediff, first_line=1, num_lines=1
        )
        StatusUpdate.objects.create(
            review_request=review_request, user=admin, service_id=f"ci{n}", summary="CI"
        )
        make_file_attachment(review_request=review_request, caption=f"Shot {n}")
        make_screenshot(review_request=review_request, caption=f"Screen {n}")
        FileAttachment.objects.create(user=doc_user, caption=f"Output {n}")
        FileDiff.objects.create(
            diffset=draft_filediff.diffset,
            index=n + 1,
            source_file=f"d{n}.txt",
            dest_file=f"d{n}.txt",
            source_revision="PRE-CREATION",
            dest_detail="",
            diff=b"",
        )
        FileDiff.objects.create(
            diffset=filediff.diffset,
            index=n + 1,
            source_file=f"f{n}.txt",
            dest_file=f"f{n}.txt",
            source_revision="PRE-CREATION",
            dest_detail="",
            diff=b"",
        )
        api_token_create(user=doc_user, note=f"CI {n}", policy={})
        app = Application.objects.create(
            user=Application.objects.get(pk=world["app_id"]).user,
            name=f"frontend{n}",
            client_type="confidential",
            authorization_grant_type="client-credentials",
        )
        AccessToken.objects.create(
            user=app.user,
            application=app,
            token=f"crowded-token-{n}",
            scope="root:read",
            expires=timezone.now() + datetime.timedelta(hours=1),
        )
    return world


def page(client, url: str, size: int) -> tuple[int, int]:
    """(queries, items) of one GET of a page of ``size``."""
    separator = "&" if "?" in url else "?"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{url}{separator}max-results={size}")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    items = next((len(v) for k, v in body.items() if isinstance(v, list)), 0)
    return len(captured.captured_queries), items


@pytest.mark.parametrize("route", LIST_ROUTES, ids=route_id)
def test_a_page_costs_the_same_queries_at_one_item_and_at_many(route, crowded):
    from .test_endpoints import GET_ERRORS

    if route_id(route) in GET_ERRORS:
        pytest.skip("this list answers an error by design")
    client = crowded["client"]
    url = url_of(route, crowded)
    one, _ = page(client, url, 1)
    many, items = page(client, url, 25)
    if items < 2:
        pytest.skip(f"{route_id(route)} holds {items} item(s) in this world")
    assert many == one, f"{route_id(route)}: {one} queries for 1 item, {many} for {items}"
