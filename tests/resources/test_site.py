"""The site-level resources: root, info and session, compared as whole payloads."""

from __future__ import annotations

import pytest

from ..conftest import assert_error, assert_ok

pytestmark = pytest.mark.django_db

BASE = "http://testserver"

CAPABILITIES = {
    "authentication": {"client_web_login": False},
    "diffs": {
        "base_commit_ids": True,
        "file_attachments": True,
        "max_binary_size": 10485760,
        "max_diff_size": 2097152,
        "moved_files": True,
        "validation": {"base_commit_ids": True},
    },
    "extra_data": {"json_patching": True},
    "review_requests": {"commit_ids": True, "supports_history": True, "trivial_publish": True},
    "scmtools": {"git": {"empty_files": True, "symlinks": True}, "supported_tools": ["git"]},
    "review_uis": {"supported_mimetypes": ["image/*", "text/*"]},
    "text": {"can_include_raw_values": True, "markdown": True, "per_field_text_types": True},
}
PRODUCT = {"is_release": True, "name": "Review Board", "package_version": "8.1", "version": "8.1"}
SITE = {
    "administrators": [{"email": "admin@example.com", "name": "admin"}],
    "time_zone": "UTC",
    "url": f"{BASE}/",
}


# The uri_templates rbapi serves, each exactly as Review Board 8.1 names it (golden 001).
REVIEW_BOARD_TEMPLATES = {
    "all_diff_comments": "/api/diff-comments/",
    "all_file_attachment_comments": "/api/file-attachment-comments/",
    "all_general_comments": "/api/general-comments/",
    "all_reviews": "/api/reviews/",
    "change": "/api/review-requests/{review_request_id}/changes/{change_id}/",
    "changes": "/api/review-requests/{review_request_id}/changes/",
    "diff_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/diff-comments/{comment_id}/",
    "diff_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/diff-comments/",
    "diff_file_attachment": "/api/repositories/{repository_id}/diff-file-attachments/{file_attachment_id}/",
    "diff_file_attachments": "/api/repositories/{repository_id}/diff-file-attachments/",
    "draft": "/api/review-requests/{review_request_id}/draft/",
    "extension": "/api/extensions/{extension_name}/",
    "extensions": "/api/extensions/",
    "file_attachment_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/file-attachment-comments/{comment_id}/",
    "file_attachment_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/file-attachment-comments/",
    "general_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/general-comments/{comment_id}/",
    "general_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/general-comments/",
    "group": "/api/groups/{group_name}/",
    "groups": "/api/groups/",
    "info": "/api/info/",
    "last_update": "/api/review-requests/{review_request_id}/last-update/",
    "replies": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/",
    "reply": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/",
    "reply_draft": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/draft/",
    "repositories": "/api/repositories/",
    "repository": "/api/repositories/{repository_id}/",
    "repository_info": "/api/repositories/{repository_id}/info/",
    "diff": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/",
    "diffs": "/api/review-requests/{review_request_id}/diffs/",
    "diff_context": "/api/review-requests/{review_request_id}/diff-context/",
    "file": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/",
    "file_diff": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/",
    "files": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/",
    "file_diffs": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/",
    "file_diff_comments": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/diff-comments/",
    "file_diff_original_file": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/original-file/",
    "file_diff_patched_file": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/patched-file/",
    "original_file": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/original-file/",
    "patched_file": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/files/{filediff_id}/patched-file/",
    "validation": "/api/validation/",
    "diff_validation": "/api/validation/diffs/",
    "commit_validation": "/api/validation/commits/",
    "commit": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/commits/{commit_id}/",
    "diff_commit": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/commits/{commit_id}/",
    "diff_commits": "/api/review-requests/{review_request_id}/diffs/{diff_revision}/commits/",
    "branches": "/api/repositories/{repository_id}/branches/",
    "repository_branches": "/api/repositories/{repository_id}/branches/",
    "commits": "/api/repositories/{repository_id}/commits/",
    "repository_commits": "/api/repositories/{repository_id}/commits/",
    "repository_user": "/api/repositories/{repository_id}/users/{username}/",
    "repository_users": "/api/repositories/{repository_id}/users/",
    "repository_group": "/api/repositories/{repository_id}/groups/{group_name}/",
    "repository_groups": "/api/repositories/{repository_id}/groups/",
    "review": "/api/review-requests/{review_request_id}/reviews/{review_id}/",
    "review_diff_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/diff-comments/{comment_id}/",
    "review_diff_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/diff-comments/",
    "review_draft": "/api/review-requests/{review_request_id}/reviews/draft/",
    "review_general_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/general-comments/{comment_id}/",
    "review_general_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/general-comments/",
    "review_group_user": "/api/groups/{group_name}/users/{username}/",
    "review_group_users": "/api/groups/{group_name}/users/",
    "review_replies": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/",
    "review_reply": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/",
    "review_reply_diff_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/diff-comments/{comment_id}/",
    "review_reply_diff_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/diff-comments/",
    "review_reply_draft": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/draft/",
    "review_reply_file_attachment_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/file-attachment-comments/{comment_id}/",
    "review_reply_file_attachment_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/file-attachment-comments/",
    "review_reply_general_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/general-comments/{comment_id}/",
    "review_reply_general_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/general-comments/",
    "review_reply_screenshot_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/screenshot-comments/{comment_id}/",
    "review_reply_screenshot_comments": "/api/review-requests/{review_request_id}/reviews/{review_id}/replies/{reply_id}/screenshot-comments/",
    "review_request": "/api/review-requests/{review_request_id}/",
    "review_request_change": "/api/review-requests/{review_request_id}/changes/{change_id}/",
    "review_request_changes": "/api/review-requests/{review_request_id}/changes/",
    "review_request_draft": "/api/review-requests/{review_request_id}/draft/",
    "review_request_last_update": "/api/review-requests/{review_request_id}/last-update/",
    "review_request_status_update": "/api/review-requests/{review_request_id}/status-updates/{status_update_id}/",
    "review_request_status_updates": "/api/review-requests/{review_request_id}/status-updates/",
    "review_requests": "/api/review-requests/",
    "reviews": "/api/review-requests/{review_request_id}/reviews/",
    "root": "/api/",
    "screenshot_comment": "/api/review-requests/{review_request_id}/reviews/{review_id}/screenshot-comments/{comment_id}/",
    "session": "/api/session/",
    "status_update": "/api/review-requests/{review_request_id}/status-updates/{status_update_id}/",
    "status_updates": "/api/review-requests/{review_request_id}/status-updates/",
    "user": "/api/users/{username}/",
    "users": "/api/users/",
    # Access control (observed on Review Board 8.1).
    "api_token": "/api/users/{username}/api-tokens/{api_token_id}/",
    "api_tokens": "/api/users/{username}/api-tokens/",
    "oauth_app": "/api/oauth-apps/{app_id}/",
    "oauth_apps": "/api/oauth-apps/",
    "oauth_token": "/api/oauth-tokens/{oauth_token_id}/",
    "oauth_tokens": "/api/oauth-tokens/",
    # File attachments and screenshots (code-and-files.md §0).
    "file_attachment": "/api/review-requests/{review_request_id}/file-attachments/{file_attachment_id}/",
    "file_attachments": "/api/review-requests/{review_request_id}/file-attachments/",
    "review_request_file_attachment": "/api/review-requests/{review_request_id}/file-attachments/{file_attachment_id}/",
    "review_request_file_attachment_comments": "/api/review-requests/{review_request_id}/file-attachments/{file_attachment_id}/file-attachment-comments/",
    "review_request_file_attachments": "/api/review-requests/{review_request_id}/file-attachments/",
    "screenshot": "/api/review-requests/{review_request_id}/screenshots/{screenshot_id}/",
    "screenshot_comments": "/api/review-requests/{review_request_id}/screenshots/{screenshot_id}/screenshot-comments/",
    "screenshots": "/api/review-requests/{review_request_id}/screenshots/",
    "user_file_attachment": "/api/users/{username}/user-file-attachments/{file_attachment_id}/",
    "user_file_attachments": "/api/users/{username}/user-file-attachments/",
    # A user's child lists (code-and-files.md §0).
    "archived_review_request": "/api/users/{username}/archived-review-requests/{review_request_id}/",
    "archived_review_requests": "/api/users/{username}/archived-review-requests/",
    "muted_review_request": "/api/users/{username}/muted-review-requests/{review_request_id}/",
    "muted_review_requests": "/api/users/{username}/muted-review-requests/",
    "watched": "/api/users/{username}/watched/",
    "watched_review_group": "/api/users/{username}/watched/review-groups/{watched_obj_id}/",
    "watched_review_groups": "/api/users/{username}/watched/review-groups/",
    "watched_review_request": "/api/users/{username}/watched/review-requests/{watched_obj_id}/",
    "watched_review_requests": "/api/users/{username}/watched/review-requests/",
}


