"""``/api/extensions/`` and Review Bot's review resource mounted under its extension item.

The extension list and items show what ``extensions.catalog`` lists (login required; anonymous
103, unknown class name 100: golden 173-175); PUT, by administrators, may only confirm that an
extension is enabled, since rbapi switches them in its settings. An extension item links to
the API resources mounted under it, which never appear in the root's ``uri_templates`` (spec:
code-and-files.md §12, mechanics.md "extension resources").

``review-bot-reviews/`` is the shim Review Bot's worker posts to: ``review_request_id``, the
review's text, and its diff and general comments as JSON lists. The review is an ordinary one,
by the caller, written and published in one service call (``extensions.services``), so it is
seen, counted and answered like any other. Anyone who may review the review request may post
one: it grants nothing that ``reviews/`` plus the comment resources and a publish would not.
``to_owner_only`` is accepted and has no effect (rbapi sends no e-mail). A GET lists the
caller's own published reviews.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from diffs.comment_resources import NOT_A_FILEDIFF
from diffs.models import FileDiff
from extensions.catalog import Extension, get_extension, installed_extensions
from extensions.services import (
    BotDiffComment,
    BotGeneralComment,
    BotReview,
    review_bot_review_create,
)
from rbapi import errors
from rbapi.authentication import api_token_of
from rbapi.errors import WebAPIException, form_error
from rbapi.fields import Field, SerializeContext
from rbapi.inputs import (
    BooleanField,
    CharField,
    IntegerField,
    RBFieldMixin,
    RBSerializer,
    validated,
)
from rbapi.links import link
from rbapi.policy import blocked_object_ids
from rbapi.registry import get_resource
from rbapi.resources import WebAPIResource
from reviews.models import Review, ReviewRequest
from reviews.resources.reviews import ReviewResource

# Review Board's message when an extension cannot be switched off; rbapi says why.
NOT_SWITCHABLE = "rbapi's extensions are switched on and off in its settings, not through the API"
NOT_A_JSON_LIST = "Must be a JSON list of objects"


class ExtensionResource(WebAPIResource):
    name = "extension"
    uri_object_key = "extension_name"
    # Python class paths: dotted names.
    uri_object_key_regex = r"[A-Za-z0-9_.]+"
    model_object_key = "class_name"
    login_required = True
    item_methods = ("GET", "PUT")
    item_child_resources = ("review_bot_review",)
    fields = (
        Field("author"),
        Field("author_url"),
        Field("can_disable"),
        Field("can_enable"),
        Field("class_name"),
        Field("enabled"),
        Field("installed"),
        Field("load_error"),
        Field("loadable"),
        Field("name"),
        Field("summary"),
        Field("version"),
    )

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> list[Extension]:
        return installed_extensions()

    def apply_token_policy(self, request: Request, queryset: Any) -> Any:
        """An API token policy names extensions by class name; a list leaves out those it
        may not read."""
        api_token = api_token_of(request)
        if api_token is None:
            return queryset
        blocked = blocked_object_ids(api_token.policy, self.policy_id, "GET")
        return [extension for extension in queryset if extension.class_name not in blocked]

    def lookup_object(self, request: Request, url_kwargs: dict[str, Any], parent: Any) -> Any:
        extension = get_extension(url_kwargs[self.uri_object_key])
        if extension is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return extension

    def get_links(self, obj: Extension, ctx: SerializeContext, out: Any) -> dict[str, Any]:
        """``self``, ``update`` and the extension's own resources (only those it mounts)."""
        links = super().get_links(obj, ctx, out)
        for child_name in set(self.item_child_resources) - set(obj.resources):
            links.pop(get_resource(child_name).link_name(), None)
        return links

    def has_modify_permissions(self, request: Request, obj: Extension) -> bool:
        return request.user.is_superuser

    def update(self, request: Request, obj: Extension, *, url_kwargs: dict[str, Any]) -> Response:
        """``enabled=1`` confirms the state; ``enabled=0`` is refused (108), as Review Board
        refuses to disable an extension that cannot be."""
        data = validated(ExtensionInput, request.data)
        if not data["enabled"]:
            raise WebAPIException(errors.DISABLE_EXTENSION_FAILED.with_message(NOT_SWITCHABLE))
        return self.item_response(request, obj, url_kwargs)


class ExtensionInput(RBSerializer):
    enabled = BooleanField()


