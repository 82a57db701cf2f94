"""``/api/extensions/`` and Review Bot's review resource under its extension item, compared with
Review Board's transcripts where they exist (spec: code-and-files.md §12; golden files 173-176).

Review Board 8.1 as captured had no Review Bot extension: 175 and 176 are what Review Bot's
worker gets from it then, and what rbapi answers with the shim switched off.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diffs.models import DiffComment
from extensions.catalog import REVIEW_BOT_CLASS_NAME
from reviews.models import GeneralComment, Repository, Review, ReviewRequest
from reviews.services import review_get_or_create_draft

from ..conftest import assert_error, assert_ok, basic_auth, logged_in_client, make_user
from ..factories import make_diffset, make_review_request
from ..golden_files import GOLDEN_DIR, golden

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
EXTENSION_URL = f"/api/extensions/{REVIEW_BOT_CLASS_NAME}/"
REVIEWS_URL = f"{EXTENSION_URL}review-bot-reviews/"
FORM = "application/x-www-form-urlencoded"


def review_bot_entry() -> dict:
    """The Review Bot item as golden 174 shapes an extension with no author (Review Board
    Integrations there), with its fields and one more link: its review resource."""
    entry = golden(174).body()["extensions"][0]
    href = f"{BASE}{EXTENSION_URL}"
    entry.update(
        class_name=REVIEW_BOT_CLASS_NAME,
        name="Review Bot",
        summary=(
            "Review Bot's review resource, served by rbapi so that an unmodified Review Bot "
            "worker can publish the reviews of its code checkers."
        ),
        version="4.1",
        links={
            "self": {"href": href, "method": "GET"},
            "update": {"href": href, "method": "PUT"},
            "review_bot_reviews": {"href": f"{href}review-bot-reviews/", "method": "GET"},
        },
    )
    return entry


@pytest.fixture
def world(owner, other):
    """doc's published review request with one public diff revision (file ``a.txt``); the
    bot is ``reviewbot``, an ordinary user."""
    repository = Repository.objects.create(name="localgit", path="/srv/git", tool="None")
    review_request = make_review_request(
        submitter=owner, repository=repository, people=[other], publish=True
    )
    diffset = make_diffset(review_request=review_request, revision=1)
    bot = make_user("reviewbot")
    return {
        "review_request": review_request,
        "filediff": diffset.files.get(),
        "bot": bot,
        "bot_client": logged_in_client(bot),
    }


def bot_post(world, **fields) -> dict:
    """Review Bot's POST (clients.md §3.2), with ``fields`` replacing its values."""
    data = {
        "review_request_id": world["review_request"].pk,
        "body_top": "Pyflakes found problems.",
        "body_top_rich_text": "1",
        "body_bottom": "",
        "diff_comments": json.dumps(
            [
                {
                    "filediff_id": world["filediff"].pk,
                    "first_line": 1,
                    "num_lines": 1,
                    "text": "'os' imported but unused\n\nColumn: 1",
                    "issue_opened": True,
                    "rich_text": False,
                }
            ]
        ),
        "general_comments": json.dumps([{"text": "Ran on 1 file.", "issue_opened": False}]),
        "to_owner_only": "0",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def nothing_stored():
    return not Review.objects.exists() and not DiffComment.objects.exists()


class TestList:
    def test_anonymous_golden_173(self, anon_client):
        response = anon_client.get("/api/extensions/")
        assert_error(response, 401, 103)
        assert json.loads(response.content) == golden(173).body()
        assert response["WWW-Authenticate"] == golden(173).headers["www-authenticate"]

    def test_list_golden_174_shape(self, owner_client):
        response = owner_client.get("/api/extensions/")
        body = assert_ok(response, mimetype="extensions")
        assert response["Item-Content-Type"] == golden(174).headers["item-content-type"]
        want = golden(174).body()
        want.update(extensions=[review_bot_entry()], total_results=1)
        assert body == want

    def test_list_without_review_bot(self, owner_client, settings):
        settings.RBAPI_REVIEW_BOT_EXTENSION = False
        body = assert_ok(owner_client.get("/api/extensions/"))
        assert (body["extensions"], body["total_results"]) == ([], 0)

    def test_api_token_policy_hides_a_blocked_extension(self, owner, client):
        from webapi.models import WebAPIToken

        policy = {
            "resources": {
                "*": {"allow": ["*"], "block": []},
                "extension": {REVIEW_BOT_CLASS_NAME: {"block": ["*"]}},
            }
        }
        token = WebAPIToken.objects.create(user=owner, token="a" * 40, policy=policy)
        auth = {"HTTP_AUTHORIZATION": f"token {token.token}"}
        assert assert_ok(client.get("/api/extensions/", **auth))["extensions"] == []
        assert_error(client.get(EXTENSION_URL, **auth), 403, 101)

    def test_root_links_extensions_but_not_their_resources(self, anon_client):
        body = assert_ok(anon_client.get("/api/"))
        assert body["links"]["extensions"] == {"href": f"{BASE}/api/extensions/", "method": "GET"}
        templates = body["uri_templates"]
        assert templates["extension"] == f"{BASE}/api/extensions/{{extension_name}}/"
        assert templates["extensions"] == f"{BASE}/api/extensions/"
        assert not [name for name in templates if "review_bot" in name]


class TestItem:
    def test_review_bot_item(self, owner_client):
        response = owner_client.get(EXTENSION_URL)
        body = assert_ok(response, mimetype="extension")
        assert body == {"stat": "ok", "extension": review_bot_entry()}

    def test_missing_golden_175(self, admin, client, settings):
        settings.RBAPI_REVIEW_BOT_EXTENSION = False
        response = client.get(
            EXTENSION_URL, HTTP_AUTHORIZATION=basic_auth("admin"), HTTP_USER_AGENT="ReviewBot"
        )
        assert_error(response, 404, 100)
        assert json.loads(response.content) == golden(175).body()

    def test_unknown_extension_and_anonymous(self, owner_client, anon_client):
        assert_error(owner_client.get("/api/extensions/rbpowerpack.extension.X/"), 404, 100)
        assert_error(anon_client.get(EXTENSION_URL), 401, 103)

    def test_put_confirms_but_never_disables(self, admin_client, owner_client):
        assert_error(owner_client.put(EXTENSION_URL, "enabled=1", content_type=FORM), 403, 101)
        body = assert_ok(admin_client.put(EXTENSION_URL, "enabled=1", content_type=FORM))
        assert body["extension"] == review_bot_entry()
        body = assert_error(
            admin_client.put(EXTENSION_URL, "enabled=0", content_type=FORM), 500, 108
        )
        assert "settings" in body["err"]["msg"]
        body = assert_error(admin_client.put(EXTENSION_URL, "", content_type=FORM), 400, 105)
        assert body["fields"] == {"enabled": ["This field is required"]}
        # The extension is still listed and enabled.
        assert assert_ok(owner_client.get(EXTENSION_URL))["extension"]["enabled"] is True


class TestReviewBotReviews:
    def test_post_creates_and_publishes_a_review(self, world, anon_client):
        review_request = world["review_request"]
        response = world["bot_client"].post(REVIEWS_URL, bot_post(world))
        body = assert_ok(response, 201, mimetype="review-bot-review")
        review = Review.objects.get()
        href = f"{BASE}{REVIEWS_URL}{review.pk}/"
        assert body["review_bot_review"] == {
            "id": review.pk,
            "timestamp": body["review_bot_review"]["timestamp"],
            "public": True,
            "ship_it": False,
            "body_top": "Pyflakes found problems.",
            "body_top_text_type": "markdown",
            "body_bottom": "",
            "body_bottom_text_type": "plain",
            "extra_data": {},
            "text_type": None,
            "absolute_url": f"{BASE}/r/{review_request.pk}/#review{review.pk}",
            "links": {
                "self": {"href": href, "method": "GET"},
                "user": {
                    "href": f"{BASE}/api/users/reviewbot/",
                    "method": "GET",
                    "title": "reviewbot",
                },
                "review": {
                    "href": f"{BASE}/api/review-requests/{review_request.pk}/reviews/{review.pk}/",
                    "method": "GET",
                },
            },
        }
        assert (review.user, review.public, review.body_top_rich_text) == (
            world["bot"],
            True,
            True,
        )
        comment = DiffComment.objects.get()
        assert (comment.review, comment.filediff, comment.first_line, comment.num_lines) == (
            review,
            world["filediff"],
            1,
            1,
        )
        assert (comment.issue_opened, comment.issue_status, comment.rich_text) == (
            True,
            "O",
            False,
        )
        general = GeneralComment.objects.get()
        assert (general.review, general.text, general.issue_opened) == (
            review,
            "Ran on 1 file.",
            False,
        )
        # An ordinary published review: counted, listed and readable by everyone.
        assert ReviewRequest.objects.get(pk=review_request.pk).issue_open_count == 1
        reviews = assert_ok(anon_client.get(f"/api/review-requests/{review_request.pk}/reviews/"))
        assert [item["id"] for item in reviews["reviews"]] == [review.pk]
        comments_url = (
            f"/api/review-requests/{review_request.pk}/reviews/{review.pk}/diff-comments/"
        )
        listed = assert_ok(anon_client.get(comments_url))["diff_comments"]
        assert [(item["first_line"], item["issue_status"]) for item in listed] == [(1, "open")]
        # The bot's own reviews, and each one at its URL.
        mine = assert_ok(world["bot_client"].get(REVIEWS_URL), mimetype="review-bot-reviews")
        assert [item["id"] for item in mine["review_bot_reviews"]] == [review.pk]
        assert mine["links"] == {
            "self": {"href": f"{BASE}{REVIEWS_URL}", "method": "GET"},
            "create": {"href": f"{BASE}{REVIEWS_URL}", "method": "POST"},
        }
        item = assert_ok(world["bot_client"].get(f"{REVIEWS_URL}{review.pk}/"))
        assert item["review_bot_review"]["id"] == review.pk

    def test_golden_176_request_body(self, world):
        """The transcript's own multipart request (its ids swapped for this world's), which
        Review Board without the extension turned away, is a review here."""
        (path,) = GOLDEN_DIR.glob("176-*.txt")
        request = path.read_text().split("### REQUEST\n", 1)[1].split("### RESPONSE", 1)[0]
        head, _, payload = request.partition("\n\n")
        content_type = next(
            line.split(": ", 1)[1] for line in head.splitlines() if line.startswith("Content-Type")
        )
        payload = payload.rstrip("\n") + "\n"
        payload = payload.replace("\n5\n", f"\n{world['review_request'].pk}\n").replace(
            '"filediff_id": 11', f'"filediff_id": {world["filediff"].pk}'
        )
        response = world["bot_client"].post(
            REVIEWS_URL, payload.replace("\n", "\r\n").encode(), content_type=content_type
        )
        body = assert_ok(response, 201)
        review = Review.objects.get(pk=body["review_bot_review"]["id"])
        assert (review.body_top, review.body_top_rich_text, review.public) == (
            "Review Bot",
            True,
            True,
        )
        comment = DiffComment.objects.get()
        assert (comment.text, comment.first_line, comment.issue_opened) == ("E501", 2, True)
        assert not GeneralComment.objects.exists()

    def test_shim_switched_off_golden_176(self, world, settings):
        """Review Board without the extension answers an HTML 404 page; rbapi answers every
        unknown URL under /api/ with error 100 (spec README, precedence 3)."""
        settings.RBAPI_REVIEW_BOT_EXTENSION = False
        assert golden(176).status == 404
        response = world["bot_client"].post(REVIEWS_URL, bot_post(world))
        assert_error(response, 404, 100)
        assert nothing_stored()

    def test_other_extension_has_no_review_bot_reviews(self, world):
        url = "/api/extensions/rbintegrations.extension.RBIntegrationsExtension/"
        assert_error(world["bot_client"].get(f"{url}review-bot-reviews/"), 404, 100)

    def test_refusals_store_nothing(self, world, anon_client, other):
        client = world["bot_client"]
        assert_error(anon_client.post(REVIEWS_URL, bot_post(world)), 401, 103)
        assert_error(anon_client.get(REVIEWS_URL), 401, 103)
        body = assert_error(
            client.post(REVIEWS_URL, bot_post(world, review_request_id=None)), 400, 105
        )
        assert body["fields"] == {"review_request_id": ["This field is required"]}
        body = assert_error(
            client.post(REVIEWS_URL, bot_post(world, review_request_id="five")), 400, 105
        )
        assert body["fields"] == {"review_request_id": ['"five" is not an integer']}
        body = assert_error(
            client.post(REVIEWS_URL, bot_post(world, diff_comments="{not json")), 400, 105
        )
        assert body["fields"] == {"diff_comments": ["Must be a JSON list of objects"]}
        body = assert_error(
            client.post(
                REVIEWS_URL,
                bot_post(
                    world,
                    diff_comments=json.dumps(
                        [{"filediff_id": world["filediff"].pk, "first_line": None, "text": "x"}]
                    ),
                    general_comments=json.dumps([{"issue_opened": True}]),
                ),
            ),
            400,
            105,
        )
        assert body["fields"] == {
            "diff_comments": [
                "Comment 1: first_line: This field is required",
                "Comment 1: num_lines: This field is required",
            ],
            "general_comments": ["Comment 1: text: This field is required"],
        }
        # A file diff of another review request.
        elsewhere = make_review_request(submitter=other, people=[world["bot"]], publish=True)
        foreign = make_diffset(review_request=elsewhere).files.get()
        body = assert_error(
            client.post(
                REVIEWS_URL,
                bot_post(
                    world,
                    diff_comments=json.dumps(
                        [{"filediff_id": foreign.pk, "first_line": 1, "num_lines": 1, "text": "x"}]
                    ),
                ),
            ),
            400,
            105,
        )
        assert body["fields"] == {
            "diff_comments": ["Comment 1: filediff_id: This is not a valid filediff ID."]
        }
        assert_error(
            client.post(REVIEWS_URL, bot_post(world, review_request_id="99999")), 404, 100
        )
        assert nothing_stored()

    def test_hidden_unpublished_and_empty_reviews_are_refused(self, world, owner):
        client = world["bot_client"]
        unpublished = make_review_request(submitter=owner)
        response = client.post(REVIEWS_URL, bot_post(world, review_request_id=unpublished.pk))
        # A draft review request is its owner's alone.
        assert_error(response, 403, 101)
        owner_client = logged_in_client(owner)
        body = assert_error(
            owner_client.post(
                REVIEWS_URL,
                bot_post(world, review_request_id=unpublished.pk, diff_comments="[]"),
            ),
            500,
            225,
        )
        assert "review request is published" in body["err"]["msg"]
        body = assert_error(
            client.post(
                REVIEWS_URL,
                bot_post(world, body_top="", diff_comments="[]", general_comments="[]"),
            ),
            500,
            225,
        )
        assert "empty" in body["err"]["msg"]
        assert nothing_stored()

    def test_a_draft_left_on_the_bot_account_becomes_the_review(self, world):
        draft, _ = review_get_or_create_draft(
            review_request=world["review_request"], user=world["bot"]
        )
        body = assert_ok(world["bot_client"].post(REVIEWS_URL, bot_post(world)), 201)
        assert body["review_bot_review"]["id"] == draft.pk
        assert Review.objects.get().public is True

    def test_list_costs_constant_queries(self, world, settings):
        settings.RBAPI_RESPONSE_CACHE = False
        client = world["bot_client"]

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert_ok(client.get(REVIEWS_URL))
            return len(queries)

        assert_ok(client.post(REVIEWS_URL, bot_post(world)), 201)
        one = count()
        for _ in range(19):
            assert_ok(client.post(REVIEWS_URL, bot_post(world)), 201)
        body = assert_ok(client.get(REVIEWS_URL))
        assert body["total_results"] == 20
        assert count() == one
