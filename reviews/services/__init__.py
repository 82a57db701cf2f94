"""The review domain's write services, one module per entity, each function one transaction
that takes its row locks in the documented order (``locks``): review request -> review ->
comment -> status update. Views call exactly one of these per write."""

from reviews.services.comments import (
    CommentChanges,
    comment_create,
    comment_delete,
    comment_set_issue_status,
    comment_update,
)
from reviews.services.drafts import DraftChanges, draft_discard, draft_update
from reviews.services.review_requests import (
    commit_id_taken,
    draft_get_or_create,
    review_request_close,
    review_request_create,
    review_request_delete,
    review_request_publish,
    review_request_reopen,
    review_request_update,
)
from reviews.services.reviews import (
    ReviewChanges,
    reply_get_or_create_draft,
    review_create,
    review_delete,
    review_get_or_create_draft,
    review_publish,
    review_revoke_ship_it,
    review_update,
)

__all__ = [
    "CommentChanges",
    "DraftChanges",
    "ReviewChanges",
    "comment_create",
    "comment_delete",
    "comment_set_issue_status",
    "comment_update",
    "commit_id_taken",
    "draft_discard",
    "draft_get_or_create",
    "draft_update",
    "reply_get_or_create_draft",
    "review_create",
    "review_delete",
    "review_get_or_create_draft",
    "review_publish",
    "review_request_close",
    "review_request_create",
    "review_request_delete",
    "review_request_publish",
    "review_request_reopen",
    "review_request_update",
    "review_revoke_ship_it",
    "review_update",
]
