"""``/api/review-requests/{review_request_id}/draft/``: the unpublished edits.

Only those who may edit the review request see or touch its draft. POST and PUT take the same
fields (POST answers 201, and reopens a discarded request first); list fields replace the
whole set; any ``public`` value publishes. Invalid input is 105 with ``fields`` and the current
``draft``, and changes nothing (spec: resources.md §2).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from rbapi import errors
from rbapi.errors import WebAPIException
from rbapi.extra_data import apply_extra_data_changes
from rbapi.fields import (
    ExtraDataField,
    Field,
    ObjectField,
    ObjectListField,
    RichTextField,
    SerializeContext,
    apply_text_type,
)
from rbapi.parsers import as_id, parse_comma_list
from rbapi.resources import WebAPIResource
from reviews.models import Group, Repository, ReviewRequest, ReviewRequestDraft, sort_bugs
from reviews.services import (
    commit_id_taken,
    draft_discard,
    draft_get_or_create,
    draft_update,
    review_request_publish,
    review_request_reopen,
)

User = get_user_model()

SUMMARY_MAX = 300
NEW_REQUEST_CHANGEDESC = "Change descriptions cannot be used for drafts of new review requests"


def _truncate_summary(summary: str) -> str:
    """Review Board cuts an over-long summary at its last sentence end within the limit."""
    if len(summary) <= SUMMARY_MAX:
        return summary
    cut = summary[:SUMMARY_MAX]
    stop = cut.rfind(".")
    return cut[: stop + 1] if stop > 0 else cut


class DraftInput:
    """Parses and checks every draft field of a request at once, collecting 105 messages."""

    def __init__(self, draft: ReviewRequestDraft, data: Any, user: Any) -> None:
        self.draft = draft
        self.data = data
        self.user = user
        self.errors: dict[str, list[str]] = {}
        self.values: dict[str, Any] = {}
        self.lists: dict[str, list] = {}
        self.changedesc: dict[str, Any] = {}

    def parse(self) -> None:
        data = self.data
        if "summary" in data:
            summary = data["summary"].strip()
            if "\n" in summary or "\r" in summary:
                self.errors["summary"] = ["The summary can't contain a newline"]
            self.values["summary"] = _truncate_summary(summary)
        for name in ("branch",):
            if name in data:
                self.values[name] = data[name].strip()
        if "bugs_closed" in data:
            self.values["bugs_closed"] = ",".join(sort_bugs(data["bugs_closed"]))
        if "commit_id" in data:
            self._commit_id(data["commit_id"].strip() or None)
        for name in ("description", "testing_done"):
            self._rich_text(name)
        if "target_people" in data:
            self.lists["target_people"] = self._lookup(
                "target_people", User.objects.all(), "username__iexact", data["target_people"]
            )
        if "target_groups" in data:
            # Only groups the user may see: an invite-only group is unknown to outsiders.
            groups = Group.objects.accessible(self.user, visible_only=False)
            self.lists["target_groups"] = self._lookup(
                "target_groups", groups, "name__iexact", data["target_groups"]
            )
        if "depends_on" in data:
            self._depends_on(data["depends_on"])
        if "submitter" in data:
            self._submitter(data["submitter"])
        if "changedescription" in data or "changedescription_text_type" in data:
            self._changedescription()
        try:
            self.values["extra_data"] = apply_extra_data_changes(self.draft.extra_data, data)
        except WebAPIException as exc:
            self.errors.update(exc.fields or {})

    def _rich_text(self, name: str) -> None:
        probe = type("Probe", (), {})()
        setattr(probe, name, getattr(self.draft, name))
        setattr(probe, f"{name}_rich_text", getattr(self.draft, f"{name}_rich_text"))
        try:
            changed = apply_text_type(probe, name, self.data)
        except WebAPIException as exc:
            self.errors.update(exc.fields or {})
            return
        for attr in changed:
            self.values[attr] = getattr(probe, attr)

    def _lookup(self, field: str, queryset: Any, lookup: str, raw: str) -> list:
        found, missing = [], []
        for name in parse_comma_list(raw.replace(" ", ",")):
            match = queryset.filter(**{lookup: name}).first()
            if match is None:
                missing.append(name)
            elif match not in found:
                found.append(match)
        if missing:
            self.errors[field] = missing
        return found

    def _depends_on(self, raw: str) -> None:
        user = self.user
        editor = user.is_superuser or user.has_perm("reviews.can_edit_reviewrequest")
        visible = ReviewRequest.objects.accessible(user, show_all_unpublished=editor)
        found, missing = [], []
        for value in parse_comma_list(raw.replace(" ", ",")):
            # Only review requests the user may see: a hidden one is unknown to them.
            match = visible.filter(pk=as_id(value)).first() if as_id(value) else None
            if match is None or match.pk == self.draft.review_request_id:
                missing.append(value)
            else:
                found.append(match)
        if missing:
            self.errors["depends_on"] = missing
        self.lists["depends_on"] = found

    def _submitter(self, raw: str) -> None:
        names = parse_comma_list(raw)
        user = User.objects.filter(username=names[0]).first() if len(names) == 1 else None
        if user is None:
            self.errors["submitter"] = [f'"{raw}" is not a valid user']
        else:
            self.values["owner"] = user

    def _commit_id(self, commit_id: str | None) -> None:
        repository: Repository | None = self.draft.review_request.repository
        if commit_id_taken(repository, commit_id, exclude_pk=self.draft.review_request_id):
            raise WebAPIException(errors.COMMIT_ID_ALREADY_EXISTS)
        self.values["commit_id"] = commit_id

    def _changedescription(self) -> None:
        changedesc = self.draft.changedesc
        if changedesc is None:
            self.errors["changedescription"] = [NEW_REQUEST_CHANGEDESC]
            return
        probe = type("Probe", (), {"text": changedesc.text, "rich_text": changedesc.rich_text})()
        renamed = {"changedescription": "text", "changedescription_text_type": "text_type"}
        data = {renamed[key]: value for key, value in self.data.items() if key in renamed}
        try:
            changed = apply_text_type(probe, "text", data)
        except WebAPIException as exc:
            self.errors["changedescription_text_type"] = next(iter(exc.fields.values()))
            return
        for attr in changed:
            self.changedesc[attr] = getattr(probe, attr)


class DraftResource(WebAPIResource):
    name = "draft"
    policy_id = "review_request_draft"
    singleton = True
    mimetype_item_resource_name = "review-request-draft"
    uri_template_names = ("draft", "review_request_draft")
    item_methods = ("GET", "POST", "PUT", "DELETE")
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
        review_request = self.get_parent_object(request, url_kwargs)
        if not review_request.is_mutable_by(request.user):
            raise self.no_access_error(request)
        # Reopening (POST on a discarded request) and the edit succeed or fail together:
        # invalid input leaves the request as it was.
        with transaction.atomic():
            if request.method == "POST" and review_request.status == ReviewRequest.DISCARDED:
                review_request = review_request_reopen(
                    review_request=review_request, user=request.user
                )
            draft = draft_get_or_create(review_request=review_request)
            form = DraftInput(draft, request.data, request.user)
            form.parse()
            if form.errors:
                ctx = self.serialize_context(request, url_kwargs)
                raise WebAPIException(
                    errors.INVALID_FORM_DATA,
                    fields=form.errors,
                    extra={"draft": self.serialize_object(draft, ctx)},
                )
            draft = draft_update(
                draft=draft, values=form.values, lists=form.lists, changedesc=form.changedesc
            )
        draft = ReviewRequestDraft.objects.get(pk=draft.pk)
        response = self.item_response(request, draft, url_kwargs, status=created_status)
        # Review Board tests the raw value: any non-empty ``public`` publishes.
        if request.data.get("public"):
            review_request_publish(review_request=review_request, user=request.user)
            response.status_code = 200
        return response

    def delete(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object(request, kwargs)
        draft_discard(draft=draft)
        return Response(status=204)
