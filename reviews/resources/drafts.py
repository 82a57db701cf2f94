"""``/api/review-requests/{review_request_id}/draft/``: the unpublished edits.

Only those who may edit the review request see or touch its draft. POST and PUT take the same
fields (POST answers 201, and reopens a discarded request first); list fields replace the
whole set; any ``public`` value publishes. Invalid input is 105 with ``fields`` and the current
``draft``, and changes nothing (spec: resources.md §2).
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException, form_error
from rbapi.exceptions import field_errors
from rbapi.fields import (
    STORED_TEXT_TYPES,
    ExtraDataField,
    Field,
    ObjectField,
    ObjectListField,
    RichTextField,
    SerializeContext,
    apply_text_type,
    choice_message,
)
from rbapi.inputs import CharField, RBSerializer, validated
from rbapi.parsers import as_id, parse_comma_list
from rbapi.resources import WebAPIResource
from reviews.models import Group, ReviewRequest, ReviewRequestDraft, sort_bugs
from reviews.services import DraftChanges, draft_discard, draft_update
from reviews.services.drafts import LIST_FIELDS

User = get_user_model()

SUMMARY_MAX = 300
NEW_REQUEST_CHANGEDESC = "Change descriptions cannot be used for drafts of new review requests"
TEXT_TYPE_FIELDS = (
    "text_type",
    "changedescription_text_type",
    "description_text_type",
    "testing_done_text_type",
)


def _truncate_summary(summary: str) -> str:
    """Review Board cuts an over-long summary at its last sentence end within the limit."""
    if len(summary) <= SUMMARY_MAX:
        return summary
    cut = summary[:SUMMARY_MAX]
    stop = cut.rfind(".")
    return cut[: stop + 1] if stop > 0 else cut


def _names(raw: Any) -> list[str]:
    """Review Board splits these lists on commas and spaces."""
    return parse_comma_list(str(raw).replace(" ", ","))


class DraftInput(RBSerializer):
    """Every draft field of a POST or PUT, checked at once (105 naming each bad field).

    Context: ``draft`` (the draft as it is under the review request's lock) and ``user``.
    Lookups see only what the user may see: an invite-only group or a hidden review request is
    unknown to outsiders. Review Board reports unknown names as the field's list of them.
    """

    extra_data = True
    # Review Board keeps the summary as sent, surrounding spaces included.
    summary = CharField(required=False, allow_blank=True, trim_whitespace=False)
    branch = CharField(required=False, allow_blank=True)
    bugs_closed = CharField(required=False, allow_blank=True, trim_whitespace=False)
    commit_id = CharField(required=False, allow_blank=True)
    target_people = CharField(required=False, allow_blank=True, trim_whitespace=False)
    target_groups = CharField(required=False, allow_blank=True, trim_whitespace=False)
    depends_on = CharField(required=False, allow_blank=True, trim_whitespace=False)
    submitter = CharField(required=False, allow_blank=True, trim_whitespace=False)

    def validate_summary(self, summary: str) -> str:
        if "\n" in summary or "\r" in summary:
            raise serializers.ValidationError(["The summary can't contain a newline"])
        return _truncate_summary(summary)

    def validate_bugs_closed(self, raw: str) -> str:
        return ",".join(sort_bugs(raw))

    def validate_commit_id(self, raw: str) -> str | None:
        return raw or None

    def validate_target_people(self, raw: str) -> list:
        return self._lookup(User.objects.all(), "username__iexact", raw)

    def validate_target_groups(self, raw: str) -> list:
        groups = Group.objects.accessible(self.context["user"], visible_only=False)
        return self._lookup(groups, "name__iexact", raw)

    def validate_depends_on(self, raw: str) -> list:
        user = self.context["user"]
        editor = user.is_superuser or user.has_perm("reviews.can_edit_reviewrequest")
        visible = ReviewRequest.objects.accessible(user, show_all_unpublished=editor)
        found, missing = [], []
        for value in _names(raw):
            match = visible.filter(pk=as_id(value)).first() if as_id(value) else None
            if match is None or match.pk == self.context["draft"].review_request_id:
                missing.append(value)
            else:
                found.append(match)
        if missing:
            raise serializers.ValidationError(missing)
        return found

    def validate_submitter(self, raw: str) -> Any:
        names = parse_comma_list(raw)
        user = User.objects.filter(username=names[0]).first() if len(names) == 1 else None
        if user is None:
            raise serializers.ValidationError([f'"{raw}" is not a valid user'])
        return user

    @staticmethod
    def _lookup(queryset: Any, lookup: str, raw: str) -> list:
        found, missing = [], []
        for name in _names(raw):
            match = queryset.filter(**{lookup: name}).first()
            if match is None:
                missing.append(name)
            elif match not in found:
                found.append(match)
        if missing:
            raise serializers.ValidationError(missing)
        return found


def check_text_types(data: Any) -> None:
    """The text types are plain choices that Review Board checks before anything else (the
    review request, the rights): a bad one is 105 naming it, without the draft."""
    problems = {
        name: [choice_message(str(data[name]), STORED_TEXT_TYPES)]
        for name in TEXT_TYPE_FIELDS
        if name in data and str(data[name]) not in STORED_TEXT_TYPES
    }
    if problems:
        raise form_error(problems)


def draft_changes(draft: ReviewRequestDraft, data: Any, user: Any) -> DraftChanges:
    """The validated edits of ``draft`` from request ``data``, or 105 with every bad field."""
    problems: dict[str, Any] = {}
    try:
        values = validated(DraftInput, data, draft=draft, user=user, extra_data=draft.extra_data)
    except serializers.ValidationError as exc:
        problems.update(exc.detail)
        values = {}
    changes = DraftChanges(extra_data_fields=values.pop("extra_data_fields", None))
    for name in LIST_FIELDS:
        if name in values:
            changes.lists[name] = values.pop(name)
    if "submitter" in values:
        changes.values["owner"] = values.pop("submitter")
    changes.values.update(values)
    for name in ("description", "testing_done"):
        probe = copy.copy(draft)
        try:
            for attr in apply_text_type(probe, name, data):
                changes.values[attr] = getattr(probe, attr)
        except WebAPIException as exc:
            problems.update(exc.fields or {})
    # The legacy ``text_type`` also sets the pending change description's type, once there is
    # one (Review Board: a published request's draft).
    legacy_type = "text_type" in data and draft.changedesc is not None
    if "changedescription" in data or "changedescription_text_type" in data or legacy_type:
        _changedescription(draft, data, changes, problems)
    if problems:
        raise serializers.ValidationError(problems)
    return changes


def _changedescription(
    draft: ReviewRequestDraft, data: Any, changes: DraftChanges, problems: dict[str, Any]
) -> None:
    changedesc = draft.changedesc
    if changedesc is None:
        problems["changedescription"] = [NEW_REQUEST_CHANGEDESC]
        return
    probe = copy.copy(changedesc)
    renamed = {"changedescription": "text", "changedescription_text_type": "text_type"}
    fields = {renamed[key]: value for key, value in data.items() if key in renamed}
    if "text_type" not in fields and "text_type" in data:
        fields["text_type"] = data["text_type"]
    try:
        changed = apply_text_type(probe, "text", fields)
    except WebAPIException as exc:
        problems["changedescription_text_type"] = next(iter(exc.fields.values()))
        return
    for attr in changed:
        changes.changedesc[attr] = getattr(probe, attr)


class DraftResource(WebAPIResource):
    name = "draft"
    policy_id = "review_request_draft"
    singleton = True
    mimetype_item_resource_name = "review-request-draft"
    uri_template_names = ("draft", "review_request_draft")
    item_methods = ("GET", "POST", "PUT", "DELETE")
    item_child_resources = ("draft_diff", "draft_file_attachment", "draft_screenshot")
    fields = (
        Field("id"),
        ObjectField("review_request", resource="review_request"),
        Field("last_updated"),
        Field("summary"),
        RichTextField("description"),
        RichTextField("testing_done"),
        Field("branch"),
        Field("bugs_closed"),
        Field("commit_id"),
        ObjectListField("depends_on", resource="review_request"),
        ObjectListField("target_groups", resource="group"),
        ObjectListField("target_people", resource="user"),
        RichTextField(
            "changedescription",
            source="changedescription",
            rich_text_source="changedescription_rich_text",
        ),
        Field("public"),
        ObjectField("submitter", resource="user"),
        Field("text_type"),
        ExtraDataField(),
    )

    model = ReviewRequestDraft

    def get_queryset(
        self, request: Request, *, parent: Any = None, is_list: bool = False
    ) -> QuerySet:
        """The draft, for those who may edit the review request (so expanding ``draft`` never
        shows it to anyone else)."""
        queryset = ReviewRequestDraft.objects.filter(review_request=parent)
        if not parent.is_mutable_by(request.user):
            return queryset.none()
        return queryset

    def lookup_object(
        self, request: Request, url_kwargs: dict[str, Any], parent: ReviewRequest
    ) -> ReviewRequestDraft:
        draft = ReviewRequestDraft.objects.filter(review_request=parent).first()
        if draft is None:
            # Only those who may edit the request learn whether a draft exists.
            if not parent.is_mutable_by(request.user):
                raise self.no_access_error(request)
            raise WebAPIException(errors.DOES_NOT_EXIST)
        return draft

    def parent_of(self, obj: ReviewRequestDraft) -> ReviewRequest:
        return obj.review_request

    # --- fields --------------------------------------------------------------------------------
    def serialize_bugs_closed_field(self, obj: ReviewRequestDraft, ctx: SerializeContext):
        return obj.get_bugs()

    def serialize_public_field(self, obj: Any, ctx: SerializeContext) -> bool:
        return False

    def serialize_text_type_field(self, obj: Any, ctx: SerializeContext) -> None:
        return None

    def serialize_submitter_field(self, obj: ReviewRequestDraft, ctx: SerializeContext):
        return obj.owner or obj.review_request.submitter

    # --- writes --------------------------------------------------------------------------------
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(request, kwargs, created_status=201)

    def put(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._save(request, kwargs, created_status=200)

    def _save(
        self, request: Request, url_kwargs: dict[str, Any], *, created_status: int
    ) -> Response:
        """One service call: reopen (POST on a discarded request), edit, publish. Invalid
        input is decided on the draft as it is under the lock and leaves everything as it
        was, the reopening included; the 105 carries the current draft."""
        check_text_types(request.data)
        review_request = self.get_parent_object(request, url_kwargs)
        if not review_request.is_mutable_by(request.user):
            raise self.no_access_error(request)

        def validate(draft: ReviewRequestDraft) -> DraftChanges:
            try:
                return draft_changes(draft, request.data, request.user)
            except serializers.ValidationError as exc:
                ctx = self.serialize_context(request, url_kwargs)
                raise WebAPIException(
                    errors.INVALID_FORM_DATA,
                    fields=field_errors(exc.detail),
                    extra={"draft": self.serialize_object(draft, ctx)},
                ) from None

        result = draft_update(
            review_request=review_request,
            user=request.user,
            validate=validate,
            reopen=request.method == "POST",
            # Review Board tests the raw value: any non-empty ``public`` publishes.
            publish=bool(request.data.get("public")),
        )
        status = 200 if result.published else created_status
        return self.item_response(request, result.draft, url_kwargs, status=status)

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object(request, kwargs)
        draft_discard(draft=draft)
        return Response(status=204)