def test_root(anon_client):
    response = anon_client.get("/api/")
    body = assert_ok(response, mimetype="root")
    templates = body.pop("uri_templates")
    assert body == {
        "stat": "ok",
        "capabilities": CAPABILITIES,
        "product": PRODUCT,
        "site": SITE,
        "links": {
            name: {"href": f"{BASE}/api/{path}", "method": "GET"}
            for name, path in [
                ("self", ""),
                ("all_diff_comments", "diff-comments/"),
                ("all_file_attachment_comments", "file-attachment-comments/"),
                ("all_general_comments", "general-comments/"),
                ("all_reviews", "reviews/"),
                ("extensions", "extensions/"),
                ("groups", "groups/"),
                ("info", "info/"),
                ("oauth_apps", "oauth-apps/"),
                ("oauth_tokens", "oauth-tokens/"),
                ("repositories", "repositories/"),
                ("review_requests", "review-requests/"),
                ("session", "session/"),
                ("users", "users/"),
                ("validation", "validation/"),
            ]
        },
    }
    assert templates == {name: BASE + path for name, path in REVIEW_BOARD_TEMPLATES.items()}


def test_root_site_url_and_admins_are_configurable(anon_client, settings):
    settings.RBAPI_SITE_URL = "https://reviews.example.com/"
    settings.RBAPI_ADMINS = [{"name": "Ops", "email": "ops@example.com"}]
    body = assert_ok(anon_client.get("/api/"))
    assert body["site"] == {
        "administrators": [{"email": "ops@example.com", "name": "Ops"}],
        "time_zone": "UTC",
        "url": "https://reviews.example.com/",
    }


def test_info(anon_client):
    response = anon_client.get("/api/info/")
    body = assert_ok(response, mimetype="server-info")
    assert body == {
        "stat": "ok",
        "info": {"capabilities": CAPABILITIES, "product": PRODUCT, "site": SITE},
    }


def test_info_is_read_only(admin_client):
    response = admin_client.delete("/api/info/")
    assert_error(response, 405, 900)
    assert response["Allow"] == "GET"


def test_session_expand_user(admin_client):
    body = assert_ok(admin_client.get("/api/session/?expand=user"))
    session = body["session"]
    assert session["authenticated"] is True
    assert session["user"]["username"] == "admin"
    assert session["_expanded"] == {
        "user": {"item_mimetype": "application/vnd.reviewboard.org.user+json"}
    }
    assert set(session["links"]) == {"self", "delete"}


def test_session_anonymous(anon_client):
    body = assert_ok(anon_client.get("/api/session/"), mimetype="session")
    assert body == {
        "stat": "ok",
        "session": {
            "authenticated": False,
            "links": {"self": {"href": f"{BASE}/api/session/", "method": "GET"}},
        },
    }
