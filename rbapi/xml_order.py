"""The order in which Review Board 8.1 writes an item's fields and links.

JSON sorts its keys, so only XML shows this order (mechanics.md §2). Review Board writes an
item's fields in the order its resource declares them, which is alphabetical for some
resources (reviews, replies, status updates), declaration order for others (groups,
repositories, diffs) and a mixture for the rest (users, drafts, comments): no single rule
reproduces it, so the observed orders are listed here, per item element name, as captured
from the original. ``serialize_object`` applies them to every item it writes (in items, in
lists, in expansions), so the resources keep declaring their fields in whatever order reads
best.

Rules for what the table does not name: ``links`` and ``_expanded`` stay last; a field or
link the table does not list keeps its place after the listed ones; every link object is
written ``method``, ``href``, ``title`` and every ``_expanded`` note ``list_url``,
``list_mimetype``, ``item_mimetype`` (the notes in the order of the expanded fields); a
change's ``fields_changed`` is written sorted, each entry ``new`` and ``old`` first;
``extra_data`` is written with its keys sorted at
every level (the original stores it sorted).
"""

from __future__ import annotations

from typing import Any

#: Field order by item element name (the resource's ``item_result_key``).
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    "user": (
        "avatar_html",
        "avatar_url",
        "avatar_urls",
        "is_active",
        "id",
        "username",
        "first_name",
        "last_name",
        "fullname",
        "email",
        "url",
    ),
    "review_request": (
        "id",
        "approved",
        "approval_failure",
        "blocks",
        "close_description",
        "close_description_text_type",
        "created_with_history",
        "depends_on",
        "extra_data",
        "issue_dropped_count",
        "issue_open_count",
        "issue_resolved_count",
        "issue_verifying_count",
        "submitter",
        "time_added",
        "last_updated",
        "text_type",
        "status",
        "public",
        "changenum",
        "commit_id",
        "repository",
        "ship_it_count",
        "summary",
        "description",
        "description_text_type",
        "testing_done",
        "testing_done_text_type",
        "bugs_closed",
        "branch",
        "target_groups",
        "target_people",
        "url",
        "absolute_url",
    ),
    "review": (
        "absolute_url",
        "body_bottom",
        "body_bottom_text_type",
        "body_top",
        "body_top_text_type",
        "extra_data",
        "id",
        "public",
        "ship_it",
        "text_type",
        "timestamp",
    ),
    "reply": (
        "body_bottom",
        "body_bottom_text_type",
        "body_top",
        "body_top_text_type",
        "extra_data",
        "id",
        "public",
        "text_type",
        "timestamp",
    ),
    "draft": (
        "id",
        "last_updated",
        "branch",
        "bugs_closed",
        "depends_on",
        "changedescription",
        "changedescription_text_type",
        "commit_id",
        "description",
        "description_text_type",
        "extra_data",
        "public",
        "summary",
        "target_groups",
        "target_people",
        "testing_done",
        "testing_done_text_type",
        "text_type",
    ),
    "general_comment": (
        "id",
        "extra_data",
        "issue_opened",
        "issue_status",
        "public",
        "text",
        "text_type",
        "timestamp",
    ),
    "status_update": (
        "change",
        "description",
        "extra_data",
        "id",
        "review",
        "service_id",
        "state",
        "summary",
        "timeout",
        "url",
        "url_text",
    ),
    "group": (
        "id",
        "name",
        "display_name",
        "invite_only",
        "mailing_list",
        "url",
        "absolute_url",
        "visible",
        "extra_data",
    ),
    "repository": (
        "id",
        "extra_data",
        "name",
        "path",
        "mirror_path",
        "visible",
        "tool",
        "bug_tracker",
        "requires_basedir",
        "requires_change_number",
        "supports_post_commit",
    ),
    "diff": (
        "id",
        "extra_data",
        "name",
        "revision",
        "timestamp",
        "basedir",
        "base_commit_id",
        "commit_count",
    ),
    "file": (
        "id",
        "binary",
        "encoding",
        "extra_data",
        "source_file",
        "dest_file",
        "source_revision",
        "dest_detail",
        "source_attachment",
        "dest_attachment",
        "orig_sha256",
        "patched_sha256",
        "status",
    ),
    "extension": (
        "author",
        "author_url",
        "can_disable",
        "can_enable",
        "class_name",
        "enabled",
        "installed",
        "loadable",
        "load_error",
        "name",
        "summary",
        "version",
    ),
}

