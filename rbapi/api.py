"""Imports every resource module so that each registers itself in the resource registry."""

from accounts import resources as user_list_resources  # noqa: F401
from attachments import comment_resources as attachment_comment_resources  # noqa: F401
from attachments import diff_resources as diff_attachment_resources  # noqa: F401
from attachments import resources as attachment_resources  # noqa: F401
from attachments import screenshot_resources  # noqa: F401
from changes import resources as change_resources  # noqa: F401
from diffs import comment_resources as diff_comment_resources  # noqa: F401
from diffs import commit_resources as diff_commit_resources  # noqa: F401
from diffs import context_resources as diff_context_resources  # noqa: F401
from diffs import file_resources as diff_file_resources  # noqa: F401
from diffs import resources as diff_resources  # noqa: F401
from extensions import resources as extension_resources  # noqa: F401
from oauth import resources as oauth_resources  # noqa: F401
from rbapi import info, root, session, users  # noqa: F401
from reviews.resources import (  # noqa: F401
    all_comments,
    all_reviews,
    comments,
    drafts,
    groups,
    last_update,
    repositories,
    repository_info,
    review_requests,
    reviews,
)
from status_updates import resources as status_update_resources  # noqa: F401
from webapi import resources as api_token_resources  # noqa: F401
