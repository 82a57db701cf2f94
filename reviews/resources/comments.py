"""Comments on reviews and replies: ``.../general-comments/[{comment_id}/]`` and the other
comment lists.

General comments are written while their review is a draft (by its author); once the review is
published, the only change is the issue status, by the review request's owner or editors or the
comment's author, with the verification rule of ``extra_data.require_verification``. A reply's
comment answers one comment of the review, once: a second POST updates it (303).

File attachment comments live in ``attachments.comment_resources``, screenshot comments in
``attachments.screenshot_resources`` and diff comments in ``diffs.comment_resources`` (they
reuse these rules).
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

import django_filters
from django.db.models import Model, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi.errors import form_error
from rbapi.fields import (
    ExtraDataField,
    Field,
    ObjectField,
    RichTextField,
    SerializeContext,
    apply_text_type,
    choice_message,
)
from rbapi.filters import CharFilter, DateTimeFilter, IDFilter, filterset
from rbapi.inputs import BooleanField, CharField, RBSerializer, validated
from rbapi.parsers import as_id
from rbapi.resources import WebAPIResource
from reviews.models import GeneralComment, Review, ReviewRequest
from reviews.services import (
    CommentChanges,
    comment_create,
    comment_delete,
    comment_set_issue_status,
    comment_update,
)

ISSUE_STATUS_CODES = {name: code for code, name in GeneralComment.ISSUE_STATUSES.items()}
NOT_A_COMMENT = "This is not a valid general comment ID"


class BaseGeneralCommentResource(WebAPIResource):
    """General comments on a review (or, in the reply variant, on a reply)."""

    model = GeneralComment
    uri_name = "general-comments"
    uri_object_key = "comment_id"
    link_key = "general_comments"
    item_result_key = "general_comment"
    list_result_key = "general_comments"
    list_methods = ("GET", "POST")
    item_methods = ("GET", "PUT", "DELETE")
    list_select_related = ("review__user", "review__review_request")
    ordering = ("timestamp", "pk")

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        return GeneralComment.objects.filter(review=parent).select_related("review__user")

    def parent_of(self, obj: GeneralComment) -> Review:
        return obj.review

    def get_link_title(self, obj: GeneralComment) -> str:
        return obj.text

    # --- fields --------------------------------------------------------------------------------
    def serialize_public_field(self, obj: GeneralComment, ctx: SerializeContext) -> bool:
        return obj.review.public

    def serialize_user_field(self, obj: GeneralComment, ctx: SerializeContext) -> Any:
        return obj.review.user

    def serialize_issue_status_field(self, obj: GeneralComment, ctx: SerializeContext) -> str:
        return obj.issue_status_name

    # --- permissions ---------------------------------------------------------------------------
    def has_modify_permissions(self, request: Request, obj: GeneralComment) -> bool:
        review = obj.review
        if review.is_mutable_by(request.user):
            return True
        return review.public and obj.is_issue_status_mutable_by(request.user)

    def has_delete_permissions(self, request: Request, obj: GeneralComment) -> bool:
        return obj.review.is_mutable_by(request.user)

    # --- writes --------------------------------------------------------------------------------
    # Replies' comments answer other comments and carry no issues of their own.
    allows_issues = True

    # The message for a ``reply_to_id`` that names no comment of this kind.
    not_a_comment: ClassVar[str] = NOT_A_COMMENT
    # Review Board names the comment in ``Location`` only on a reply's 303, never on a 201
    # (observed for every kind). Kinds anchored to other rows answer with the comment read
    # again with them.
    reread_after_create: ClassVar[bool] = False

    def create(self, request: Request, *, parent: Review, url_kwargs: dict[str, Any]) -> Response:
        """The one POST of every comment kind: a new comment (201), or for a reply the one
        that already answers ``reply_to_id`` (303); ``anchors`` adds what a kind is about."""
        if not parent.is_mutable_by(request.user):
            raise self.no_access_error(request)
        model = self.model
        reply_to_id = self.reply_to_id(request.data)
        existing = (
            model.objects.filter(review=parent, reply_to_id=reply_to_id).first()
            if reply_to_id is not None
            else None
        )
        changes = self.changes(request, existing or model(review=parent))
        if reply_to_id is None:
            changes.values.update(self.anchors(request, parent))
        comment, existed = comment_create(
            review=parent,
            user=request.user,
            changes=changes,
            reply_to_id=reply_to_id,
            model=model,
            not_a_comment=self.not_a_comment,
        )
        if self.reread_after_create:
            comment = model.objects.select_related(*self.list_select_related).get(pk=comment.pk)
        return self.item_response(
            request,
            comment,
            url_kwargs,
            status=303 if existed else 201,
            location=existed,
        )

    def anchors(self, request: Request, review: Review) -> dict[str, Any]:
        """What a new comment of this kind is anchored to (a file diff, an attachment, a
        screenshot region), validated; general comments have none."""
        return {}

    def reply_to_id(self, data: Any) -> int | None:
        """The comment a reply's comment answers (replies only)."""
        return None

    def changes(self, request: Request, comment: GeneralComment) -> CommentChanges:
        """The request's edits, validated (105 naming every bad field); text values are worked
        out on a copy of ``comment`` and applied by the service under its lock."""
        data = validated(CommentInput, request.data, extra_data=comment.extra_data)
        probe = copy.copy(comment)
        changed = apply_text_type(probe, "text", request.data)
        values = {attr: getattr(probe, attr) for attr in changed}
        if self.allows_issues and "issue_opened" in data:
            values["issue_opened"] = data["issue_opened"]
            values["issue_status"] = GeneralComment.OPEN if data["issue_opened"] else ""
        return CommentChanges(values=values, extra_data_fields=data["extra_data_fields"])

    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """``issue_status`` is a plain choice that Review Board checks first: a bad value is
        105 before the lookup and the rights (and even on a draft, where it is ignored)."""
        status = request.data.get("issue_status")
        if self.allows_issues and status is not None and str(status) not in ISSUE_STATUS_CODES:
            message = choice_message(str(status), tuple(ISSUE_STATUS_CODES))
            raise form_error({"issue_status": [message]})
        return super().put(request, *args, **kwargs)

    def update(
        self, request: Request, obj: GeneralComment, *, url_kwargs: dict[str, Any]
    ) -> Response:
        if obj.review.is_mutable_by(request.user):
            obj = comment_update(
                comment=obj, user=request.user, changes=self.changes(request, obj)
            )
            return self.item_response(request, obj, url_kwargs)
        return self.update_issue_status(request, obj, url_kwargs)

    def update_issue_status(
        self, request: Request, obj: GeneralComment, url_kwargs: dict[str, Any]
    ) -> Response:
        """On a published review only the issue status moves; the answer carries the time
        of that activity as ``last_activity_time``."""
        status = request.data.get("issue_status")
        if status is None or not obj.issue_opened or not self.allows_issues:
            raise self.no_access_error(request)
        if status not in ISSUE_STATUS_CODES:
            raise form_error({"issue_status": [choice_message(status, tuple(ISSUE_STATUS_CODES))]})
        code = ISSUE_STATUS_CODES[status]
        if not obj.may_set_issue_status(request.user, code):
            raise self.no_access_error(request)
        obj = comment_set_issue_status(comment=obj, status=code, user=request.user)
        response = self.item_response(request, obj, url_kwargs)
        activity = ReviewRequest.objects.values_list(
            "last_review_activity_timestamp", flat=True
        ).get(pk=obj.review.review_request_id)
        response.data["last_activity_time"] = activity.isoformat() if activity else None
        return response

    def delete_object(self, request: Request, obj: GeneralComment) -> None:
        comment_delete(comment=obj, user=request.user)