#: Link order by item element name, after ``self``, ``update`` and ``delete``.
LINK_ORDER: dict[str, tuple[str, ...]] = {
    "review": (
        "diff_comments",
        "replies",
        "screenshot_comments",
        "file_attachment_comments",
        "general_comments",
        "user",
    ),
    "reply": (
        "diff_comments",
        "screenshot_comments",
        "file_attachment_comments",
        "general_comments",
        "user",
    ),
    "draft": (
        "draft_diffs",
        "draft_screenshots",
        "draft_file_attachments",
        "review_request",
        "submitter",
    ),
    "general_comment": ("reply_to", "user"),
    "review_request": (
        "changes",
        "diffs",
        "diff_context",
        "file_attachments",
        "reviews",
        "draft",
        "last_update",
        "screenshots",
        "status_updates",
        "latest_diff",
        "submitter",
        "repository",
    ),
    "user": (
        "api_tokens",
        "archived_review_requests",
        "muted_review_requests",
        "user_file_attachments",
        "watched",
    ),
    "repository": (
        "diff_file_attachments",
        "branches",
        "commits",
        "repository_groups",
        "info",
        "repository_users",
    ),
    "diff": ("commits", "files", "repository"),
    "file": ("diff_comments", "original_file", "patched_file"),
}

_LEADING_LINKS = ("self", "update", "delete")
_LINK_KEYS = ("method", "href", "title")
_LAST = ("links", "_expanded")
_EXPANDED_KEYS = ("list_url", "list_mimetype", "item_mimetype")
_CHANGE_ENTRY_KEYS = ("new", "old")


def _in_order(data: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``data`` with the keys ``order`` names first, in that order, then the others."""
    ordered = {key: data[key] for key in order if key in data}
    ordered.update((key, value) for key, value in data.items() if key not in ordered)
    return ordered


def sorted_keys(value: Any) -> Any:
    """``value`` with dict keys sorted at every level."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def order_links(name: str, links: dict[str, Any]) -> dict[str, Any]:
    """An item's links in the original's order, each link object as ``method, href, title``."""
    ordered = _in_order(links, _LEADING_LINKS + LINK_ORDER.get(name, ()))
    return {
        key: _in_order(value, _LINK_KEYS) if isinstance(value, dict) else value
        for key, value in ordered.items()
    }


def order_item(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """An item's fields in the original's order, ``links`` and ``_expanded`` last."""
    if isinstance(data.get("extra_data"), dict):
        data["extra_data"] = sorted_keys(data["extra_data"])
    ordered = _in_order(
        {key: value for key, value in data.items() if key not in _LAST}, FIELD_ORDER.get(name, ())
    )
    ordered.update((key, data[key]) for key in _LAST if key in data)
    if isinstance(ordered.get("_expanded"), dict):
        # The notes follow the expanded fields' order.
        ordered["_expanded"] = {
            key: _in_order(value, _EXPANDED_KEYS) if isinstance(value, dict) else value
            for key, value in _in_order(ordered["_expanded"], tuple(ordered)).items()
        }
    if name == "change" and isinstance(ordered.get("fields_changed"), dict):
        # Stored sorted, each entry's old and new values first (``added``/``removed`` follow).
        ordered["fields_changed"] = {
            key: _in_order(value, _CHANGE_ENTRY_KEYS) if isinstance(value, dict) else value
            for key, value in sorted(ordered["fields_changed"].items())
        }
    return ordered
