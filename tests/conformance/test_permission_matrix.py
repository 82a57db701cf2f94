"""The permission matrix: every endpoint and method of the resource registry, for every kind of
caller, with the status and error code Review Board answers.

A cell is (route, method, identity). The identities are:

* ``anonymous`` -- no credentials;
* ``owner`` -- the user who owns the objects under test (the submitter of the review request,
  the author of the reviews, replies and comments, the creator of the status update, the
  user whose API tokens, OAuth2 applications and OAuth2 tokens they are);
* ``other`` -- a logged-in user with no relation to those objects;
* ``superuser``;
* ``token_allow`` -- an API token of the owner whose policy allows everything;
* ``token_block`` -- an API token of the owner whose policy blocks exactly this resource's
  policy ID for this method;
* ``oauth_scoped`` -- an OAuth2 access token of the owner (enabled application) holding exactly
  the scope ``<policy_id>:<read|write|destroy>`` this method needs;
* ``oauth_unscoped`` -- the same with only the default scope ``root:read``.

``EXPECTED`` says, for each (route, method), what the four human identities get; the token
identities follow from the owner's answer by the rules of mechanics.md §9 (see
``expectation``). Both tables are checked against the registry, so a new resource or method
without expectations (or without a request body for its writes) fails.

Every cell starts from the same fresh world: it is built once for the module (through the
services and the ORM, not over HTTP) inside a transaction, and each cell runs in a savepoint
that is rolled back, so the writes and deletes of one cell never leak into another.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken

from accounts.models import WatchedGroup, WatchedReviewRequest
from attachments.models import FileAttachment, FileAttachmentComment, ScreenshotComment
from diffs.models import DiffComment, DiffCommit
from oauth.models import Application
from rbapi.registry import build_tree
from reviews.models import GeneralComment, Group, Repository, Review
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

ROUTES = build_tree()
MATRIX_METHODS = ("GET", "POST", "PUT", "DELETE")
BODY_METHODS = ("POST", "PUT")
IDENTITIES = (
    "anonymous",
    "owner",
    "other",
    "superuser",
    "token_allow",
    "token_block",
    "oauth_scoped",
    "oauth_unscoped",
)
HUMANS = ("owner", "other", "anonymous", "superuser")
VERBS = {"GET": "read", "POST": "write", "PUT": "write", "DELETE": "destroy"}
DEFAULT_SCOPE = "root:read"

# Review Board refuses API tokens (101) on the token-management resources, so a leaked token
# can neither mint API tokens nor read OAuth2 access tokens (RB: ``APITokenResource`` and
# ``OAuthTokenResource`` both set ``api_token_access_allowed = False``).
# rbapi also refuses them on OAuth2 applications: a token that could create an application
# could mint itself client-credentials tokens with any scope.
REFUSES_API_TOKENS = {"api_token", "oauth_app", "oauth_token"}
# ... and OAuth2 tokens (113) on the same, so a token cannot widen its own scopes
# (mechanics.md §9: "A resource that refuses OAuth (api tokens, oauth tokens) gives 113").
REFUSES_OAUTH2 = {"api_token", "oauth_app", "oauth_token"}


def route_id(route) -> str:
    return f"{route.resource.name}-{route.mode}"


def methods_of(route) -> tuple[str, ...]:
    allowed = route.resource.list_methods if route.mode == "list" else route.resource.item_methods
    return tuple(method for method in MATRIX_METHODS if method in allowed)


ROUTES_BY_ID = {route_id(route): route for route in ROUTES}
REGISTRY_KEYS = {(route_id(route), method) for route in ROUTES for method in methods_of(route)}

# --- expectations for the human identities -----------------------------------------------------
# Each entry: (owner, other, anonymous, superuser). An int is a success status; a tuple is
# (HTTP status, error code).
DENIED = (403, 101)
LOGIN = (401, 103)
MISSING = (404, 100)
PUBLIC = (200, 200, 200, 200)
LOGGED_IN_ONLY = (200, 200, LOGIN, 200)
OWNER_OR_ADMIN_200 = (200, DENIED, LOGIN, 200)
OWNER_OR_ADMIN_201 = (201, DENIED, LOGIN, 201)
OWNER_OR_ADMIN_204 = (204, DENIED, LOGIN, 204)
ADMIN_ONLY_200 = (DENIED, DENIED, LOGIN, 200)
ADMIN_ONLY_201 = (DENIED, DENIED, LOGIN, 201)
ADMIN_ONLY_204 = (DENIED, DENIED, LOGIN, 204)
ANY_USER_201 = (201, 201, LOGIN, 201)
# Another user's OAuth2 application or token is filtered out, not refused (RB: 100).
OWN_OR_MISSING_200 = (200, MISSING, LOGIN, 200)
OWN_OR_MISSING_204 = (204, MISSING, LOGIN, 204)
# Lists of comments on objects rbapi does not store yet: empty, so no item exists.
NO_SUCH_ITEM = (MISSING, MISSING, MISSING, MISSING)
# An upload without a file part.
NO_FILE = (400, 105)
# /reviews/draft/ and /replies/draft/: 302 to the caller's own draft; only the owner has one.
DRAFT_REDIRECT = (302, MISSING, LOGIN, MISSING)

EXPECTED: dict[tuple[str, str], tuple[Any, Any, Any, Any]] = {
    ("root-item", "GET"): PUBLIC,
    ("info-item", "GET"): PUBLIC,
    ("session-item", "GET"): PUBLIC,
    ("session-item", "DELETE"): (204, 204, LOGIN, 204),
    # Groups: admins manage them; members join and leave groups that are not invite-only.
    ("group-list", "GET"): PUBLIC,
    ("group-list", "POST"): ADMIN_ONLY_201,
    ("group-item", "GET"): PUBLIC,
    ("group-item", "PUT"): ADMIN_ONLY_200,
    ("group-item", "DELETE"): ADMIN_ONLY_204,
    ("review_group_user-list", "GET"): PUBLIC,
    ("review_group_user-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_group_user-item", "GET"): PUBLIC,
    ("review_group_user-item", "DELETE"): OWNER_OR_ADMIN_204,
    # Users: anyone reads; the user or an admin edits; only holders of auth.add_user create.
    ("user-list", "GET"): PUBLIC,
    ("user-list", "POST"): ADMIN_ONLY_201,
    ("user-item", "GET"): PUBLIC,
    ("user-item", "PUT"): OWNER_OR_ADMIN_200,
    ("api_token-list", "GET"): OWNER_OR_ADMIN_200,
    ("api_token-list", "POST"): OWNER_OR_ADMIN_201,
    ("api_token-item", "GET"): OWNER_OR_ADMIN_200,
    ("api_token-item", "PUT"): OWNER_OR_ADMIN_200,
    ("api_token-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("oauth_app-list", "GET"): LOGGED_IN_ONLY,
    ("oauth_app-list", "POST"): ANY_USER_201,
    ("oauth_app-item", "GET"): OWN_OR_MISSING_200,
    ("oauth_app-item", "PUT"): OWN_OR_MISSING_200,
    ("oauth_app-item", "DELETE"): OWN_OR_MISSING_204,
    ("oauth_token-list", "GET"): LOGGED_IN_ONLY,
    ("oauth_token-item", "GET"): OWN_OR_MISSING_200,
    ("oauth_token-item", "PUT"): OWN_OR_MISSING_200,
    ("oauth_token-item", "DELETE"): OWN_OR_MISSING_204,
    ("repository-list", "GET"): PUBLIC,
    ("repository-item", "GET"): PUBLIC,
    # rbapi talks to no SCM: every caller who may read the repository gets 209 (HTTP 501).
    ("repository_info-item", "GET"): ((501, 209),) * 4,
    ("repository_branches-item", "GET"): ((501, 209),) * 4,
    ("repository_commits-item", "GET"): ((501, 209),) * 4,
    # Admins manage repositories and their access lists (code-and-files.md §1).
    ("repository-list", "POST"): ADMIN_ONLY_201,
    # Diffs (code-and-files.md §2, §4, §5): a form body carries no file, so writers get 105.
    ("validation-item", "GET"): PUBLIC,
    ("diff_validation-item", "GET"): PUBLIC,
    ("diff_validation-item", "POST"): (NO_FILE, NO_FILE, LOGIN, NO_FILE),
    ("diff-list", "GET"): PUBLIC,
    ("diff-list", "POST"): (NO_FILE, DENIED, LOGIN, NO_FILE),
    ("diff-item", "GET"): PUBLIC,
    ("diff-item", "PUT"): OWNER_OR_ADMIN_200,
    ("file_diff-list", "GET"): PUBLIC,
    ("diff_context-item", "GET"): PUBLIC,
    ("file_diff-item", "GET"): PUBLIC,
    ("file_diff-item", "PUT"): OWNER_OR_ADMIN_200,
    ("draft_diff-list", "GET"): OWNER_OR_ADMIN_200,
    ("draft_diff-list", "POST"): (NO_FILE, DENIED, LOGIN, NO_FILE),
    ("draft_diff-item", "GET"): OWNER_OR_ADMIN_200,
    ("draft_diff-item", "PUT"): OWNER_OR_ADMIN_200,
    ("draft_file_diff-list", "GET"): OWNER_OR_ADMIN_200,
    ("draft_file_diff-item", "GET"): OWNER_OR_ADMIN_200,
    ("draft_file_diff-item", "PUT"): OWNER_OR_ADMIN_200,
    # History (code-and-files §2, §4.4): the world's review request was not created with
    # history, so adding a commit is 102 for those who may edit it.
    ("commit_validation-item", "GET"): PUBLIC,
    ("commit_validation-item", "POST"): (NO_FILE, NO_FILE, LOGIN, NO_FILE),
    ("commit-list", "GET"): PUBLIC,
    ("commit-item", "GET"): PUBLIC,
    ("commit-item", "PUT"): OWNER_OR_ADMIN_200,
    ("draft_commit-list", "GET"): OWNER_OR_ADMIN_200,
    ("draft_commit-list", "POST"): ((400, 102), DENIED, LOGIN, (400, 102)),
    ("draft_commit-item", "GET"): OWNER_OR_ADMIN_200,
    ("draft_commit-item", "PUT"): OWNER_OR_ADMIN_200,
    # The file sides (code-and-files §5.2); the world's file is added: no original.
    ("original_file-item", "GET"): NO_SUCH_ITEM,
    ("patched_file-item", "GET"): PUBLIC,
    ("draft_original_file-item", "GET"): (MISSING, DENIED, LOGIN, MISSING),
    ("draft_patched_file-item", "GET"): OWNER_OR_ADMIN_200,
    ("repository-item", "PUT"): ADMIN_ONLY_200,
    ("repository-item", "DELETE"): ADMIN_ONLY_204,
    ("repository_user-list", "GET"): ADMIN_ONLY_200,
    ("repository_user-list", "POST"): ADMIN_ONLY_201,
    ("repository_user-item", "GET"): ADMIN_ONLY_200,
    ("repository_user-item", "DELETE"): ADMIN_ONLY_204,
    ("repository_group-list", "GET"): ADMIN_ONLY_200,
    ("repository_group-list", "POST"): ADMIN_ONLY_201,
    ("repository_group-item", "GET"): ADMIN_ONLY_200,
    ("repository_group-item", "DELETE"): ADMIN_ONLY_204,
    # Review requests: any user creates; the owner (or status/edit permission) changes;
    # only reviews.delete_reviewrequest deletes -- not even the owner (resources.md §1).
    ("review_request-list", "GET"): PUBLIC,
    ("review_request-list", "POST"): ANY_USER_201,
    ("review_request-item", "GET"): PUBLIC,
    ("review_request-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_request-item", "DELETE"): ADMIN_ONLY_204,
    ("change-list", "GET"): PUBLIC,
    ("change-item", "GET"): PUBLIC,
    ("last_update-item", "GET"): PUBLIC,
    # The draft: only those who may edit the review request, even to read it (§2).
    ("draft-item", "GET"): OWNER_OR_ADMIN_200,
    ("draft-item", "POST"): OWNER_OR_ADMIN_201,
    ("draft-item", "PUT"): OWNER_OR_ADMIN_200,
    ("draft-item", "DELETE"): OWNER_OR_ADMIN_204,
    # Reviews: GETs name the published review; PUT and DELETE the owner's draft review, which
    # nobody else may see (§4).
    ("review-list", "GET"): PUBLIC,
    ("review-list", "POST"): ANY_USER_201,
    ("review-item", "GET"): PUBLIC,
    ("review-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_draft-item", "GET"): DRAFT_REDIRECT,
    ("review_reply-list", "GET"): PUBLIC,
    ("review_reply-list", "POST"): ANY_USER_201,
    ("review_reply-item", "GET"): PUBLIC,
    ("review_reply-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_reply-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_reply_draft-item", "GET"): DRAFT_REDIRECT,
    # General comments: GETs name the published review's comment; writes go to the owner's
    # draft review (or draft reply), which nobody else may see.
    ("review_general_comment-list", "GET"): PUBLIC,
    ("review_general_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_general_comment-item", "GET"): PUBLIC,
    ("review_general_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_general_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_reply_general_comment-list", "GET"): PUBLIC,
    ("review_reply_general_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_reply_general_comment-item", "GET"): PUBLIC,
    ("review_reply_general_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_reply_general_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_diff_comment-list", "GET"): PUBLIC,
    ("review_diff_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_diff_comment-item", "GET"): PUBLIC,
    ("review_diff_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_diff_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("file_diff_comment-list", "GET"): PUBLIC,
    ("file_diff_comment-item", "GET"): PUBLIC,
    # /api/diff-comments/ has no item URL (code-and-files §7.3).
    ("all_diff_comment-list", "GET"): PUBLIC,
    ("all_diff_comment-item", "GET"): NO_SUCH_ITEM,
    ("all_file_attachment_comment-list", "GET"): PUBLIC,
    ("all_file_attachment_comment-item", "GET"): NO_SUCH_ITEM,
    ("all_general_comment-list", "GET"): PUBLIC,
    ("all_general_comment-item", "GET"): NO_SUCH_ITEM,
    ("all_review-list", "GET"): PUBLIC,
    ("all_review-item", "GET"): NO_SUCH_ITEM,
    # Diff file attachments: the form is checked first (golden 103), then the right (104).
    ("diff_file_attachment-list", "GET"): PUBLIC,
    ("diff_file_attachment-list", "POST"): (NO_FILE, NO_FILE, LOGIN, NO_FILE),
    ("diff_file_attachment-item", "GET"): PUBLIC,
    ("review_screenshot_comment-list", "GET"): PUBLIC,
    ("review_screenshot_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_screenshot_comment-item", "GET"): PUBLIC,
    ("review_screenshot_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_screenshot_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_reply_diff_comment-list", "GET"): PUBLIC,
    ("review_reply_diff_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_reply_diff_comment-item", "GET"): PUBLIC,
    ("review_reply_diff_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_reply_diff_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_reply_screenshot_comment-list", "GET"): PUBLIC,
    ("review_reply_screenshot_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_reply_screenshot_comment-item", "GET"): PUBLIC,
    ("review_reply_screenshot_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_reply_screenshot_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    # Screenshots (legacy, code-and-files.md §10) behave as file attachments.
    ("screenshot-list", "GET"): PUBLIC,
    ("screenshot-list", "POST"): (NO_FILE, DENIED, LOGIN, NO_FILE),
    ("screenshot-item", "GET"): PUBLIC,
    ("screenshot-item", "PUT"): OWNER_OR_ADMIN_200,
    ("screenshot-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("draft_screenshot-list", "GET"): OWNER_OR_ADMIN_200,
    ("draft_screenshot-list", "POST"): (NO_FILE, DENIED, LOGIN, NO_FILE),
    ("draft_screenshot-item", "GET"): OWNER_OR_ADMIN_200,
    ("draft_screenshot-item", "PUT"): OWNER_OR_ADMIN_200,
    ("draft_screenshot-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("screenshot_comment-list", "GET"): PUBLIC,
    ("screenshot_comment-item", "GET"): PUBLIC,
    # Status updates: any user who can read the review request posts one (upstream quirk);
    # the creator, the review request's owner or holders of change_statusupdate change it.
    ("status_update-list", "GET"): PUBLIC,
    ("status_update-list", "POST"): ANY_USER_201,
    ("status_update-item", "GET"): PUBLIC,
    ("status_update-item", "PUT"): OWNER_OR_ADMIN_200,
    ("status_update-item", "DELETE"): OWNER_OR_ADMIN_204,
    # File attachments (code-and-files.md §9): the owner (or an admin) uploads, edits and
    # deletes; the matrix's form bodies carry no file, so an allowed upload stops at 105.
    ("file_attachment-list", "GET"): PUBLIC,
    ("file_attachment-list", "POST"): (NO_FILE, DENIED, LOGIN, NO_FILE),
    ("file_attachment-item", "GET"): PUBLIC,
    ("file_attachment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("file_attachment-item", "DELETE"): OWNER_OR_ADMIN_204,
    # rbapi shows the draft's attachments only to those who may edit it (RB: any user).
    ("draft_file_attachment-list", "GET"): OWNER_OR_ADMIN_200,
    ("draft_file_attachment-list", "POST"): (NO_FILE, DENIED, LOGIN, NO_FILE),
    ("draft_file_attachment-item", "GET"): OWNER_OR_ADMIN_200,
    ("draft_file_attachment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("draft_file_attachment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_request_file_attachment_comment-list", "GET"): PUBLIC,
    ("review_request_file_attachment_comment-item", "GET"): PUBLIC,
    ("review_file_attachment_comment-list", "GET"): PUBLIC,
    ("review_file_attachment_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_file_attachment_comment-item", "GET"): PUBLIC,
    ("review_file_attachment_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_file_attachment_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("review_reply_file_attachment_comment-list", "GET"): PUBLIC,
    ("review_reply_file_attachment_comment-list", "POST"): OWNER_OR_ADMIN_201,
    ("review_reply_file_attachment_comment-item", "GET"): PUBLIC,
    ("review_reply_file_attachment_comment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("review_reply_file_attachment_comment-item", "DELETE"): OWNER_OR_ADMIN_204,
    # A user's child lists (§11): watched lists are read by anyone and their items redirect;
    # archived and muted lists take any user's POST (for the caller's own state).
    ("user_file_attachment-list", "GET"): OWNER_OR_ADMIN_200,
    ("user_file_attachment-list", "POST"): OWNER_OR_ADMIN_201,
    ("user_file_attachment-item", "GET"): OWNER_OR_ADMIN_200,
    ("user_file_attachment-item", "PUT"): OWNER_OR_ADMIN_200,
    ("user_file_attachment-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("watched-item", "GET"): PUBLIC,
    ("watched_review_request-list", "GET"): PUBLIC,
    ("watched_review_request-list", "POST"): OWNER_OR_ADMIN_201,
    ("watched_review_request-item", "GET"): (302,) * 4,
    ("watched_review_request-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("watched_review_group-list", "GET"): PUBLIC,
    ("watched_review_group-list", "POST"): OWNER_OR_ADMIN_201,
    ("watched_review_group-item", "GET"): (302,) * 4,
    ("watched_review_group-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("archived_review_request-list", "POST"): ANY_USER_201,
    ("archived_review_request-item", "DELETE"): OWNER_OR_ADMIN_204,
    ("muted_review_request-list", "POST"): ANY_USER_201,
    ("muted_review_request-item", "DELETE"): OWNER_OR_ADMIN_204,
    # Extensions (code-and-files.md §12): any logged-in user reads them; admins may PUT.
    ("extension-list", "GET"): LOGGED_IN_ONLY,
    ("extension-item", "GET"): LOGGED_IN_ONLY,
    ("extension-item", "PUT"): ADMIN_ONLY_200,
    # Review Bot's reviews: anyone who may review the review request posts one; GETs show
    # the caller's own published reviews (the world's review is the owner's).
    ("review_bot_review-list", "GET"): LOGGED_IN_ONLY,
    ("review_bot_review-list", "POST"): ANY_USER_201,
    ("review_bot_review-item", "GET"): (200, MISSING, LOGIN, MISSING),
}

# --- request bodies: enough for an allowed caller to succeed -----------------------------------
# Values are formatted with the world's IDs.
BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("group-list", "POST"): {"name": "qa", "display_name": "Quality"},
    ("group-item", "PUT"): {"display_name": "Developers (renamed)"},
    ("review_group_user-list", "POST"): {"username": "doc"},
    ("user-list", "POST"): {"username": "happy", "password": "happy", "email": "h@example.com"},
    ("user-item", "PUT"): {"first_name": "Doctor"},
    ("api_token-list", "POST"): {"note": "matrix", "policy": "{{}}"},
    ("api_token-item", "PUT"): {"note": "renamed"},
    ("oauth_app-list", "POST"): {
        "name": "matrix-app",
        "client_type": "confidential",
        "authorization_grant_type": "client-credentials",
    },
    ("oauth_app-item", "PUT"): {"name": "renamed"},
    ("oauth_token-item", "PUT"): {"add_scopes": "review_request:read"},
    ("repository-list", "POST"): {"name": "matrix", "tool": "None"},
    ("diff_validation-item", "POST"): {"repository": "{repository_id}"},
    ("diff-list", "POST"): {"basedir": ""},
    ("diff-item", "PUT"): {"extra_data.matrix": "1"},
    ("file_diff-item", "PUT"): {"extra_data.matrix": "1"},
    ("draft_diff-list", "POST"): {"basedir": ""},
    ("draft_diff-item", "PUT"): {"extra_data.matrix": "1"},
    ("draft_file_diff-item", "PUT"): {"extra_data.matrix": "1"},
    ("commit_validation-item", "POST"): {"repository": "{repository_id}"},
    ("commit-item", "PUT"): {"extra_data.matrix": "1"},
    ("draft_commit-list", "POST"): {"commit_id": "abc"},
    ("draft_commit-item", "PUT"): {"extra_data.matrix": "1"},
    ("repository-item", "PUT"): {"extra_data.matrix": "1"},
    ("repository_user-list", "POST"): {"username": "grumpy"},
    ("repository_group-list", "POST"): {"group_name": "devs"},
    ("review_request-list", "POST"): {"repository": "{repository_id}"},
    ("review_request-item", "PUT"): {"extra_data.matrix": "1"},
    ("draft-item", "POST"): {"summary": "Posted summary"},
    ("draft-item", "PUT"): {"summary": "Put summary"},
    ("review-list", "POST"): {"body_top": "Looks good."},
    ("review-item", "PUT"): {"body_top": "Edited."},
    ("review_reply-list", "POST"): {"body_top": "Thanks."},
    ("review_reply-item", "PUT"): {"body_top": "Edited reply."},
    ("review_general_comment-list", "POST"): {"text": "Another nit", "issue_opened": "1"},
    ("review_general_comment-item", "PUT"): {"text": "Edited nit"},
    ("review_reply_general_comment-list", "POST"): {
        "reply_to_id": "{second_comment_id}",
        "text": "Done.",
    },
    ("review_reply_general_comment-item", "PUT"): {"text": "Edited answer"},
    ("status_update-list", "POST"): {"service_id": "lint", "summary": "Lint"},
    ("status_update-item", "PUT"): {"state": "done-success"},
    ("file_attachment-list", "POST"): {"caption": "No file"},
    ("diff_file_attachment-list", "POST"): {"filediff": "{filediff_id}"},
    ("file_attachment-item", "PUT"): {"caption": "Renamed"},
    ("draft_file_attachment-list", "POST"): {"caption": "No file"},
    ("draft_file_attachment-item", "PUT"): {"caption": "Renamed in draft"},
    ("review_file_attachment_comment-list", "POST"): {
        "file_attachment_id": "{file_attachment_id}",
        "text": "Blurry",
    },
    ("review_file_attachment_comment-item", "PUT"): {"text": "Edited"},
    ("review_reply_file_attachment_comment-list", "POST"): {
        "reply_to_id": "{second_fa_comment_id}",
        "text": "Sharper now.",
    },
    ("review_reply_file_attachment_comment-item", "PUT"): {"text": "Edited answer"},
    ("review_diff_comment-list", "POST"): {
        "filediff_id": "{filediff_id}",
        "first_line": "1",
        "num_lines": "2",
        "text": "Typo",
    },
    ("review_diff_comment-item", "PUT"): {"text": "Edited"},
    ("review_reply_diff_comment-list", "POST"): {
        "reply_to_id": "{second_dc_comment_id}",
        "text": "Fixed.",
    },
    ("review_reply_diff_comment-item", "PUT"): {"text": "Edited answer"},
    ("user_file_attachment-list", "POST"): {"caption": "Tool output"},
    ("user_file_attachment-item", "PUT"): {"caption": "Renamed output"},
    ("watched_review_request-list", "POST"): {"object_id": "{review_request_id}"},
    ("extension-item", "PUT"): {"enabled": "1"},
    ("review_bot_review-list", "POST"): {
        "review_request_id": "{review_request_id}",
        "body_top": "Review Bot",
        "diff_comments": '[{{"filediff_id": {filediff_id}, "first_line": 1, "num_lines": 1, '
        '"text": "E501"}}]',
    },
    ("watched_review_group-list", "POST"): {"object_id": "devs"},
    ("archived_review_request-list", "POST"): {"object_id": "{review_request_id}"},
    ("muted_review_request-list", "POST"): {"object_id": "{review_request_id}"},
    ("screenshot-list", "POST"): {"caption": "No file"},
    ("screenshot-item", "PUT"): {"caption": "Renamed"},
    ("draft_screenshot-list", "POST"): {"caption": "No file"},
    ("draft_screenshot-item", "PUT"): {"caption": "Renamed in draft"},
    ("review_screenshot_comment-list", "POST"): {
        "screenshot_id": "{screenshot_id}",
        "text": "Misaligned",
        "x": "1",
        "y": "2",
        "w": "3",
        "h": "4",
    },
    ("review_screenshot_comment-item", "PUT"): {"text": "Edited"},
    ("review_reply_screenshot_comment-list", "POST"): {
        "reply_to_id": "{second_ss_comment_id}",
        "text": "Aligned now.",
    },
    ("review_reply_screenshot_comment-item", "PUT"): {"text": "Edited answer"},
}

# --- which objects each cell's URL names ------------------------------------------------------
URL_KWARGS = {
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
    "watched_obj_id": "{review_request_id}",
    "screenshot_id": "{screenshot_id}",
    "diff_revision": "1",
    "filediff_id": "{filediff_id}",
    "commit_id": "{commit_id}",
    "extension_name": "reviewbotext.extension.ReviewBotExtension",
}
# Writes on reviews, replies and their comments act on the owner's drafts (published ones are
# not mutable); reads name the published objects everyone may see.
DRAFT_REVIEW = {"review_id": "{draft_review_id}", "comment_id": "{draft_comment_id}"}
DRAFT_REPLY = {"reply_id": "{draft_reply_id}", "comment_id": "{draft_reply_comment_id}"}
DRAFT_FA_REVIEW = {"review_id": "{draft_review_id}", "comment_id": "{draft_fa_comment_id}"}
DRAFT_FA_REPLY = {"reply_id": "{draft_reply_id}", "comment_id": "{draft_reply_fa_comment_id}"}
DRAFT_SS_REVIEW = {"review_id": "{draft_review_id}", "comment_id": "{draft_ss_comment_id}"}
DRAFT_SS_REPLY = {"reply_id": "{draft_reply_id}", "comment_id": "{draft_reply_ss_comment_id}"}
DRAFT_DC_REVIEW = {"review_id": "{draft_review_id}", "comment_id": "{draft_dc_comment_id}"}
DRAFT_DC_REPLY = {"reply_id": "{draft_reply_id}", "comment_id": "{draft_reply_dc_comment_id}"}
CELL_KWARGS: dict[tuple[str, str], dict[str, str]] = {
    ("review_screenshot_comment-list", "POST"): DRAFT_REVIEW,
    ("review_screenshot_comment-item", "PUT"): DRAFT_SS_REVIEW,
    ("review_screenshot_comment-item", "DELETE"): DRAFT_SS_REVIEW,
    ("review_reply_screenshot_comment-list", "POST"): DRAFT_REPLY,
    ("review_reply_screenshot_comment-item", "PUT"): DRAFT_SS_REPLY,
    ("review_reply_screenshot_comment-item", "DELETE"): DRAFT_SS_REPLY,
    ("review-item", "PUT"): DRAFT_REVIEW,
    ("review-item", "DELETE"): DRAFT_REVIEW,
    ("review_general_comment-list", "POST"): DRAFT_REVIEW,
    ("review_general_comment-item", "PUT"): DRAFT_REVIEW,
    ("review_general_comment-item", "DELETE"): DRAFT_REVIEW,
    ("review_reply-item", "PUT"): DRAFT_REPLY,
    ("review_reply-item", "DELETE"): DRAFT_REPLY,
    ("review_reply_general_comment-list", "POST"): DRAFT_REPLY,
    ("review_reply_general_comment-item", "PUT"): DRAFT_REPLY,
    ("review_reply_general_comment-item", "DELETE"): DRAFT_REPLY,
    ("review_file_attachment_comment-list", "POST"): DRAFT_REVIEW,
    ("review_file_attachment_comment-item", "PUT"): DRAFT_FA_REVIEW,
    ("review_file_attachment_comment-item", "DELETE"): DRAFT_FA_REVIEW,
    ("review_reply_file_attachment_comment-list", "POST"): DRAFT_REPLY,
    ("review_reply_file_attachment_comment-item", "PUT"): DRAFT_FA_REPLY,
    ("review_reply_file_attachment_comment-item", "DELETE"): DRAFT_FA_REPLY,
    ("review_diff_comment-list", "POST"): DRAFT_REVIEW,
    ("review_diff_comment-item", "PUT"): DRAFT_DC_REVIEW,
    ("review_diff_comment-item", "DELETE"): DRAFT_DC_REVIEW,
    ("review_reply_diff_comment-list", "POST"): DRAFT_REPLY,
    ("review_reply_diff_comment-item", "PUT"): DRAFT_DC_REPLY,
    ("review_reply_diff_comment-item", "DELETE"): DRAFT_DC_REPLY,
    # Watched groups are deleted by name (code-and-files.md §11).
    ("watched_review_group-item", "DELETE"): {"watched_obj_id": "devs"},
}
ROUTE_KWARGS: dict[str, dict[str, str]] = {
    "draft_diff-item": {"diff_revision": "2"},
    "draft_file_diff-list": {"diff_revision": "2"},
    "draft_file_diff-item": {"diff_revision": "2", "filediff_id": "{draft_filediff_id}"},
    "draft_commit-list": {"diff_revision": "2"},
    "draft_commit-item": {"diff_revision": "2"},
    "draft_original_file-item": {"diff_revision": "2", "filediff_id": "{draft_filediff_id}"},
    "draft_patched_file-item": {"diff_revision": "2", "filediff_id": "{draft_filediff_id}"},
    "review_reply_general_comment-item": {"comment_id": "{reply_comment_id}"},
    "review_file_attachment_comment-item": {"comment_id": "{fa_comment_id}"},
    "review_reply_file_attachment_comment-item": {"comment_id": "{fa_reply_comment_id}"},
    "review_request_file_attachment_comment-item": {"comment_id": "{fa_comment_id}"},
    "review_diff_comment-item": {"comment_id": "{dc_comment_id}"},
    "review_reply_diff_comment-item": {"comment_id": "{dc_reply_comment_id}"},
    "file_diff_comment-item": {"comment_id": "{dc_comment_id}"},
    "all_diff_comment-item": {"comment_id": "{dc_comment_id}"},
    "all_file_attachment_comment-item": {"comment_id": "{fa_comment_id}"},
    "diff_file_attachment-item": {"file_attachment_id": "{diff_file_attachment_id}"},
    "user_file_attachment-item": {"file_attachment_id": "{user_file_attachment_id}"},
    "review_screenshot_comment-item": {"comment_id": "{ss_comment_id}"},
    "review_reply_screenshot_comment-item": {"comment_id": "{ss_reply_comment_id}"},
    "screenshot_comment-item": {"comment_id": "{ss_comment_id}"},
    "watched_review_group-item": {"watched_obj_id": "{group_id}"},
}


def _drop_owner_draft_review(world: dict[str, Any]) -> None:
    Review.objects.filter(pk=world["draft_review_id"]).delete()


def _drop_owner_draft_reply(world: dict[str, Any]) -> None:
    Review.objects.filter(pk=world["draft_reply_id"]).delete()


# A POST that finds the caller's existing draft answers 303; these cells start without one, so
# every caller creates (201).
PREPARE = {
    ("review-list", "POST"): _drop_owner_draft_review,
    ("review_reply-list", "POST"): _drop_owner_draft_reply,
}


def build_world() -> dict[str, Any]:
    """Everything the routes name, owned by "doc" (the owner), built through the services."""
    admin = make_user("admin", superuser=True)
    owner = make_user("doc")
    other = make_user("grumpy")
    group = Group.objects.create(name="devs", display_name="Developers")
    group.users.add(owner)
    repo = Repository.objects.create(name="localgit", path="/srv/git")
    repo.users.add(owner)
    repo.review_groups.add(group)
    review_request = review_request_create(submitter=owner, repository=repo)
    draft = review_request.draft
    draft.summary, draft.description = "Matrix", "Every cell."
    draft.save()
    draft.target_groups.set([group])
    review_request_publish(review_request=review_request, user=owner)
    draft = draft_get_or_create(review_request=review_request)
    draft.summary = "Matrix (v2)"
    draft.save()
    review_request_publish(review_request=review_request, user=owner)
    change = review_request.changedescs.get()
    draft_get_or_create(review_request=review_request)

    review, _ = review_get_or_create_draft(review_request=review_request, user=owner)
    comment = GeneralComment.objects.create(
        review=review, text="Nit", issue_opened=True, issue_status="O"
    )
    second_comment = GeneralComment.objects.create(review=review, text="Another")
    attachment = make_file_attachment(review_request=review_request)
    fa_comment = FileAttachmentComment.objects.create(
        review=review,
        file_attachment=attachment,
        text="Blurry",
        issue_opened=True,
        issue_status="O",
    )
    second_fa_comment = FileAttachmentComment.objects.create(
        review=review, file_attachment=attachment, text="Too small"
    )
    review_publish(review=review)
    reply, _ = reply_get_or_create_draft(review=review, user=owner)
    reply_comment = GeneralComment.objects.create(review=reply, text="Fixed", reply_to=comment)
    fa_reply_comment = FileAttachmentComment.objects.create(
        review=reply, file_attachment=attachment, text="Sharper", reply_to=fa_comment
    )
    review_publish(review=reply)
    draft_review, _ = review_get_or_create_draft(review_request=review_request, user=owner)
    draft_comment = GeneralComment.objects.create(review=draft_review, text="Draft nit")
    draft_reply, _ = reply_get_or_create_draft(review=review, user=owner)
    draft_reply_comment = GeneralComment.objects.create(
        review=draft_reply, text="Will fix", reply_to=comment
    )
    draft_fa_comment = FileAttachmentComment.objects.create(
        review=draft_review, file_attachment=attachment, text="Draft blur"
    )
    draft_reply_fa_comment = FileAttachmentComment.objects.create(
        review=draft_reply, file_attachment=attachment, text="Will sharpen", reply_to=fa_comment
    )
    screenshot = make_screenshot(review_request=review_request)
    ss_comment = ScreenshotComment.objects.create(
        review=review, screenshot=screenshot, text="Misaligned", x=1, y=2, w=3, h=4
    )
    second_ss_comment = ScreenshotComment.objects.create(
        review=review, screenshot=screenshot, text="Too dark"
    )
    ss_reply_comment = ScreenshotComment.objects.create(
        review=reply, screenshot=screenshot, text="Aligned", reply_to=ss_comment
    )
    draft_ss_comment = ScreenshotComment.objects.create(
        review=draft_review, screenshot=screenshot, text="Draft misaligned"
    )
    draft_reply_ss_comment = ScreenshotComment.objects.create(
        review=draft_reply, screenshot=screenshot, text="Will align", reply_to=ss_comment
    )
    user_attachment = FileAttachment.objects.create(user=owner, caption="Tool output")
    WatchedReviewRequest.objects.create(user=owner, review_request=review_request)
    WatchedGroup.objects.create(user=owner, group=group)
    status_update = StatusUpdate.objects.create(
        review_request=review_request, user=owner, service_id="ci", summary="CI"
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
    draft_filediff = make_diffset(review_request=review_request, revision=2, public=False)
    draft_filediff = draft_filediff.files.get()
    commit_id = "4c85f00eef4dce3fdcfed74fdf0d00b53666565f"
    for diffset in (filediff.diffset, draft_filediff.diffset):
        DiffCommit.objects.create(
            diffset=diffset,
            filename="diff",
            diff=bytes(diffset.diff),
            commit_id=commit_id,
            commit_message="Matrix",
            author_name="Doc",
            author_email="doc@example.com",
            author_date=timezone.now(),
        )
    lines = {"filediff": filediff, "first_line": 1, "num_lines": 1}
    dc_comment = DiffComment.objects.create(
        review=review, text="Typo", issue_opened=True, issue_status="O", **lines
    )
    second_dc_comment = DiffComment.objects.create(review=review, text="Another", **lines)
    dc_reply_comment = DiffComment.objects.create(
        review=reply, text="Fixed", reply_to=dc_comment, **lines
    )
    draft_dc_comment = DiffComment.objects.create(review=draft_review, text="Draft typo", **lines)
    draft_reply_dc_comment = DiffComment.objects.create(
        review=draft_reply, text="Will fix", reply_to=dc_comment, **lines
    )
    api_token = api_token_create(user=owner, note="CI", policy={})
    app = Application.objects.create(
        user=owner,
        name="frontend",
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    oauth_token = AccessToken.objects.create(
        user=owner,
        application=app,
        token="matrix-owned-token",
        scope=DEFAULT_SCOPE,
        expires=timezone.now() + datetime.timedelta(hours=1),
    )
    return {
        "admin": admin,
        "owner": owner,
        "other": other,
        "app": app,
        "repository_id": repo.pk,
        "review_request_id": review_request.pk,
        "change_id": change.pk,
        "review_id": review.pk,
        "reply_id": reply.pk,
        "comment_id": comment.pk,
        "second_comment_id": second_comment.pk,
        "reply_comment_id": reply_comment.pk,
        "draft_review_id": draft_review.pk,
        "draft_comment_id": draft_comment.pk,
        "draft_reply_id": draft_reply.pk,
        "draft_reply_comment_id": draft_reply_comment.pk,
        "status_update_id": status_update.pk,
        "filediff_id": filediff.pk,
        "draft_filediff_id": draft_filediff.pk,
        "commit_id": commit_id,
        "dc_comment_id": dc_comment.pk,
        "second_dc_comment_id": second_dc_comment.pk,
        "dc_reply_comment_id": dc_reply_comment.pk,
        "draft_dc_comment_id": draft_dc_comment.pk,
        "draft_reply_dc_comment_id": draft_reply_dc_comment.pk,
        "file_attachment_id": attachment.pk,
        "diff_file_attachment_id": diff_attachment.pk,
        "fa_comment_id": fa_comment.pk,
        "second_fa_comment_id": second_fa_comment.pk,
        "fa_reply_comment_id": fa_reply_comment.pk,
        "draft_fa_comment_id": draft_fa_comment.pk,
        "draft_reply_fa_comment_id": draft_reply_fa_comment.pk,
        "user_file_attachment_id": user_attachment.pk,
        "screenshot_id": screenshot.pk,
        "ss_comment_id": ss_comment.pk,
        "second_ss_comment_id": second_ss_comment.pk,
        "ss_reply_comment_id": ss_reply_comment.pk,
        "draft_ss_comment_id": draft_ss_comment.pk,
        "draft_reply_ss_comment_id": draft_reply_ss_comment.pk,
        "group_id": group.pk,
        "api_token_id": api_token.pk,
        "app_id": app.pk,
        "oauth_token_id": oauth_token.pk,
    }


def url_of(rid: str, method: str, world: dict[str, Any]) -> str:
    sample = {**URL_KWARGS, **ROUTE_KWARGS.get(rid, {}), **CELL_KWARGS.get((rid, method), {})}
    kwargs = {key: str(value).format(**world) for key, value in sample.items()}
    return ROUTES_BY_ID[rid].template.format(**kwargs)


def client_for(identity: str, rid: str, method: str, world: dict[str, Any]) -> Client:
    """A fresh client speaking as ``identity`` (tokens in the Authorization header)."""
    resource = ROUTES_BY_ID[rid].resource
    policy_id = resource.policy_id
    if identity == "anonymous":
        return Client()
    if identity in ("owner", "other", "superuser"):
        client = Client()
        client.force_login(world[{"superuser": "admin"}.get(identity, identity)])
        return client
    if identity.startswith("token_"):
        policy = (
            {}
            if identity == "token_allow"
            else {"resources": {policy_id: {"*": {"block": [method]}}}}
        )
        token = api_token_create(user=world["owner"], note=identity, policy=policy)
        return Client(HTTP_AUTHORIZATION=f"token {token.token}")
    scope = f"{policy_id}:{VERBS[method]}" if identity == "oauth_scoped" else DEFAULT_SCOPE
    access_token = AccessToken.objects.create(
        user=world["owner"],
        application=world["app"],
        token=f"matrix-{identity}",
        scope=scope,
        expires=timezone.now() + datetime.timedelta(hours=1),
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {access_token.token}")


def expectation(rid: str, method: str, identity: str) -> Any:
    """The expected answer of one cell: an int (success status) or (status, error code)."""
    humans = dict(zip(HUMANS, EXPECTED[(rid, method)], strict=True))
    if identity in humans:
        return humans[identity]
    owner = humans["owner"]
    policy_id = ROUTES_BY_ID[rid].resource.policy_id
    if identity == "token_allow":
        return DENIED if policy_id in REFUSES_API_TOKENS else owner
    if identity == "token_block":
        return DENIED
    if policy_id in REFUSES_OAUTH2:
        return (403, 113)
    if identity == "oauth_scoped":
        return owner
    # Only root:read: enough for the root, a missing scope (112) everywhere else.
    return owner if f"{policy_id}:{VERBS[method]}" == DEFAULT_SCOPE else (403, 112)


CELLS = [
    (route_id(route), method, identity)
    for route in ROUTES
    for method in methods_of(route)
    for identity in IDENTITIES
]


def test_every_registry_method_has_expectations():
    assert set(EXPECTED) == REGISTRY_KEYS
    assert all(len(row) == len(HUMANS) for row in EXPECTED.values())


def test_every_write_has_a_body():
    assert set(BODIES) == {key for key in REGISTRY_KEYS if key[1] in BODY_METHODS}


def test_every_identity_is_covered():
    assert len(CELLS) == len(REGISTRY_KEYS) * len(IDENTITIES)


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """The world, built once for the module inside a transaction that is rolled back at the
    end; each cell's own transaction (the ``db`` fixture, a savepoint inside it) undoes what
    the cell changed, so every cell starts from this same fresh world."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(shared_world, db):
    return shared_world