class CommentInput(RBSerializer):
    """The fields of a comment's POST and PUT (the text's type is checked where the text
    is worked out)."""

    extra_data = True
    text = CharField(required=False, allow_blank=True, trim_whitespace=False)
    issue_opened = BooleanField(required=False)


class ReviewGeneralCommentResource(BaseGeneralCommentResource):
    name = "review_general_comment"
    mimetype_item_resource_name = "general-comment"
    mimetype_list_resource_name = "general-comments"
    uri_template_names = ("review_general_comment", "general_comment")
    uri_template_list_names = ("review_general_comments", "general_comments")
    fields = (
        Field("id"),
        RichTextField("text"),
        Field("timestamp"),
        Field("public"),
        ObjectField("user", resource="user"),
        Field("issue_opened"),
        Field("issue_status"),
        ExtraDataField(),
    )


class ReviewReplyGeneralCommentResource(BaseGeneralCommentResource):
    name = "review_reply_general_comment"
    allows_issues = False
    list_select_related = (
        "review__user",
        "review__base_reply_to__review_request",
        "reply_to__review__review_request",
    )
    fields = (
        Field("id"),
        RichTextField("text"),
        Field("timestamp"),
        Field("public"),
        ObjectField("user", resource="user"),
        Field("issue_opened"),
        Field("issue_status"),
        ObjectField("reply_to", resource="review_general_comment"),
        ExtraDataField(),
    )

    def reply_to_id(self, data: Any) -> int | None:
        """The comment this reply's comment answers, named by ``reply_to_id`` (required)."""
        raw = data.get("reply_to_id")
        if not raw:
            raise form_error({"reply_to_id": ["This field is required"]})
        reply_to_id = as_id(str(raw).strip())
        if reply_to_id is None:
            raise form_error({"reply_to_id": [NOT_A_COMMENT]})
        return reply_to_id