class ReviewBotReviewResource(WebAPIResource):
    """Review Bot's reviews under its extension item."""

    name = "review_bot_review"
    uri_object_key = "review_id"
    model = Review
    login_required = True
    list_methods = ("GET", "POST")
    # Extension resources are found from their extension, not from the root's templates.
    uri_template_names = ()
    uri_template_list_names = ()
    list_select_related = ("user", "review_request")
    ordering = ("timestamp", "pk")
    fields = ReviewResource.fields

    def get_parent_object(self, request: Request, url_kwargs: dict[str, Any]) -> Extension:
        """The extension in the URL, which must be the one that mounts this resource (any
        other is 100, as a URL no extension serves)."""
        extension = super().get_parent_object(request, url_kwargs)
        if self.name not in extension.resources:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return extension

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        user = request.user
        return Review.objects.filter(
            user=user,
            public=True,
            base_reply_to__isnull=True,
            review_request__in=ReviewRequest.objects.accessible(user).values("pk"),
        )

    def serialize_text_type_field(self, obj: Review, ctx: SerializeContext) -> None:
        return None

    def serialize_absolute_url_field(self, obj: Review, ctx: SerializeContext) -> str:
        return get_resource("review").serialize_absolute_url_field(obj, ctx)

    def get_link_title(self, obj: Review) -> str:
        return str(obj.pk)

    def get_related_links(self, obj: Review, ctx: SerializeContext) -> dict[str, Any]:
        """The same review where every client reads reviews."""
        return {"review": link(get_resource("review").object_href(obj, ctx))}

    def create(
        self, request: Request, *, parent: Extension, url_kwargs: dict[str, Any]
    ) -> Response:
        data = validated(ReviewBotReviewInput, request.data)
        review_request = ReviewRequest.objects.filter(pk=data["review_request_id"]).first()
        if review_request is None:
            raise WebAPIException(errors.DOES_NOT_EXIST)
        if not review_request.is_accessible_by(request.user):
            raise self.no_access_error(request)
        content = BotReview(
            body_top=data.get("body_top", ""),
            body_top_rich_text=data.get("body_top_rich_text", False),
            body_bottom=data.get("body_bottom", ""),
            body_bottom_rich_text=data.get("body_bottom_rich_text", False),
            ship_it=data.get("ship_it", False),
            diff_comments=_diff_comments(review_request, data.get("diff_comments", [])),
            general_comments=[
                BotGeneralComment(**entry) for entry in data.get("general_comments", [])
            ],
        )
        review = review_bot_review_create(
            review_request=review_request, user=request.user, content=content
        )
        return self.item_response(request, review, url_kwargs, status=201)


def _diff_comments(
    review_request: ReviewRequest, entries: list[dict[str, Any]]
) -> list[BotDiffComment]:
    """The diff comments, each on a file diff of a published revision of ``review_request``
    (one query for all of them)."""
    ids = {entry["filediff_id"] for entry in entries}
    filediffs = {
        filediff.pk: filediff
        for filediff in FileDiff.objects.filter(
            pk__in=ids, diffset__review_request=review_request, diffset__public=True
        )
    }
    problems = [
        f"Comment {number}: filediff_id: {NOT_A_FILEDIFF}"
        for number, entry in enumerate(entries, 1)
        if entry["filediff_id"] not in filediffs
    ]
    if problems:
        raise form_error({"diff_comments": problems})
    return [
        BotDiffComment(
            filediff=filediffs[entry["filediff_id"]],
            first_line=entry["first_line"],
            num_lines=entry["num_lines"],
            text=entry["text"],
            issue_opened=entry["issue_opened"],
            rich_text=entry["rich_text"],
        )
        for entry in entries
    ]


class GeneralCommentEntry(RBSerializer):
    """One entry of ``general_comments``."""

    text = CharField(trim_whitespace=False)
    issue_opened = BooleanField(required=False, default=False)
    rich_text = BooleanField(required=False, default=False)


class DiffCommentEntry(GeneralCommentEntry):
    """One entry of ``diff_comments``: ``first_line`` and ``num_lines`` are rows of the diff
    viewer, as Review Bot works them out from the diff data."""

    filediff_id = IntegerField(min_value=1)
    first_line = IntegerField(min_value=0)
    num_lines = IntegerField(min_value=0)


class JSONListField(RBFieldMixin, serializers.Field):
    """A JSON list of objects (sent as a JSON string in a form field), each checked by
    ``entry``; every bad entry is named in one message list (``Comment N: field: ...``)."""

    def __init__(self, *, entry: type[RBSerializer], **kwargs: Any) -> None:
        self.entry = entry
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else []
            except ValueError:
                raise serializers.ValidationError(NOT_A_JSON_LIST) from None
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise serializers.ValidationError(NOT_A_JSON_LIST)
        values: list[dict[str, Any]] = []
        problems: list[str] = []
        for number, item in enumerate(data, 1):
            entry = self.entry(data=item)
            if entry.is_valid():
                values.append(dict(entry.validated_data))
            else:
                problems += [
                    f"Comment {number}: {name}: {message}"
                    for name, messages in entry.errors.items()
                    for message in messages
                ]
        if problems:
            raise serializers.ValidationError(problems)
        return values

    def to_representation(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return value


class ReviewBotReviewInput(RBSerializer):
    """What Review Bot's worker posts (spec: code-and-files.md §12)."""

    review_request_id = IntegerField(min_value=1)
    body_top = CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_top_rich_text = BooleanField(required=False)
    body_bottom = CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_bottom_rich_text = BooleanField(required=False)
    ship_it = BooleanField(required=False)
    diff_comments = JSONListField(entry=DiffCommentEntry, required=False)
    general_comments = JSONListField(entry=GeneralCommentEntry, required=False)
    # Accepted for Review Bot's sake; rbapi sends no e-mail, so it changes nothing.
    to_owner_only = BooleanField(required=False)