@pytest.mark.parametrize(
    ("rid", "method", "identity"), CELLS, ids=["-".join(cell) for cell in CELLS]
)
def test_cell(rid, method, identity, world):
    if (rid, method) in PREPARE:
        PREPARE[(rid, method)](world)
    client = client_for(identity, rid, method, world)
    url = url_of(rid, method, world)
    body = {key: value.format(**world) for key, value in BODIES.get((rid, method), {}).items()}
    response = client.generic(
        method, url, urlencode(body), content_type="application/x-www-form-urlencoded"
    )
    expected = expectation(rid, method, identity)
    if isinstance(expected, tuple):
        status, code = expected
        assert_error(response, status, code)
        return
    assert response.status_code == expected, response.content
    if expected == 302:
        assert response["Location"]
    elif expected == 204:
        assert response.content == b""
    elif rid in ("patched_file-item", "draft_patched_file-item"):
        assert response["Content-Type"] == "text/plain"
    else:
        payload = assert_ok(response, expected)
        route = ROUTES_BY_ID[rid]
        resource = route.resource
        # Only links (goldens 151, code-and-files 021-022).
        if resource.name not in (
            "root",
            "watched",
            "validation",
            "diff_validation",
            "commit_validation",
        ):
            listing = route.mode == "list" and method == "GET"
            key = resource.list_result_key if listing else resource.item_result_key
            assert key in payload