def _is_reply(queryset: QuerySet, name: str, value: Any) -> QuerySet:
    # Any value, even 0 or false, means "replies only" (spec §7.3, observed).
    return queryset.filter(review__base_reply_to__isnull=False)


def root_comments_filterset(
    model: type[Model], extra: dict[str, django_filters.Filter] | None = None
) -> type[django_filters.FilterSet]:
    """The filters of the root comment lists (``/api/diff-comments/``,
    ``/api/file-attachment-comments/``, ``/api/general-comments/``); a kind's own filters
    (``extra``) come after ``review-id``."""
    return filterset(
        model,
        {
            "review-request-id": IDFilter(field_name="review__review_request_id"),
            "review-id": IDFilter(field_name="review_id"),
            **(extra or {}),
            "user": CharFilter(field_name="review__user__username"),
            "is-reply": CharFilter(method=_is_reply),
            "last-updated-from": DateTimeFilter(field_name="timestamp", lookup_expr="gte"),
            "last-updated-to": DateTimeFilter(field_name="timestamp", lookup_expr="lt"),
        },
    )


class PublishedCommentsMixin:
    """A read-only list of comments gathered from many reviews (per file diff, per
    attachment or screenshot, or all of a kind): each comment links to its own URL under its
    review or reply, which its ``review_comment_resource`` / ``reply_comment_resource``
    build, and shows its review's ``public`` and ``user``. Used by the diff, file attachment
    and screenshot comment lists alike."""

    review_comment_resource: ClassVar[str] = ""
    reply_comment_resource: ClassVar[str] = ""
    uri_object_key = "comment_id"
    ordering = ("timestamp", "pk")
    uri_template_names = ()

    def _own_resource(self, obj: Any) -> WebAPIResource:
        from rbapi.registry import get_resource

        reply = obj.review.base_reply_to_id is not None
        return get_resource(self.reply_comment_resource if reply else self.review_comment_resource)

    def object_href(self, obj: Any, ctx: SerializeContext) -> str:
        return self._own_resource(obj).object_href(obj, ctx)

    def object_url_kwargs(self, obj: Any) -> dict[str, Any]:
        return self._own_resource(obj).object_url_kwargs(obj)

    def get_links(self, obj: Any, ctx: SerializeContext, out: Any) -> dict[str, Any]:
        from rbapi.links import link

        href = self.object_href(obj, ctx)
        links = {"self": link(href), "update": link(href, "PUT"), "delete": link(href, "DELETE")}
        links.update(out.links)
        return links

    def serialize_public_field(self, obj: Any, ctx: SerializeContext) -> bool:
        return obj.review.public

    def serialize_user_field(self, obj: Any, ctx: SerializeContext) -> Any:
        return obj.review.user

    def serialize_issue_status_field(self, obj: Any, ctx: SerializeContext) -> str:
        return obj.issue_status_name


# Diff comments: diffs.comment_resources. Screenshot comments:
# attachments.screenshot_resources. File attachment comments: attachments.comment_resources.
